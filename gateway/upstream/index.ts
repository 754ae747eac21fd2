// Upstream fetches from the gateway to extension subgraphs. RemoteGraphQLDataSource's
// default fetcher follows redirects and has no timeout (DESIGN.md): Graft uses its own
// data source on undici with keep-alive pools, a timeout per extension, no redirects,
// a response size cap, and never forwards the client's headers or token.
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { SpanStatusCode, context as otelContext, propagation, trace } from '@opentelemetry/api';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { GraphQLError } from 'graphql';
import { Agent, errors as undiciErrors } from 'undici';
import { GraftErrorCode } from '../errors/index.js';
import { ANONYMOUS, type Principal } from '../auth/index.js';
import { createGuardedConnect, type NetworkPolicy } from '../netpolicy/index.js';
import type { ExtensionStatus } from '../registry/index.js';
import type { UpstreamTokenIssuer } from './tokens.js';
import { isBatchable, mergeParts, type BatchPart } from './batching.js';
import { UpstreamFailure, isBulkheadFull, isCircuitOpen, type ExtensionResilience } from './resilience.js';

export {
  DEFAULT_RESILIENCE,
  createExtensionResilience,
  type BreakerState,
  type ExtensionResilience,
  type ResilienceOptions,
} from './resilience.js';

export { UpstreamTokenIssuer, type SharedSigningKeys, type UpstreamTokenIssuerOptions } from './tokens.js';
export { sealPrivateKey, unsealPrivateKey } from './sealed-keys.js';
export { isBatchable, mergeParts, type BatchPart, type BatchedOperation } from './batching.js';

/** Header carrying the actual-cost budget of this operation in the extension (SDK counts against it). */
export const COST_BUDGET_HEADER = 'graft-cost-budget';

/** What the data sources need to know about each extension right now; updated on publish, pause, resume. */
export interface ExtensionRuntimeState {
  status: ExtensionStatus;
  timeoutMs: number;
  /** Scopes the extension may receive (manifest grants). */
  grants: readonly string[];
  /** Largest estimated cost of its part of one operation (manifest limits.maxCost). */
  maxCost: number | undefined;
  /** Tenants it is enabled for; null: every tenant. */
  tenants: ReadonlySet<string> | null;
}

export class ExtensionRuntimeTable {
  readonly #states = new Map<string, ExtensionRuntimeState>();
  #restricted = false;

  set(name: string, state: ExtensionRuntimeState): void {
    this.#states.set(name, state);
    this.#restricted = [...this.#states.values()].some((s) => s.tenants !== null);
  }

  get(name: string): ExtensionRuntimeState | undefined {
    return this.#states.get(name);
  }

  /** Names of the registered extensions that are not retired (metrics, stats). */
  names(): string[] {
    return [...this.#states].filter(([, state]) => state.status !== 'retired').map(([name]) => name);
  }

  setStatus(name: string, status: ExtensionStatus): void {
    const current = this.#states.get(name);
    if (current) this.#states.set(name, { ...current, status });
  }

  setTenants(name: string, tenants: readonly string[] | null): void {
    const current = this.#states.get(name);
    if (current) this.#states.set(name, { ...current, tenants: tenants === null ? null : new Set(tenants) });
    this.#restricted = [...this.#states.values()].some((s) => s.tenants !== null);
  }

  /** Whether the extension answers for this tenant (no tenant claim: only unrestricted extensions). */
  isEnabledFor(name: string, tenant: string | undefined): boolean {
    const tenants = this.#states.get(name)?.tenants;
    if (!tenants) return true;
    return tenant !== undefined && tenants.has(tenant);
  }

  /** True when some extension is enabled for some tenants only (the edge must look). */
  get hasTenantRestrictions(): boolean {
    return this.#restricted;
  }
}

/** What telemetry sees of each subgraph fetch (one event per fetch, after retries). */
export interface UpstreamFetchEvent {
  extension: string;
  durationMs: number;
  /** undefined on success; the EXTENSION_* code otherwise. */
  errorCode: string | undefined;
  attempts: number;
  /** The request's context (GraftContext), to tell which request the fetch served. */
  context?: unknown;
}

export interface UpstreamOptions {
  /** Called after every fetch; must not throw (telemetry). */
  onFetch?: (event: UpstreamFetchEvent) => void;
  defaultTimeoutMs: number;
  /** Mints the scoped token sent instead of the user's. */
  tokens: UpstreamTokenIssuer;
  /** Largest subgraph response body accepted. */
  maxResponseBytes?: number;
  /**
   * Send the fetches one operation starts in the same event-loop turn to the same
   * extension as one request (gateway/upstream/batching.ts). Default true.
   */
  batching?: boolean;
}

/** A fetch waiting for the end of the event-loop turn to be sent with its siblings. */
interface QueuedFetch {
  options: GraphQLDataSourceProcessOptions;
  /** The OpenTelemetry context it was asked in (the gateway.fetch span), restored when sent. */
  otel: ReturnType<typeof otelContext.active>;
  resolve(response: GatewayGraphQLResponse): void;
  reject(error: unknown): void;
}

const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

function extensionError(code: GraftErrorCode, extension: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, extension } });
}

/** One data source per extension (subgraph). Pools are shared through the Agent. */
export class ExtensionDataSource implements GraphQLDataSource {
  readonly #name: string;
  readonly #url: URL;
  readonly #runtime: ExtensionRuntimeTable;
  readonly #agent: Agent;
  readonly #options: UpstreamOptions & { maxResponseBytes: number; batching: boolean };
  readonly #resilience: ExtensionResilience;
  /** Fetches queued this turn, by client operation (its context object). */
  readonly #queues = new Map<object, QueuedFetch[]>();

  constructor(
    name: string,
    url: string,
    runtime: ExtensionRuntimeTable,
    agent: Agent,
    options: UpstreamOptions,
    resilience: ExtensionResilience,
  ) {
    this.#name = name;
    this.#url = new URL(url);
    this.#runtime = runtime;
    this.#agent = agent;
    this.#options = { maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES, batching: true, ...options };
    this.#resilience = resilience;
  }

  async process(options: GraphQLDataSourceProcessOptions): Promise<GatewayGraphQLResponse> {
    const name = this.#name;
    // The active span is @apollo/gateway's gateway.fetch (when tracing is on): name the extension on it.
    const span = trace.getActiveSpan();
    span?.setAttribute('graft.extension', name);
    if (this.#runtime.get(name)?.status === 'paused') {
      span?.setAttribute('graft.error_code', GraftErrorCode.EXTENSION_PAUSED);
      throw extensionError(GraftErrorCode.EXTENSION_PAUSED, name, `Extension "${name}" is paused by an operator; its fields are unavailable until it is resumed.`);
    }
    const operation = options.context;
    if (!this.#options.batching || typeof operation !== 'object' || operation === null || !isBatchable(options.request.query)) {
      return this.#send(options, 1);
    }
    return new Promise<GatewayGraphQLResponse>((resolve, reject) => {
      let queue = this.#queues.get(operation);
      if (!queue) {
        const fetches: QueuedFetch[] = [];
        queue = fetches;
        this.#queues.set(operation, fetches);
        // After the current turn's microtasks: @apollo/gateway starts the fetches of parallel
        // plan branches synchronously one after another, and the ones that wait on a batched
        // answer all start when it resolves, in one turn too.
        setImmediate(() => {
          this.#queues.delete(operation);
          // Never leave a fetch hanging: anything unexpected fails the ones not yet settled
          // (settling a promise twice is a no-op).
          this.#flush(fetches).catch((error: unknown) => {
            for (const fetch of fetches) fetch.reject(error);
          });
        });
      }
      queue.push({ options, otel: otelContext.active(), resolve, reject });
    });
  }

  /** Sends one turn's fetches of one operation: merged when there are several, else as they are. */
  async #flush(queue: readonly QueuedFetch[]): Promise<void> {
    const one = (fetch: QueuedFetch) => otelContext.with(fetch.otel, () => this.#send(fetch.options, 1)).then(fetch.resolve, fetch.reject);
    const first = queue[0]!;
    const merged = queue.length > 1 ? mergeParts(queue.map((fetch) => fetch.options.request as BatchPart)) : undefined;
    if (!merged) {
      await Promise.all(queue.map(one));
      return;
    }
    let response: GatewayGraphQLResponse;
    try {
      const request = { ...first.options.request, query: merged.query, variables: merged.variables, operationName: merged.operationName };
      response = await otelContext.with(first.otel, () => this.#send({ ...first.options, request }, queue.length));
    } catch (error) {
      // The extension failed (timeout, breaker, ...): every part failed with it, each with an
      // error of its own, as each fetch would have without batching (the engine puts one
      // extension's failure at its paths once, whatever the number of failed fetches).
      queue.forEach((fetch, index) => fetch.reject(index === 0 || !(error instanceof GraphQLError) ? error : new GraphQLError(error.message, { extensions: error.extensions })));
      return;
    }
    const parts = merged.split(response);
    if (parts) {
      queue.forEach((fetch, index) => fetch.resolve(parts[index]!));
      return;
    }
    // No data to split (e.g. a non-null root field failed and nulled the whole answer): each
    // part on its own, so that one part's failure stays its own (queries only: safe to resend).
    await Promise.all(queue.map(one));
  }

  /** One subgraph request through the resilience policies; `parts` fetches of the plan ride on it. */
  async #send(options: GraphQLDataSourceProcessOptions, parts: number): Promise<GatewayGraphQLResponse> {
    const name = this.#name;
    // When batched: the first part's gateway.fetch span (its context is restored by #flush).
    const span = trace.getActiveSpan();
    if (parts > 1) span?.setAttribute('graft.fetch.batch_size', parts);
    const state = this.#runtime.get(name);
    const timeoutMs = state?.timeoutMs ?? this.#options.defaultTimeoutMs;
    const { query, variables, operationName } = options.request;
    const body = JSON.stringify({ query, variables, operationName });
    // Never the client's headers: only a token minted for this extension (user scopes ∩ grants).
    const principal = (options.context as { principal?: Principal } | undefined)?.principal ?? ANONYMOUS;
    let token: string;
    try {
      token = await this.#options.tokens.tokenFor(principal, name, state?.grants ?? []);
    } catch {
      throw extensionError(GraftErrorCode.INTERNAL_SERVER_ERROR, name, `Graft could not mint a token for extension "${name}"; see the gateway log.`);
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `Bearer ${token}`,
    };
    if (state?.maxCost !== undefined) headers[COST_BUDGET_HEADER] = String(state.maxCost);
    // W3C traceparent of the active span (@apollo/gateway's gateway.fetch) when tracing is on:
    // the extension continues the trace. Nothing of the client's headers is forwarded.
    propagation.inject(otelContext.active(), headers);
    const isQuery = !/^\s*(mutation|subscription)\b/.test(query ?? '');

    const started = performance.now();
    let attempts = 0;
    let errorCode: string | undefined;
    try {
      return await this.#resilience.execute(isQuery, () => {
        attempts += 1;
        return this.#attempt(body, headers, timeoutMs);
      });
    } catch (error) {
      const translated = this.#translate(error, timeoutMs);
      errorCode = String(translated.extensions['code']);
      span?.setStatus({ code: SpanStatusCode.ERROR, message: errorCode });
      span?.setAttribute('graft.error_code', errorCode);
      throw translated;
    } finally {
      span?.setAttribute('graft.fetch.attempts', attempts);
      this.#options.onFetch?.({ extension: name, durationMs: performance.now() - started, errorCode, attempts, context: options.context });
    }
  }

  /**
   * One HTTP attempt, bounded by one deadline from the request to the last byte of the body
   * (undici's headersTimeout and bodyTimeout are idle timeouts, not a deadline). Failures of
   * the extension throw UpstreamFailure (retry and breaker see them).
   *
   * The deadline is a plain timer cleared when the attempt ends, on purpose: on Node 20,
   * `AbortSignal.any([longLivedSignal, ...])` keeps every derived signal reachable from the
   * long-lived one (the heap grew by ~20 MB per 500k fetches and throughput fell round after
   * round under the Guild benchmark), and `AbortSignal.timeout` keeps its timer and signal
   * alive for the whole timeout even after the fetch is done.
   */
  async #attempt(body: string, headers: Record<string, string>, timeoutMs: number): Promise<GatewayGraphQLResponse> {
    const controller = new AbortController();
    const deadline = setTimeout(() => controller.abort(new UpstreamFailure('timeout', 'timed out')), timeoutMs);
    try {
      return await this.#exchange(body, headers, timeoutMs, controller.signal);
    } finally {
      clearTimeout(deadline);
    }
  }

  async #exchange(body: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<GatewayGraphQLResponse> {
    const name = this.#name;
    let response: Awaited<ReturnType<Agent['request']>>;
    try {
      response = await this.#agent.request({
        origin: this.#url.origin,
        path: this.#url.pathname + this.#url.search,
        method: 'POST',
        headers,
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal,
      });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'URL_NOT_ALLOWED') {
        // Not retried, not counted by the breaker, and the address stays in the server log.
        throw extensionError(GraftErrorCode.EXTENSION_UNAVAILABLE, name, `Extension "${name}" could not be reached: its URL now resolves to an address the gateway's network policy refuses.`);
      }
      throw toFailure(error);
    }
    const { statusCode } = response;
    if (statusCode >= 300 && statusCode < 400) {
      await response.body.dump();
      throw extensionError(GraftErrorCode.EXTENSION_BAD_RESPONSE, name, `Extension "${name}" answered with a redirect (HTTP ${statusCode}); Graft does not follow redirects.`);
    }
    let text: string;
    try {
      text = await this.#readCapped(response.body);
    } catch (error) {
      if (error instanceof GraphQLError) throw error;
      throw toFailure(error);
    }
    if (statusCode === 502 || statusCode === 503 || statusCode === 504) {
      throw new UpstreamFailure('status', `HTTP ${statusCode}`, statusCode);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      if (statusCode >= 500) throw new UpstreamFailure('status', `HTTP ${statusCode}`, statusCode);
      throw extensionError(GraftErrorCode.EXTENSION_BAD_RESPONSE, name, `Extension "${name}" answered HTTP ${statusCode} without a GraphQL JSON body.`);
    }
    if (typeof parsed !== 'object' || parsed === null || (!('data' in parsed) && !('errors' in parsed))) {
      if (statusCode >= 500) throw new UpstreamFailure('status', `HTTP ${statusCode}`, statusCode);
      throw extensionError(GraftErrorCode.EXTENSION_BAD_RESPONSE, name, `Extension "${name}" answered HTTP ${statusCode} with JSON that is not a GraphQL response.`);
    }
    return parsed as GatewayGraphQLResponse;
  }

  async #readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += chunk.length;
      if (size > this.#options.maxResponseBytes) {
        body.destroy();
        throw extensionError(
          GraftErrorCode.EXTENSION_BAD_RESPONSE,
          this.#name,
          `Extension "${this.#name}" answered with more than ${this.#options.maxResponseBytes} bytes; the response was dropped.`,
        );
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, size).toString('utf8');
  }

  #translate(error: unknown, timeoutMs: number): GraphQLError {
    const name = this.#name;
    if (error instanceof GraphQLError) return error;
    if (isCircuitOpen(error)) {
      return extensionError(GraftErrorCode.EXTENSION_CIRCUIT_OPEN, name, `Extension "${name}" is failing; Graft stopped calling it for a while (circuit open) and will probe it again soon.`);
    }
    if (isBulkheadFull(error)) {
      return extensionError(GraftErrorCode.EXTENSION_UNAVAILABLE, name, `Extension "${name}" has too many requests in flight; try again shortly.`);
    }
    if (error instanceof UpstreamFailure && error.kind === 'timeout') {
      return extensionError(GraftErrorCode.EXTENSION_TIMEOUT, name, `Extension "${name}" did not answer within ${timeoutMs} ms.`);
    }
    // Connection refused, reset, HTTP 5xx... The details stay in the server log, not in the response.
    return extensionError(GraftErrorCode.EXTENSION_UNAVAILABLE, name, `Extension "${name}" could not be reached or failed (${error instanceof UpstreamFailure && error.status ? `HTTP ${error.status}` : 'connection failed'}).`);
  }
}

function toFailure(error: unknown): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  const timedOut =
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'));
  if (timedOut) return new UpstreamFailure('timeout', 'timed out');
  return new UpstreamFailure('connect', error instanceof Error ? error.message : String(error));
}

export function createUpstreamAgent(policy: NetworkPolicy): Agent {
  // One pool per origin, kept alive between requests; pipelining stays off (subgraphs may be
  // slow). Every new connection re-checks the resolved address (DNS rebinding).
  // When `connect` is a function, undici ignores Agent-level connectTimeout: it goes in `connector`.
  return new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    connections: 256,
    connect: createGuardedConnect(policy, { connector: { timeout: 10_000 } }),
  });
}
