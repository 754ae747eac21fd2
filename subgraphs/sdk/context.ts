// What every resolver receives, and the hook that lets an extension add to it.
import type { IncomingHttpHeaders } from 'node:http';
import type { ExtensionAuth } from './auth.js';
import type { ActualCost } from './cost.js';
import type { LoaderRegistry } from './loaders.js';

/** The context the SDK builds for every GraphQL request. */
export interface ExtensionContext {
  /** Name of the extension serving the request (for logs and error messages). */
  readonly extension: string;
  /** This request's DataLoaders; see LoaderRegistry.get. */
  readonly loaders: LoaderRegistry;
  /** Who is asking, from the verified gateway token (anonymous when listen ran with `auth: false`). */
  readonly auth: ExtensionAuth;
  /** The operation's actual cost so far and its budget (header `graft-cost-budget`). */
  readonly cost: ActualCost;
}

/** The parts of the HTTP request a context factory may look at. */
export interface ExtensionRequest {
  readonly method: string;
  /** Path and query string, e.g. "/graphql?query=..." */
  readonly url: string;
  /** Lower-cased header names, as node:http gives them (e.g. `authorization`). */
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
}

/**
 * Builds the request's context from the SDK's base context. Runs once per GraphQL
 * operation, after the gateway token was verified and before execution; throwing a
 * GraphQLError with `extensions.http.status` (e.g. 403) refuses the request with that
 * status. The result must keep the base's `auth` and `cost` (spread `...base`).
 */
export type ContextFactory<TContext extends ExtensionContext> = (
  base: ExtensionContext,
  request: ExtensionRequest,
) => TContext | Promise<TContext>;
