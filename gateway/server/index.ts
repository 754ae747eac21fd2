// The running gateway: one fastify HTTP server with /graphql (Apollo Server 5 over
// GraftGateway), /admin (the registry's API) and /health. Nothing imports this folder
// except the CLI and the tests (DESIGN.md, layout).
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ApolloServer, HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { adminApi } from '../admin/index.js';
import { ExtensionKeys } from '../keys/index.js';
import { WebhookDispatcher } from '../webhooks/index.js';
import { ADMIN_UI_PREFIX, adminUi } from '../admin-ui/index.js';
import {
  ANONYMOUS,
  bearerToken,
  createTokenVerifier,
  loadOrCreateDevIssuer,
  signDevToken,
  type DevIssuer,
  type Principal,
  type TokenVerifier,
} from '../auth/index.js';
import { parseKeyEncryptionKey, type GraftConfig } from '../config/index.js';
import { GraftGateway, type SupergraphSnapshot } from '../engine/index.js';
import { GraftError, GraftErrorCode, isGraftError } from '../errors/index.js';
import { RegistryService, SYSTEM_ACTOR, type SupergraphHost } from '../publish/index.js';
import { observeRegistryWrites, type RegistryStore, type RegistryWrite } from '../registry/index.js';
import { costCheck, prepareEdgeGuard, type EdgeFacts, type OperationCheckFactory } from '../policy/index.js';
import { formatQueryLimitError, queryLimitParseOptions, queryLimitValidationRules } from '../limits/index.js';
import { ExtensionRuntimeTable, UpstreamTokenIssuer, createUpstreamAgent } from '../upstream/index.js';
import { checkSubgraphUrl } from '../netpolicy/index.js';
import { HealthMonitor, fetchServiceSdlOver, type ExtensionHealth } from '../health/index.js';
import { DirectiveRuntime, type BreakerOptions, type SandboxLimits } from '../directives/index.js';
import { GatewayTelemetry, createGraftLogger, startTracingFrom, type RequestTelemetry } from '../telemetry/index.js';
import { OperationRegistry, safelistPlugin } from '../operations/index.js';
import { UsageRecorder } from '../usage/index.js';
import { Readiness, readinessRoute } from '../readiness/index.js';
import { graphiql } from '../graphiql/index.js';
import { openConfiguredRegistry, RegistryLink, type RegistryStatus } from './registry-link.js';

/** What every resolver-side hook sees about the request. */
export interface GraftContext {
  requestId: string;
  principal: Principal;
  /** This request's telemetry record (gateway/telemetry). */
  telemetry?: RequestTelemetry;
  /** What the edge guard learned (the estimated cost), for telemetry. */
  edgeFacts?: EdgeFacts;
}

export interface GraftServer {
  /** e.g. http://127.0.0.1:4000 */
  readonly url: string;
  readonly registry: RegistryService;
  readonly gateway: GraftGateway;
  readonly devIssuer: DevIssuer | undefined;
  /** Mints the scoped tokens sent to extensions; its keys are at /.well-known/jwks.json. */
  readonly upstreamTokens: UpstreamTokenIssuer;
  readonly health: HealthMonitor;
  readonly logger: Logger;
  /** Metrics, the stats window, the per-request log line (gateway/telemetry). */
  readonly telemetry: GatewayTelemetry;
  /** Extension resolver directives: the sandbox, the breakers (gateway/directives). */
  readonly directives: DirectiveRuntime;
  /** This process's part in multi-process mode; undefined when it is the only process. */
  readonly role: ServerRole | undefined;
  /** GET /readiness: a supergraph served and `startupWork` done (gateway/readiness). */
  readonly readiness: Readiness;
  /** Whether this process leads (runs the health checks): its role's, or elected among replicas on PostgreSQL. */
  readonly isLeader: boolean;
  /** Whether the registry answers (shown by /health and graft_registry_up). */
  readonly registryStatus: RegistryStatus;
  /** Usage recording (gateway/usage); undefined when GRAFT_USAGE=0. */
  readonly usage: UsageRecorder | undefined;
  /**
   * Re-reads the registry if another process changed it (RegistryService.syncIfChanged):
   * what the registry poll runs, and what a worker runs when told of a change. Never
   * rejects (failures are logged); concurrent calls share one sync, plus one more after it.
   */
  syncRegistry(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A gateway process's part when several serve one port over one registry (GRAFT_WORKERS,
 * gateway/cluster). The cluster decides it; nothing below the server reads cluster state.
 */
export interface ServerRole {
  /** The worker's number, 1..N (kept by its replacement): /health, x-graft-worker, the metrics' `worker` label. */
  worker: number;
  /**
   * The leader runs what must run once for all workers: the active health checks (it
   * shares their statuses through `onHealthRound`) and registering GRAFT_OPERATIONS_DIR.
   */
  leader: boolean;
}

export interface StartGraftServerOptions {
  config: GraftConfig;
  /** Defaults to the registry config.registry names: PostgreSQL for a postgres:// URL, else SQLite in config.dataDir. */
  store?: RegistryStore;
  logger?: Logger;
  /** Extra per-operation checks at the edge (cost limits are added here). */
  checks?: OperationCheckFactory[];
  /**
   * false turns the edge policy (authorization, cost, query limits) off. For benchmarks
   * that measure its overhead only: there is no configuration switch for it.
   */
  edgePolicy?: boolean;
  /** The clock of the publish pipeline's deprecation rule (tests only). */
  clock?: () => Date;
  /** Sandbox limits and breaker of the resolver directives (defaults: gateway/directives). */
  directives?: { limits?: Partial<SandboxLimits>; breaker?: Partial<BreakerOptions> };
  /** Multi-process mode (gateway/cluster). Absent: the only process, which runs everything. */
  role?: ServerRole;
  /** After each registry write this process committed, so the other processes re-sync (gateway/cluster). */
  onRegistryChange?: (write: RegistryWrite) => void;
  /** The leader's health statuses after each round of checks, for the other workers' HealthMonitor.adopt. */
  onHealthRound?: (statuses: ExtensionHealth[]) => void;
  /** Start-up work done after the server listens (e.g. the example bootstrap): /readiness answers 503 until readiness.done(name) for each. */
  startupWork?: string[];
  /** GraphiQL in development mode (gateway/graphiql): whose dev token it pre-fills (default: subject "developer", no scopes), the query it opens with. */
  graphiql?: { user?: { subject: string; scopes: string[] }; defaultQuery?: string };
}

async function buildVerifier(config: GraftConfig, devIssuer: DevIssuer | undefined): Promise<TokenVerifier> {
  const { auth } = config;
  if (auth.jwksUrl || auth.jwksFile) {
    return createTokenVerifier({
      issuer: auth.issuer ?? '',
      audience: auth.audience,
      algorithms: auth.algorithms,
      clockToleranceSeconds: auth.clockToleranceSeconds,
      ...(auth.jwksUrl ? { jwksUrl: auth.jwksUrl } : { jwks: JSON.parse(await readFile(auth.jwksFile ?? '', 'utf8')) }),
    });
  }
  if (!devIssuer) throw new GraftError(GraftErrorCode.DEV_MODE_ONLY, 'No JWT keys are configured and the dev issuer is off.');
  return createTokenVerifier({
    issuer: devIssuer.issuer,
    audience: devIssuer.audience,
    algorithms: ['EdDSA'],
    clockToleranceSeconds: auth.clockToleranceSeconds,
    jwks: devIssuer.jwks,
  });
}

/**
 * Restores the codes of Graft's query-limit refusals (Apollo Server rewrites validation
 * errors to GRAPHQL_VALIDATION_FAILED) and strips what a client must never see: stack
 * traces and exception objects, from us or from subgraphs.
 */
function formatError(original: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const formatted = formatQueryLimitError(original, error);
  if (!formatted.extensions) return formatted;
  const { stacktrace: _stacktrace, exception: _exception, ...extensions } = formatted.extensions as Record<string, unknown>;
  return { ...formatted, extensions };
}

function sendGraphQLError(reply: FastifyReply, error: GraftError): FastifyReply {
  if (error.code === GraftErrorCode.UNAUTHENTICATED) void reply.header('www-authenticate', 'Bearer error="invalid_token"');
  return reply
    .code(error.httpStatus)
    .type('application/json; charset=utf-8')
    .send({ errors: [{ message: error.message, extensions: { code: error.code } }] });
}

export async function startGraftServer(options: StartGraftServerOptions): Promise<GraftServer> {
  // @apollo/gateway reports usage to Apollo's servers hourly unless told not to: Graft
  // sends nothing to third parties (set APOLLO_TELEMETRY_DISABLED=false to opt in).
  process.env['APOLLO_TELEMETRY_DISABLED'] ??= 'true';
  const { config } = options;
  const logger = options.logger ?? createGraftLogger({ level: config.logLevel });
  // OpenTelemetry: off unless the OTEL_* variables ask for it (config.telemetry.traces).
  const tracing = startTracingFrom(config.telemetry.traces);
  const { role, onRegistryChange } = options;
  // Without a role this is the only process: it runs the singletons itself (on PostgreSQL
  // the replicas elect their leader instead: RegistryLink).
  const fixedLeader = role?.leader ?? true;
  const openedStore = options.store ?? (await openConfiguredRegistry(config, logger));
  const store = onRegistryChange ? observeRegistryWrites(openedStore, onRegistryChange) : openedStore;
  // Signed webhooks: every process queues events in the registry, the leader sends them.
  const webhooks = new WebhookDispatcher({
    store,
    networkPolicy: config.networkPolicy,
    ...config.webhooks,
    onError: (error) => logger.error({ err: error }, 'webhook dispatcher failed'),
  });
  const devIssuer = config.mode === 'development' ? await loadOrCreateDevIssuer(config.dataDir) : undefined;
  const verifier = await buildVerifier(config, devIssuer);

  const runtime = new ExtensionRuntimeTable();
  const agent = createUpstreamAgent(config.networkPolicy);
  // On a shared registry with a key encryption key, one key set for every replica (kept in
  // the registry, sealed); else this process's key in its data dir.
  const keyEncryptionKey = config.upstreamKeyEncryptionKey ? parseKeyEncryptionKey(config.upstreamKeyEncryptionKey) : undefined;
  const sharedKeys = keyEncryptionKey && store.watchChanges ? { store, encryptionKey: keyEncryptionKey } : undefined;
  if (store.watchChanges && !sharedKeys) {
    logger.warn('GRAFT_KEY_ENCRYPTION_KEY is not set: this replica signs upstream tokens with its own key, which the other replicas do not publish. Set the same key on every replica to share one key set.');
  }
  const upstreamTokens = await UpstreamTokenIssuer.create({ issuer: config.upstreamIssuer, dataDir: config.dataDir, ...(sharedKeys ? { shared: sharedKeys } : {}) });
  const cost = costCheck({
    maxCost: config.cost.maxCost,
    defaultListSize: config.cost.defaultListSize,
    extensionMaxCost: (extension) => runtime.get(extension)?.maxCost,
  });
  const guardOptions = {
    mode: config.authorization.mode,
    policies: config.authorization.policies,
    checks: [cost, ...(options.checks ?? [])],
    tenants: runtime,
  };
  const edgePolicy = options.edgePolicy !== false;
  // Registered operations: the publish pipeline's usage check reads them from the store;
  // this index serves the safelist and the admin API.
  // (Loaded from the store by registry.loadActive below, and again on every sync.)
  const operations = new OperationRegistry({ store, apiSchema: () => gateway.current?.apiSchema, parseOptions: queryLimitParseOptions(config.limits) });
  // Usage: every resolved operation the telemetry sees is counted, and written off the request path.
  const usage = config.usage.enabled
    ? new UsageRecorder({
        store,
        logger: logger.child({ component: 'usage' }),
        flushMs: config.usage.flushMs,
        retentionDays: config.usage.retentionDays,
        // Compaction runs once for all the processes on the registry: in the leader.
        compacts: () => link.leader,
      }).start()
    : undefined;
  const telemetry: GatewayTelemetry = new GatewayTelemetry({
    logger,
    extensions: { names: () => runtime.names(), isRegistered: (name) => runtime.get(name) !== undefined },
    breakerOf: (name) => gateway.resilienceOf(name).breakerState,
    supergraph: () => gateway.current,
    maxOperations: config.telemetry.metricsMaxOperations,
    isKnownOperation: (name) => operations.byName(name) !== undefined,
    acceptClientTraceparent: config.telemetry.acceptClientTraceparent,
    metricsToken: config.telemetry.metricsToken,
    registryUp: () => link?.status.state !== 'down',
    ...(usage ? { onOperation: (operation) => usage.record(operation) } : {}),
  });
  // Each worker serves its own /metrics: the label tells their series apart.
  if (role) telemetry.metrics.registry.setDefaultLabels({ worker: String(role.worker) });
  const gatewayLogger = logger.child({ component: 'gateway' });
  // Extension resolver directives: their QuickJS sandbox, their result step, and the
  // operation directives Apollo Server must accept (gateway/directives, runtime.ts).
  const directives = await DirectiveRuntime.create({ ...options.directives, logger: logger.child({ component: 'directives' }) });
  const gateway = new GraftGateway({
    runtime,
    agent,
    upstream: { defaultTimeoutMs: config.upstream.defaultTimeoutMs, batching: config.upstream.batching, tokens: upstreamTokens, onFetch: telemetry.onFetch },
    resilience: config.upstream,
    ...(!edgePolicy
      ? {}
      : { prepareGuard: (supergraph: { sdl: string; apiSchema: GraphQLSchema }) => telemetry.traceGuard(prepareEdgeGuard(guardOptions, supergraph)) }),
    // Telemetry's step comes last (it reads the final errors). Other steps (resolver
    // directives) go before it, each wrapped in telemetry.traceResultStep(name, step) for its span.
    resultSteps: [telemetry.traceResultStep('directives', directives.resultStep), telemetry.traceResultStep('telemetry', telemetry.resultStep)],
    onBreakerChange: (extension, state) => webhooks.emit(state === 'opened' ? 'breaker.opened' : 'breaker.closed', { extension }),
    logger: {
      debug: (m) => gatewayLogger.debug(m),
      info: (m) => gatewayLogger.info(m),
      warn: (m) => gatewayLogger.warn(m),
      error: (m) => gatewayLogger.error(m),
    },
  });

  // Apollo Server needs a loaded gateway to start, so it starts with the first supergraph:
  // at boot when the registry has one, otherwise on the first publish.
  let apollo: ApolloServer<GraftContext> | undefined;
  let apolloStarting: Promise<void> | undefined;
  const startApollo = (): Promise<void> => {
    apolloStarting ??= (async () => {
      const server = new ApolloServer<GraftContext>({
        gateway: directives.wrap(gateway),
        logger: logger.child({ component: 'apollo' }),
        includeStacktraceInErrorResponses: false,
        // Shutdown is the CLI's job: Apollo's handler would re-raise the signal and skip it.
        stopOnTerminationSignals: false,
        introspection: config.mode !== 'production',
        formatError,
        ...(edgePolicy ? { validationRules: queryLimitValidationRules(config.limits), parseOptions: queryLimitParseOptions(config.limits) } : {}),
        // Field suggestions ("Did you mean ...?") reveal the schema: off in production.
        hideSchemaDetailsFromClientErrors: config.mode === 'production',
        plugins: [
          telemetry.apolloPlugin<GraftContext>(),
          // Apollo's landing page loads from a CDN: off; development has GraphiQL (gateway/graphiql).
          ApolloServerPluginLandingPageDisabled(),
          safelistPlugin({ registry: operations, enforce: config.operations.safelist }),
        ],
      });
      await server.start();
      apollo = server;
    })();
    return apolloStarting;
  };

  const host: SupergraphHost = {
    prepare: (supergraph) => {
      if (supergraph.directives) directives.stage(supergraph.hash, supergraph.directives);
      return gateway.prepare(supergraph);
    },
    activate: async (snapshot: SupergraphSnapshot, id: number) => {
      gateway.activate(snapshot, id);
      logger.info({ supergraph: id, hash: snapshot.hash.slice(0, 12) }, 'supergraph activated');
      if (!apollo) await startApollo();
    },
    discard: (snapshot) => gateway.discard(snapshot),
  };
  const registry = new RegistryService({
    store,
    host,
    runtime,
    upstream: config.upstream,
    knownPolicies: new Set(Object.keys(config.authorization.policies)),
    checkUrl: (url) => checkSubgraphUrl(url, config.networkPolicy),
    versioning: config.versioning,
    lint: config.lint,
    ...(config.usage.enabled ? { usage: { windowDays: config.usage.windowDays, strict: config.usage.strict } } : {}),
    directives,
    ...(options.clock ? { now: options.clock } : {}),
    // Another process's change may be a registered operation or a rotated upstream key.
    onSync: async () => {
      await operations.load();
      await upstreamTokens.refresh();
    },
    onEvent: (event, data) => webhooks.emit(event, data),
  });
  await registry.loadActive();
  // Registering the operations folder writes the registry: once, by the leader; the other
  // workers hear of it like of any registry change.
  const registerOperationsDir = async (dir: string): Promise<void> => {
    const registered = await operations.registerDirectory(dir, SYSTEM_ACTOR.subject);
    for (const skipped of registered.skipped) logger.warn({ operation: skipped.name, file: skipped.file }, `registered operation skipped: ${skipped.reason}`);
    logger.info({ dir, registered: registered.registered.length, unchanged: registered.unchanged.length, skipped: registered.skipped.length }, 'registered operations loaded');
  };
  if (config.operations.dir && fixedLeader && !store.competeForLeadership) await registerOperationsDir(config.operations.dir);

  // Active health checks and drift detection (the live _service { sdl } against the registered SDL).
  const HEALTH_PRINCIPAL: Principal = { subject: 'graft:health-check', anonymous: false, scopes: new Set(), tenant: undefined, claims: {} };
  const activeVersionOf = async (name: string) => {
    const extension = await store.getExtension(name);
    return extension?.activeVersion ? store.getVersion(name, extension.activeVersion) : undefined;
  };
  const health = new HealthMonitor({
    ...config.health,
    fetchServiceSdl: fetchServiceSdlOver(agent, (name) => upstreamTokens.tokenFor(HEALTH_PRINCIPAL, name, []), config.health.timeoutMs),
    registeredSdl: async (name) => (await activeVersionOf(name))?.sdl,
    onDrift: (name, drift) => webhooks.emit('drift.detected', { extension: name, ...(drift.summary === undefined ? {} : { summary: drift.summary }), checkedAt: drift.checkedAt }),
    listTargets: async () => {
      const targets: Array<{ name: string; url: string }> = [];
      for (const extension of await store.listExtensions()) {
        if (extension.status !== 'active' || !extension.activeVersion) continue;
        const version = await store.getVersion(extension.name, extension.activeVersion);
        if (version) targets.push({ name: extension.name, url: version.manifest.subgraph.url });
      }
      return targets;
    },
    onError: (err, context) => logger.warn({ err, ...context }, 'health check failed unexpectedly'),
    ...(options.onHealthRound ? { onRound: options.onHealthRound } : {}),
  });
  // Registry changes other processes made (GRAFT_WORKERS, replicas on PostgreSQL): they
  // notify (the primary's message, or LISTEN/NOTIFY), and the jittered poll catches any
  // notification lost on the way. The checks run in the leader only; the others serve the
  // statuses it shares (health.adopt) in multi-process mode.
  let closed = false;
  let operationsDirRegistered = false;
  const link: RegistryLink = new RegistryLink({
    store,
    sync: () => registry.syncIfChanged(),
    pollMs: config.registrySyncMs,
    logger: logger.child({ component: 'registry' }),
    fixedLeader,
    onLeadership: (leads) => {
      webhooks.deliver(leads);
      if (!leads) return void health.stop();
      health.start();
      // A replica elected later registers the folder then (unchanged documents write nothing).
      if (config.operations.dir && store.competeForLeadership && !operationsDirRegistered) {
        operationsDirRegistered = true;
        registerOperationsDir(config.operations.dir).catch((err: unknown) => {
          operationsDirRegistered = false;
          logger.error({ err }, 'registering GRAFT_OPERATIONS_DIR failed; the next leadership retries');
        });
      }
    },
  });
  const syncRegistry = (): Promise<void> => link.sync();

  const app: FastifyInstance = Fastify({
    loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger,
    // One log line per request is written by Graft itself (with the operation, cost, ...).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    },
    bodyLimit: config.graphqlBodyLimitBytes,
    ajv: { customOptions: { removeAdditional: false } },
  });
  if (role) {
    // Which worker answered, for operators and tests (one header; multi-process mode only).
    const worker = String(role.worker);
    app.addHook('onRequest', (_request, reply, done) => {
      void reply.header('x-graft-worker', worker);
      done();
    });
  }

  app.setErrorHandler((error: unknown, request, reply) => {
    if (isGraftError(error)) {
      if (error.code === GraftErrorCode.UNAUTHENTICATED) void reply.header('www-authenticate', 'Bearer');
      return reply.code(error.httpStatus).send(error.toJSON());
    }
    const fastifyError = error as { statusCode?: number; code?: string; validation?: unknown; message?: string };
    if (fastifyError.validation) {
      return reply.code(400).send({ code: GraftErrorCode.BAD_REQUEST, message: `Invalid request: ${fastifyError.message ?? ''}.` });
    }
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ code: GraftErrorCode.PAYLOAD_TOO_LARGE, message: 'The request body is too large.' });
    }
    if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      return reply.code(fastifyError.statusCode).send({ code: GraftErrorCode.BAD_REQUEST, message: fastifyError.message ?? 'Bad request.' });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ code: GraftErrorCode.INTERNAL_SERVER_ERROR, message: `Internal error; the gateway log has the details under request id ${request.id}.` });
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Graft admin API', version: '1', description: 'Register and publish extensions, pause and resume them, read the supergraph.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });

  const handleGraphQL = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    if (!apollo) {
      telemetry.refused(request, GraftErrorCode.NO_SUPERGRAPH);
      return sendGraphQLError(reply, new GraftError(GraftErrorCode.NO_SUPERGRAPH, 'No extension is active yet: publish one (graft publish) and try again.'));
    }
    let principal: Principal = ANONYMOUS;
    try {
      const token = bearerToken(request.headers.authorization);
      if (token) principal = await verifier(token);
    } catch (error) {
      if (isGraftError(error)) {
        telemetry.refused(request, error.code);
        return sendGraphQLError(reply, error);
      }
      throw error;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const questionMark = request.url.indexOf('?');
    const response: HTTPGraphQLResponse = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: request.method.toUpperCase(),
        headers,
        search: questionMark === -1 ? '' : request.url.slice(questionMark),
        body: request.body,
      },
      context: async () => ({ requestId: request.id, principal, telemetry: telemetry.requestOf(request) }),
    });
    for (const [key, value] of response.headers) void reply.header(key, value);
    void reply.code(response.status ?? 200);
    if (response.body.kind === 'complete') return reply.send(response.body.string);
    // Incremental delivery (@defer): stream the chunks as Apollo produces them.
    reply.hijack();
    reply.raw.writeHead(response.status ?? 200, Object.fromEntries(response.headers));
    for await (const chunk of response.body.asyncIterator) reply.raw.write(chunk);
    reply.raw.end();
    return reply;
  };
  if (config.mode !== 'production') {
    const user = options.graphiql?.user ?? { subject: 'developer', scopes: [] };
    const devToken = async () => (devIssuer ? signDevToken(devIssuer, { ...user, ttlSeconds: 8 * 3600 }) : undefined);
    app.addHook('onRequest', await graphiql(app, { endpoint: '/graphql', devToken, ...(options.graphiql?.defaultQuery ? { defaultQuery: options.graphiql.defaultQuery } : {}) }));
  }
  app.route({
    method: ['GET', 'POST'],
    url: '/graphql',
    schema: { hide: true },
    // Telemetry: the request's record and span from the first hook; one log line when the response is done.
    onRequest: telemetry.onRequest,
    handler: telemetry.traced(handleGraphQL),
  });

  // Prometheus (README, "Operating Graft"); GRAFT_METRICS_TOKEN puts it behind a bearer token.
  app.get('/metrics', { schema: { hide: true } }, telemetry.metricsHandler);

  // Public keys of the tokens minted for extensions (their SDK verifies with them).
  app.get('/.well-known/jwks.json', { schema: { hide: true } }, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=60').send(upstreamTokens.jwks()),
  );

  // Registering GRAFT_OPERATIONS_DIR is done above, before the server listens.
  const readiness = new Readiness({ serving: () => apollo !== undefined && gateway.current !== undefined, pending: options.startupWork ?? [] });
  await app.register(readinessRoute, { readiness, ...(role ? { worker: role.worker } : {}) });

  app.get('/health', { schema: { hide: true } }, async () => {
    const current = gateway.current;
    return {
      status: current ? 'ok' : 'waiting-for-first-publish',
      supergraph: current ? { id: current.id, hash: current.hash, loadedAt: current.loadedAt.toISOString() } : null,
      registry: link.status,
      leader: link.leader,
      ...(role ? { worker: { id: role.worker, pid: process.pid, leader: link.leader } } : {}),
    };
  });

  await app.register(adminApi, {
    prefix: '/admin',
    registry,
    verifier,
    keys: new ExtensionKeys(store),
    keyRateLimitPerMinute: config.keyRateLimitPerMinute,
    health,
    publishRateLimitPerMinute: config.publishRateLimitPerMinute,
    currentSupergraph: () => gateway.current,
    stats: () => telemetry.stats.snapshot(),
    operations,
    webhooks,
  });
  // The extension catalog page (static and public; its data comes from the admin API above).
  await app.register(adminUi, { prefix: ADMIN_UI_PREFIX });

  const address = await app.listen({ host: config.host, port: config.port });
  const url = address.replace('[::1]', '127.0.0.1');
  logger.info({ url }, 'Graft is listening');

  return {
    url,
    registry,
    gateway,
    devIssuer,
    upstreamTokens,
    health,
    logger,
    telemetry,
    directives,
    role,
    readiness,
    get isLeader() {
      return link.leader;
    },
    get registryStatus() {
      return link.status;
    },
    usage,
    syncRegistry,
    async close() {
      if (closed) return;
      closed = true;
      await link.close();
      // fastify.close stops accepting and waits for in-flight requests; then the rest.
      await app.close();
      await webhooks.close();
      // The counts of the last requests, before the store closes.
      await usage?.close();
      if (apollo) await apollo.stop();
      else await gateway.stop();
      upstreamTokens.stop();
      await health.stop();
      await agent.close();
      await tracing?.stop();
      directives.close();
      await store.close();
    },
  };
}
