// GraftGateway: the GatewayInterface Apollo Server talks to (DESIGN.md, "where the
// hooks go"). Each supergraph becomes an immutable snapshot with its own ApolloGateway
// (static SDL, its own query planner). A request is executed by the snapshot whose API
// schema Apollo Server validated it against (`requestContext.schema`), so a swap in the
// middle of a request can never plan an operation against a schema it was not validated
// for. A superseded snapshot is stopped once its last in-flight request finishes.
import { ApolloGateway } from '@apollo/gateway';
import type {
  GatewayExecutionResult,
  GatewayGraphQLRequestContext,
  GatewayExecutor,
  GatewayInterface,
  GatewayLoadResult,
  GatewaySchemaLoadOrUpdateCallback,
  GatewayUnsubscriber,
} from '@apollo/server-gateway-interface';
import type { GraphQLSchema } from 'graphql';
import type { Agent } from 'undici';
import { extractFieldOwnership, gatewayCompatibleSupergraph, type FieldOwnership } from '../composition/index.js';
import { attributeExtensionErrors } from './error-paths.js';

export { attributeExtensionErrors };
import type { EdgeGuard } from '../policy/index.js';
import {
  ExtensionDataSource,
  createExtensionResilience,
  type ExtensionResilience,
  type ExtensionRuntimeTable,
  type ResilienceOptions,
  type UpstreamOptions,
} from '../upstream/index.js';

export interface GatewayLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface SupergraphSnapshot {
  /** Registry id of the supergraph; set when the snapshot is activated. */
  readonly id: number | undefined;
  readonly hash: string;
  readonly supergraphSdl: string;
  readonly apiSchema: GraphQLSchema;
  readonly loadedAt: Date;
}

interface LiveSnapshot extends SupergraphSnapshot {
  id: number | undefined;
  readonly gateway: ApolloGateway;
  readonly executor: GatewayExecutor;
  readonly guard: EdgeGuard | undefined;
  readonly resultSteps: readonly ResultStep[];
  readonly ownership: FieldOwnership;
  inFlight: number;
  superseded: boolean;
}

export interface GraftGatewayOptions {
  runtime: ExtensionRuntimeTable;
  agent: Agent;
  upstream: UpstreamOptions;
  resilience: ResilienceOptions;
  logger: GatewayLogger;
  /** Builds the per-supergraph edge guard (authorization, cost) run before planning. */
  prepareGuard?: (supergraph: { sdl: string; apiSchema: GraphQLSchema }) => EdgeGuard;
  /**
   * Steps run on each execution result, in order, after the query plan ran and
   * authorization nulls were put back (resolver directives, telemetry, ...). Each is
   * prepared once per supergraph.
   */
  resultSteps?: ReadonlyArray<ResultStepFactory>;
  /** An extension's circuit breaker opened or closed again (webhooks). */
  onBreakerChange?: (extension: string, state: 'opened' | 'closed') => void;
}

/** A step on the execution result, built once per supergraph (see GraftGatewayOptions.resultSteps). */
export type ResultStepFactory = (supergraph: { sdl: string; apiSchema: GraphQLSchema }) => ResultStep;
export type ResultStep = (
  result: GatewayExecutionResult,
  requestContext: GatewayGraphQLRequestContext,
) => GatewayExecutionResult | Promise<GatewayExecutionResult>;

export class GraftGateway implements GatewayInterface {
  readonly #options: GraftGatewayOptions;
  readonly #listeners = new Set<GatewaySchemaLoadOrUpdateCallback>();
  readonly #bySchema = new WeakMap<GraphQLSchema, LiveSnapshot>();
  /** Data sources outlive snapshots so that keep-alive pools survive swaps. */
  readonly #dataSources = new Map<string, ExtensionDataSource>();
  /** One breaker, bulkhead and retry budget per extension, whatever its URL or supergraph. */
  readonly #resilience = new Map<string, ExtensionResilience>();
  #current: LiveSnapshot | undefined;
  #stopped = false;
  #inFlightAtSwaps = 0;

  constructor(options: GraftGatewayOptions) {
    this.#options = options;
  }

  get current(): SupergraphSnapshot | undefined {
    return this.#current;
  }

  /**
   * Requests that were running on a snapshot when a newer one was activated, summed over
   * the swaps: they finish on the snapshot that validated them (what makes a swap safe).
   */
  get requestsInFlightAtSwaps(): number {
    return this.#inFlightAtSwaps;
  }

  /**
   * Builds everything needed to serve a supergraph without serving it yet: if the
   * gateway cannot load it, this throws and nothing changes.
   */
  async prepare(supergraph: { hash: string; sdl: string }): Promise<SupergraphSnapshot> {
    const gateway = new ApolloGateway({
      supergraphSdl: gatewayCompatibleSupergraph(supergraph.sdl),
      logger: this.#options.logger,
      buildService: ({ name, url }) => this.#dataSource(name, url ?? ''),
    });
    let apiSchema: GraphQLSchema | undefined;
    const unsubscribe = gateway.onSchemaLoadOrUpdate(({ apiSchema: schema }) => {
      apiSchema = schema;
    });
    const { executor } = await gateway.load();
    unsubscribe();
    if (!apiSchema || !executor) throw new Error('ApolloGateway loaded without a schema');
    const loaded = { sdl: supergraph.sdl, apiSchema: apiSchema as GraphQLSchema };
    const guard = this.#options.prepareGuard?.(loaded);
    const snapshot: LiveSnapshot = {
      id: undefined,
      hash: supergraph.hash,
      supergraphSdl: supergraph.sdl,
      apiSchema,
      loadedAt: new Date(),
      gateway,
      executor,
      guard,
      resultSteps: (this.#options.resultSteps ?? []).map((factory) => factory(loaded)),
      ownership: extractFieldOwnership(supergraph.sdl),
      inFlight: 0,
      superseded: false,
    };
    this.#bySchema.set(apiSchema, snapshot);
    return snapshot;
  }

  /** Serves a prepared snapshot from the next request on. In-flight requests finish on theirs. */
  activate(prepared: SupergraphSnapshot, id: number): void {
    const snapshot = this.#bySchema.get(prepared.apiSchema);
    if (!snapshot) throw new Error('activate() takes a snapshot returned by prepare()');
    snapshot.id = id;
    const previous = this.#current;
    this.#current = snapshot;
    for (const listener of this.#listeners) {
      listener({ apiSchema: snapshot.apiSchema, coreSupergraphSdl: snapshot.supergraphSdl });
    }
    if (previous && previous !== snapshot) {
      this.#inFlightAtSwaps += previous.inFlight;
      previous.superseded = true;
      this.#maybeStop(previous);
    }
  }

  /** Drops a prepared snapshot that will not be activated (e.g. its publish failed to store). */
  async discard(prepared: SupergraphSnapshot): Promise<void> {
    const snapshot = this.#bySchema.get(prepared.apiSchema);
    if (snapshot && snapshot !== this.#current) await snapshot.gateway.stop();
  }

  // --- GatewayInterface -------------------------------------------------------

  async load(): Promise<GatewayLoadResult> {
    if (!this.#current) throw new Error('GraftGateway.load() before any supergraph was activated');
    const current = this.#current;
    for (const listener of this.#listeners) {
      listener({ apiSchema: current.apiSchema, coreSupergraphSdl: current.supergraphSdl });
    }
    return { executor: this.#execute };
  }

  onSchemaLoadOrUpdate(callback: GatewaySchemaLoadOrUpdateCallback): GatewayUnsubscriber {
    this.#listeners.add(callback);
    return () => this.#listeners.delete(callback);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const current = this.#current;
    this.#current = undefined;
    if (current) await current.gateway.stop();
  }

  // ---------------------------------------------------------------------------

  readonly #execute: GatewayExecutor = async (requestContext) => {
    const snapshot = this.#bySchema.get(requestContext.schema) ?? this.#current;
    if (!snapshot) throw new Error('no supergraph is loaded');
    snapshot.inFlight += 1;
    try {
      const decision = snapshot.guard?.decide(requestContext) ?? { kind: 'execute' as const, requestContext };
      if (decision.kind === 'respond') return decision.result;
      const executed = decision.requestContext;
      const result = attributeExtensionErrors(
        await snapshot.executor(executed),
        executed.document,
        executed.operationName ?? executed.request.operationName,
        snapshot.apiSchema,
        snapshot.ownership,
        executed.request.variables,
      );
      let finished = 'finish' in decision && decision.finish ? decision.finish(result) : result;
      for (const step of snapshot.resultSteps) finished = await step(finished, executed);
      return finished;
    } finally {
      snapshot.inFlight -= 1;
      this.#maybeStop(snapshot);
    }
  };

  #maybeStop(snapshot: LiveSnapshot): void {
    if (!snapshot.superseded || snapshot.inFlight > 0) return;
    snapshot.gateway.stop().catch((error: unknown) => {
      this.#options.logger.warn(`stopping a superseded supergraph failed: ${String(error)}`);
    });
  }

  resilienceOf(name: string): ExtensionResilience {
    let resilience = this.#resilience.get(name);
    if (!resilience) {
      resilience = createExtensionResilience(this.#options.resilience, (state) => this.#options.onBreakerChange?.(name, state));
      this.#resilience.set(name, resilience);
    }
    return resilience;
  }

  #dataSource(name: string, url: string): ExtensionDataSource {
    const key = `${name} ${url}`;
    let dataSource = this.#dataSources.get(key);
    if (!dataSource) {
      dataSource = new ExtensionDataSource(name, url, this.#options.runtime, this.#options.agent, this.#options.upstream, this.resilienceOf(name));
      this.#dataSources.set(key, dataSource);
    }
    return dataSource;
  }
}
