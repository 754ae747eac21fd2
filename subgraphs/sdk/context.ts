// What every resolver receives, and the hook that lets an extension (or later the SDK
// itself: gateway-token verification, graphql-shield rules, cost counting) add to it.
import type { IncomingHttpHeaders } from 'node:http';
import type { LoaderRegistry } from './loaders.js';

/** The context the SDK builds for every GraphQL request. */
export interface ExtensionContext {
  /** Name of the extension serving the request (for logs and error messages). */
  readonly extension: string;
  /** This request's DataLoaders; see LoaderRegistry.get. */
  readonly loaders: LoaderRegistry;
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
 * operation, before execution; throwing a GraphQLError with
 * `extensions.http.status` (e.g. 401) refuses the request with that status.
 */
export type ContextFactory<TContext extends ExtensionContext> = (
  base: ExtensionContext,
  request: ExtensionRequest,
) => TContext | Promise<TContext>;
