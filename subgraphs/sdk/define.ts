// defineExtension: turns an extension's SDL and resolvers into a Federation 2 subgraph
// schema (built once, at definition time, so SDL mistakes fail on import) and a
// listen() that serves it over HTTP with per-request loaders and stats, behind the
// gateway-token check, with the SDL's access directives enforced per resolver and the
// actual cost counted against the gateway's budget.
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import {
  anonymousAuth,
  bearerToken,
  createGatewayTokenVerifier,
  resolveGatewayAuth,
  type ExtensionAuth,
  type GatewayAuthOptions,
} from './auth.js';
import {
  AccessControl,
  assertPoliciesDefined,
  buildAccessPlan,
  guardEntityReferences,
  type ExtensionPolicies,
} from './authorization.js';
import type { ContextFactory, ExtensionContext, ExtensionRequest } from './context.js';
import { CostMeter, installCostAccounting } from './cost.js';
import { readSdlDirectives } from './directives.js';
import { GRAPHQL_PATH, createRequestHandler } from './http.js';
import { LoaderRegistry } from './loaders.js';
import { assertResolversMatchSchema, toResolverMap, type ExtensionResolvers } from './resolvers.js';
import { enforceAccessPlan } from './shield.js';
import { createExtensionStats, type ExtensionStats } from './stats.js';
import { stderrLogger } from './logger.js';

interface ExtensionDefinitionFields<TContext extends ExtensionContext> {
  /** DNS label; the same name as in graft.json. */
  name: string;
  /** Federation 2 SDL (with `extend schema @link(...)`). */
  typeDefs: string | DocumentNode;
  resolvers: ExtensionResolvers;
  /** Apollo Server plugins. */
  plugins?: ApolloServerPlugin<TContext>[];
  /**
   * The named rules the SDL's `@policy(policies: [[...]])` refers to. Every name the SDL
   * uses must be defined here, or defineExtension throws.
   */
  policies?: ExtensionPolicies<TContext>;
}

/**
 * `context` is optional when resolvers need only the base ExtensionContext and
 * required when TContext adds fields, so a declared field is always actually set.
 */
export type ExtensionDefinition<TContext extends ExtensionContext> = ExtensionDefinitionFields<TContext> &
  (ExtensionContext extends TContext ? { context?: ContextFactory<TContext> } : { context: ContextFactory<TContext> });

export interface ListenOptions {
  /** TCP port; 0 (the default) picks a free ephemeral port. */
  port?: number;
  /** Interface to bind; defaults to loopback. */
  host?: string;
  /**
   * How gateway tokens are verified. When omitted: GRAFT_GATEWAY_JWKS_URL and
   * GRAFT_GATEWAY_ISSUER (default "graft-gateway") from the environment, and listen()
   * refuses to start when neither is set. `false` turns verification off (tests and local
   * experiments only; every request then runs as anonymous) and logs a warning.
   */
  auth?: GatewayAuthOptions;
}

export interface RunningExtension {
  readonly name: string;
  /** http://host:port/graphql */
  readonly url: string;
  readonly port: number;
  readonly stats: ExtensionStats;
  /** Stops accepting requests, lets in-flight ones finish (up to a grace period), closes sockets. Idempotent. */
  close(): Promise<void>;
}

export interface Extension {
  readonly name: string;
  readonly schema: GraphQLSchema;
  listen(options?: ListenOptions): Promise<RunningExtension>;
}

// The manifest's JSON Schema is the one definition of an extension name (the gateway's
// manifest check reads it too); the SDK reads the file rather than the gateway's manifest
// module, which would load ajv into every extension process.
const EXTENSION_NAME = new RegExp((createRequire(import.meta.url)('../../schema/manifest.schema.json') as { properties: { name: { pattern: string } } }).properties.name.pattern);
const DEFAULT_HOST = '127.0.0.1';
/** How long close() waits for in-flight requests before cutting connections. */
const STOP_GRACE_PERIOD_MS = 5_000;

function urlFor(host: string, port: number): string {
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `http://${hostPart}:${port}${GRAPHQL_PATH}`;
}

function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

export function defineExtension<TContext extends ExtensionContext = ExtensionContext>(
  definition: ExtensionDefinition<TContext>,
): Extension {
  const { name, resolvers, plugins = [], policies = {} } = definition;
  if (!EXTENSION_NAME.test(name)) {
    throw new Error(`Extension name "${name}" must be a DNS label (lower-case letters, digits and '-', starting with a letter).`);
  }
  const typeDefs = typeof definition.typeDefs === 'string' ? parse(definition.typeDefs) : definition.typeDefs;
  const directives = readSdlDirectives(typeDefs);
  assertPoliciesDefined(directives, policies, name);
  const logger = stderrLogger(name);
  const access = new AccessControl(name, policies, logger);
  const guardedResolvers = guardEntityReferences(resolvers, directives, access);
  const subgraphSchema = buildSubgraphSchema([{ typeDefs, resolvers: toResolverMap(guardedResolvers) }]);
  assertResolversMatchSchema(subgraphSchema, resolvers, name);
  // Access rules per resolver, then cost accounting outermost (a refused field costs nothing).
  const schema = enforceAccessPlan(subgraphSchema, buildAccessPlan(subgraphSchema, directives), access, name);
  installCostAccounting(schema, directives);
  // Without a factory TContext is ExtensionContext itself (enforced by ExtensionDefinition).
  const contextFactory: ContextFactory<TContext> =
    definition.context ?? ((base: ExtensionContext) => base as TContext);

  async function listen(options: ListenOptions = {}): Promise<RunningExtension> {
    const { port = 0, host = DEFAULT_HOST } = options;
    const authOptions = resolveGatewayAuth(options.auth, process.env, name);
    let authenticate: (authorization: string | undefined) => Promise<ExtensionAuth>;
    if (authOptions === false) {
      logger.warn('auth: false, gateway tokens are NOT verified and every request runs as anonymous (tests and local experiments only).');
      authenticate = async () => anonymousAuth();
    } else {
      const verify = createGatewayTokenVerifier(authOptions, name);
      authenticate = (authorization) => verify(bearerToken(authorization));
    }
    const stats = createExtensionStats();
    // keepAlive: TCP keep-alive on the gateway's pooled connections (HTTP keep-alive is on by default).
    const httpServer = createServer({ keepAlive: true });
    const apollo = new ApolloServer<TContext>({
      schema,
      introspection: true,
      includeStacktraceInErrorResponses: false,
      logger,
      // Lifecycle belongs to whoever called listen() (runExtensionProcess handles signals);
      // Apollo's own handler would re-raise SIGTERM and exit 143 instead of 0.
      stopOnTerminationSignals: false,
      plugins: [
        ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: STOP_GRACE_PERIOD_MS }),
        // A subgraph is called by the gateway, not browsed: no HTML sandbox page.
        ApolloServerPluginLandingPageDisabled(),
        // Apollo Studio's ftv1 traces are not Graft's telemetry, and they would carry
        // resolver timings and error messages to whoever sends the trace header.
        ApolloServerPluginInlineTraceDisabled(),
        ...plugins,
      ],
    });
    await apollo.start();

    const createContext = async (request: ExtensionRequest, auth: ExtensionAuth, budget: number | undefined): Promise<TContext> => {
      const base: ExtensionContext = { extension: name, loaders: new LoaderRegistry(stats), auth, cost: new CostMeter(budget, name) };
      const context = await contextFactory(base, request);
      // The SDK's rules read these two; a factory must pass them on untouched.
      if (context.auth !== base.auth || context.cost !== base.cost) {
        throw new Error(`Extension "${name}": the context factory must keep base.auth and base.cost (return { ...base, ... }).`);
      }
      return context;
    };
    httpServer.on('request', createRequestHandler({ name, apollo, stats, authenticate, createContext }));

    let address: AddressInfo;
    try {
      address = await listenOn(httpServer, port, host);
    } catch (error) {
      await apollo.stop();
      throw error;
    }

    let closing: Promise<void> | undefined;
    return {
      name,
      url: urlFor(host, address.port),
      port: address.port,
      stats,
      close() {
        // apollo.stop() runs the drain plugin, which closes the HTTP server.
        closing ??= apollo.stop();
        return closing;
      },
    };
  }

  return { name, schema, listen };
}
