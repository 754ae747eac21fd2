// Per-request telemetry of the gateway: one record per /graphql request, filled in by the
// hooks Graft already has (fastify route hooks, an Apollo Server plugin, the upstream
// fetch events, a result step, the edge guard), and closed when the response is done:
// then the metrics are counted, the operation span ends and exactly one log line is written.
import { timingSafeEqual } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Span } from '@opentelemetry/api';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DocumentNode, GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { ResultStep, ResultStepFactory } from '../engine/index.js';
import { GraftErrorCode } from '../errors/index.js';
import type { EdgeFacts, EdgeGuard } from '../policy/index.js';
import type { BreakerState, UpstreamFetchEvent } from '../upstream/index.js';
import { BoundedLabel, ERROR_CODE, OPERATION_NAME, OTHER } from './labels.js';
import { GraftMetrics, type RequestOutcome } from './metrics.js';
import { ExtensionStatsWindow } from './stats-window.js';
import { graftTracer } from './tracing.js';

/** Span and attribute names Graft adds (the README lists them). */
export const SPAN_OPERATION = 'graft.operation';
export const SPAN_POLICY = 'graft.policy';
export const SPAN_RESULT_STEP = 'graft.result_step';
export const ATTR_EXTENSION = 'graft.extension';

/** What the telemetry reads from the request context (GraftContext has these fields). */
export interface TelemetryContext {
  telemetry?: RequestTelemetry;
  edgeFacts?: EdgeFacts;
}

/** Operation label of a request that failed before its operation was known (bad token, parse error, ...). */
export const UNKNOWN_OPERATION = 'unknown';
export const ANONYMOUS_OPERATION = 'anonymous';

const KNOWN_CODES: ReadonlySet<string> = new Set<string>([...Object.values(GraftErrorCode), ...Object.values(ApolloServerErrorCode), 'DOWNSTREAM_SERVICE_ERROR']);

/** An operation Apollo Server resolved (parsed and validated against `schema`), with the client that sent it. */
export interface ResolvedOperation {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName: string | null | undefined;
  /** graphql-client-name (or apollographql-client-name), as sent: untrusted. */
  clientName: string | string[] | undefined;
  clientVersion: string | string[] | undefined;
}

/** The record of one /graphql request. */
export class RequestTelemetry {
  readonly requestId: string;
  readonly span: Span;
  readonly #started = performance.now();
  /** The operation as Apollo Server resolved it (parsed and validated). */
  resolved: { name: string | null; type: string } | undefined;
  /** operationName the client sent (for the log line when the operation never resolved). */
  requestedName: string | undefined;
  /** Extensions this request fetched from or got errors attributed to. */
  readonly extensions = new Set<string>();
  /** extensions.code of every error answered (refusals before Apollo included). */
  readonly errorCodes: string[] = [];
  /** Whether the answer carried data (null when errors only). */
  hasData = false;
  edgeFacts: EdgeFacts | undefined;
  /** The operation as parsed and validated, and its client (for usage). */
  operation: ResolvedOperation | undefined;
  #done = false;

  constructor(requestId: string, span: Span) {
    this.requestId = requestId;
    this.span = span;
  }

  get elapsedMs(): number {
    return performance.now() - this.#started;
  }

  /** True the first time only. */
  finish(): boolean {
    if (this.#done) return false;
    this.#done = true;
    return true;
  }
}

export interface GatewayTelemetryOptions {
  /** Where the one line per request goes. */
  logger: Logger;
  /** The registered extensions (extension labels come from these only). */
  extensions: { names(): Iterable<string>; isRegistered(name: string): boolean };
  breakerOf: (extension: string) => BreakerState;
  supergraph: () => { id: number | undefined; hash: string } | undefined;
  /** Whether the registry database answers (graft_registry_up); absent: not reported. */
  registryUp?: () => boolean;
  /** Most distinct operation names in metric labels beside the known ones (default 200). */
  maxOperations?: number;
  /** Operation names always used as labels (registered operations). */
  isKnownOperation?: (name: string) => boolean;
  /** Window of /admin/stats (default 300 s). */
  statsWindowSeconds?: number;
  /** Continue a trace whose `traceparent` the client sent (default: every operation starts a trace). */
  acceptClientTraceparent?: boolean;
  /** When set, GET /metrics needs `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string | undefined;
  /** process_* and nodejs_* metrics (default on). */
  defaultMetrics?: boolean;
  /** Each resolved operation, once its response is done (usage recording; must not throw). */
  onOperation?: (operation: ResolvedOperation) => void;
}

export class GatewayTelemetry {
  readonly metrics: GraftMetrics;
  readonly stats: ExtensionStatsWindow;
  readonly #options: GatewayTelemetryOptions;
  readonly #operations: BoundedLabel;
  readonly #codes: BoundedLabel;
  readonly #records = new WeakMap<FastifyRequest, RequestTelemetry>();
  readonly #logger: Logger;

  constructor(options: GatewayTelemetryOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'graphql' });
    this.metrics = new GraftMetrics(
      {
        extensions: () => options.extensions.names(),
        breakerOf: options.breakerOf,
        supergraph: options.supergraph,
        ...(options.registryUp ? { registryUp: options.registryUp } : {}),
      },
      { defaultMetrics: options.defaultMetrics ?? true },
    );
    this.stats = new ExtensionStatsWindow({
      windowSeconds: options.statsWindowSeconds ?? 300,
      extensions: () => options.extensions.names(),
      breakerOf: options.breakerOf,
    });
    this.#operations = new BoundedLabel({
      pattern: OPERATION_NAME,
      max: options.maxOperations ?? 200,
      ...(options.isKnownOperation ? { isKnown: options.isKnownOperation } : {}),
    });
    // Codes from extensions are theirs to choose: bounded like operation names.
    this.#codes = new BoundedLabel({ isKnown: (code) => KNOWN_CODES.has(code), pattern: ERROR_CODE, max: 50, other: 'OTHER' });
  }

  // --- fastify ---------------------------------------------------------------

  /** The route's onRequest hook: opens the request's record and span. */
  readonly onRequest = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const parent = this.#options.acceptClientTraceparent ? propagation.extract(ROOT_CONTEXT, request.headers) : ROOT_CONTEXT;
    const span = graftTracer().startSpan(
      SPAN_OPERATION,
      { kind: SpanKind.SERVER, attributes: { 'graft.request_id': request.id, 'http.request.method': request.method, 'url.path': '/graphql' } },
      parent,
    );
    const record = new RequestTelemetry(request.id, span);
    this.#records.set(request, record);
    void reply.header('x-request-id', request.id);
    // 'close' comes once per response: sent, streamed, or cut by the client.
    reply.raw.once('close', () => this.#close(record, reply));
    done();
  };

  /** The handler, run inside the operation span (so every span below is its child). */
  traced<T>(handler: (request: FastifyRequest, reply: FastifyReply) => Promise<T>): (request: FastifyRequest, reply: FastifyReply) => Promise<T> {
    return (request, reply) => {
      const record = this.#records.get(request);
      if (!record) return handler(request, reply);
      return context.with(trace.setSpan(ROOT_CONTEXT, record.span), () => handler(request, reply));
    };
  }

  requestOf(request: FastifyRequest): RequestTelemetry | undefined {
    return this.#records.get(request);
  }

  /** A request the gateway refused before Apollo Server saw it (bad token, no supergraph). */
  refused(request: FastifyRequest, code: string): void {
    this.#records.get(request)?.errorCodes.push(code);
  }

  // --- Apollo Server -----------------------------------------------------------

  /** Reads what Apollo Server resolved and answered. */
  apolloPlugin<TContext extends BaseContext & TelemetryContext>(): ApolloServerPlugin<TContext> {
    return {
      async requestDidStart(start) {
        const record = start.contextValue.telemetry;
        if (!record) return;
        record.requestedName = start.request.operationName ?? undefined;
        return {
          async didResolveOperation(requestContext) {
            const type = requestContext.operation?.operation ?? 'query';
            record.resolved = { name: requestContext.operationName, type };
            const headers = requestContext.request.http?.headers;
            record.operation = {
              schema: requestContext.schema,
              document: requestContext.document,
              operationName: requestContext.operationName,
              clientName: headers?.get('graphql-client-name') ?? headers?.get('apollographql-client-name'),
              clientVersion: headers?.get('graphql-client-version') ?? headers?.get('apollographql-client-version'),
            };
            record.span.setAttribute('graphql.operation.type', type);
            if (requestContext.operationName) record.span.setAttribute('graphql.operation.name', requestContext.operationName);
          },
          async willSendResponse(requestContext) {
            const { body } = requestContext.response;
            const result = body.kind === 'single' ? body.singleResult : body.initialResult;
            record.hasData = result.data !== undefined && result.data !== null;
            for (const error of (result.errors ?? []) as readonly GraphQLFormattedError[]) {
              const code = error.extensions?.['code'];
              record.errorCodes.push(typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR');
            }
            record.edgeFacts = requestContext.contextValue.edgeFacts;
          },
        };
      },
    };
  }

  // --- engine and upstream ----------------------------------------------------------

  /** UpstreamOptions.onFetch: one event per subgraph request (several query-plan fetches when batched). */
  readonly onFetch = (event: UpstreamFetchEvent): void => {
    const registered = this.#options.extensions.isRegistered(event.extension);
    const extension = registered ? event.extension : OTHER;
    const failed = event.errorCode !== undefined;
    this.metrics.fetchDuration.observe({ extension, outcome: failed ? 'error' : 'ok' }, event.durationMs / 1000);
    if (failed) this.metrics.extensionErrors.inc({ extension, code: this.#codes.of(event.errorCode ?? '') });
    if (registered) this.stats.record(event.extension, event.durationMs, failed);
    (event.context as TelemetryContext | undefined)?.telemetry?.extensions.add(event.extension);
  };

  /**
   * The result step: errors an extension answered with (GraphQL errors in its response,
   * which @apollo/gateway marks with `serviceName`) are counted per extension; errors Graft
   * attributed to an extension (`extension`: paused, failed, ...) name it as touched.
   */
  readonly resultStep: ResultStepFactory = () => (result, requestContext) => {
    const record = (requestContext.context as TelemetryContext | undefined)?.telemetry;
    for (const error of result.errors ?? []) {
      const extensions = (error as GraphQLError).extensions ?? {};
      const serviceName = extensions['serviceName'];
      const attributed = extensions['extension'];
      if (typeof serviceName === 'string' && this.#options.extensions.isRegistered(serviceName)) {
        const code = extensions['code'];
        this.metrics.extensionErrors.inc({ extension: serviceName, code: this.#codes.of(typeof code === 'string' ? code : 'DOWNSTREAM_SERVICE_ERROR') });
        record?.extensions.add(serviceName);
      } else if (typeof attributed === 'string' && this.#options.extensions.isRegistered(attributed)) {
        record?.extensions.add(attributed);
      }
    }
    return result;
  };

  /** The edge guard, with a span around each decision (authorization, cost, limits). */
  traceGuard(guard: EdgeGuard): EdgeGuard {
    return {
      decide(requestContext) {
        return graftTracer().startActiveSpan(SPAN_POLICY, (span) => {
          try {
            const decision = guard.decide(requestContext);
            const facts = (requestContext.context as TelemetryContext | undefined)?.edgeFacts;
            if (facts?.estimatedCost !== undefined) span.setAttribute('graft.estimated_cost', facts.estimatedCost);
            if (decision.kind === 'respond') {
              const code = decision.result.errors?.[0]?.extensions?.['code'];
              span.setAttribute('graft.policy.decision', 'refused');
              if (typeof code === 'string') span.setAttribute('graft.error_code', code);
            } else {
              span.setAttribute('graft.policy.decision', decision.requestContext === requestContext ? 'allowed' : 'filtered');
            }
            return decision;
          } catch (error) {
            span.recordException(error as Error);
            span.setStatus({ code: SpanStatusCode.ERROR });
            throw error;
          } finally {
            span.end();
          }
        });
      },
    };
  }

  /** A result step (resolver directives, ...) with a span around each run. */
  traceResultStep(name: string, factory: ResultStepFactory): ResultStepFactory {
    return (supergraph) => {
      const step: ResultStep = factory(supergraph);
      return (result, requestContext) =>
        graftTracer().startActiveSpan(SPAN_RESULT_STEP, { attributes: { 'graft.step': name } }, async (span) => {
          try {
            return await step(result, requestContext);
          } catch (error) {
            span.recordException(error as Error);
            span.setStatus({ code: SpanStatusCode.ERROR });
            throw error;
          } finally {
            span.end();
          }
        });
    };
  }

  // --- /metrics ------------------------------------------------------------------

  readonly metricsHandler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const token = this.#options.metricsToken;
    if (token !== undefined && !sameSecret(request.headers.authorization ?? '', `Bearer ${token}`)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ code: GraftErrorCode.UNAUTHENTICATED, message: 'GET /metrics needs "Authorization: Bearer <GRAFT_METRICS_TOKEN>".' });
    }
    return reply.header('content-type', this.metrics.contentType).header('cache-control', 'no-store').send(await this.metrics.text());
  };

  // ---------------------------------------------------------------------------------

  /** The operation label of a request: its name when resolved and bounded, else unknown/anonymous/other. */
  operationLabel(record: RequestTelemetry): string {
    if (!record.resolved) return UNKNOWN_OPERATION;
    if (!record.resolved.name) return ANONYMOUS_OPERATION;
    return this.#operations.of(record.resolved.name);
  }

  #close(record: RequestTelemetry, reply: FastifyReply): void {
    if (!record.finish()) return;
    try {
      const durationMs = record.elapsedMs;
      const status = reply.raw.statusCode;
      const aborted = !reply.raw.writableFinished;
      if (record.errorCodes.length === 0 && status >= 400) record.errorCodes.push(codeForStatus(status));
      const outcome: RequestOutcome =
        aborted || status >= 400 || (record.errorCodes.length > 0 && !record.hasData) ? 'error' : record.errorCodes.length > 0 ? 'partial' : 'ok';
      const operation = this.operationLabel(record);
      const cost = record.edgeFacts?.estimatedCost;

      this.metrics.requests.inc({ operation, outcome });
      this.metrics.requestDuration.observe({ operation }, durationMs / 1000);
      for (const code of record.errorCodes) this.metrics.errors.inc({ code: this.#codes.of(code) });
      if (cost !== undefined) this.metrics.estimatedCost.observe(cost);
      if (record.operation) this.#options.onOperation?.(record.operation);

      const extensions = [...record.extensions].sort();
      const errorCodes = [...new Set(record.errorCodes)];
      const { span } = record;
      // Logged only when the span is recorded (tracing on): then the trace id finds the trace.
      const traceId = span.isRecording() ? span.spanContext().traceId : undefined;
      span.setAttributes({
        'graft.outcome': outcome,
        'graft.extensions': extensions,
        'http.response.status_code': status,
        ...(cost === undefined ? {} : { 'graft.estimated_cost': cost }),
        ...(errorCodes.length > 0 ? { 'graft.error_codes': errorCodes } : {}),
      });
      if (outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: errorCodes.join(',') || (aborted ? 'aborted' : `HTTP ${status}`) });
      span.end();

      const name = record.resolved ? record.resolved.name : record.requestedName;
      this.#logger[status >= 500 ? 'warn' : 'info'](
        {
          requestId: record.requestId,
          operation: name ? name.slice(0, 128) : null,
          operationType: record.resolved?.type ?? null,
          extensions,
          cost: cost ?? null,
          durationMs: Math.round(durationMs * 100) / 100,
          outcome,
          status,
          errorCodes,
          ...(aborted ? { aborted: true } : {}),
          ...(traceId ? { traceId } : {}),
        },
        'graphql request',
      );
    } catch (error) {
      // Telemetry never fails a request.
      this.#logger.error({ err: error }, 'request telemetry failed');
    }
  }
}

function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return GraftErrorCode.BAD_REQUEST;
    case 401:
      return GraftErrorCode.UNAUTHENTICATED;
    case 403:
      return GraftErrorCode.FORBIDDEN;
    case 404:
      return GraftErrorCode.NOT_FOUND;
    case 413:
      return GraftErrorCode.PAYLOAD_TOO_LARGE;
    case 429:
      return GraftErrorCode.RATE_LIMITED;
    default:
      return status >= 500 ? GraftErrorCode.INTERNAL_SERVER_ERROR : GraftErrorCode.BAD_REQUEST;
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
