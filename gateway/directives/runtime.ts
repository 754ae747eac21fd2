// DirectiveRuntime: everything the running gateway needs for extension resolver directives.
//
//   const directives = await DirectiveRuntime.create({ logger });
//   new GraftGateway({ ..., resultSteps: [directives.resultStep] });       // applies them
//   new ApolloServer({ gateway: directives.wrap(graftGateway) });           // accepts them in operations
//   host.prepare = (s) => { directives.stage(s.hash, s.directives); ... }   // their code, per supergraph
//
// Why a wrapper around the gateway for operation directives: Apollo Server validates every
// operation against the schema its gateway announces, before the executor runs, and that
// schema has no resolver directives (@apollo/gateway strips composed directives from the
// API schema). The two ways out: strip the directives from the document before validation
// and remember them, or announce a schema that defines them. Stripping before validation
// needs a hook Apollo Server does not have (plugins see the document only after parsing,
// cache it per query string, and validation would still run on the stripped copy, so a
// wrong argument would go unnoticed). Announcing them keeps GraphQL's own validation:
// unknown directive, wrong location, wrong argument type, missing required argument are
// validation errors like any other, introspection shows the directives to frontend
// tooling, and the persisted-document cache keeps working. The wrapper announces the
// extended schema (same type objects plus the directives), and its executor hands
// GraftGateway the request with the supergraph's own API schema (so a request still runs
// on the snapshot it was validated against) and a document without the directives (the
// query planner never sees them). The result step reads the original document.
import type {
  GatewayExecutionResult,
  GatewayExecutor,
  GatewayGraphQLRequest,
  GatewayGraphQLRequestContext,
  GatewayInterface,
  GatewayLoadResult,
  GatewaySchemaLoadOrUpdateCallback,
  GatewayUnsubscriber,
} from '@apollo/server-gateway-interface';
import { GraphQLError, Kind, execute, type DocumentNode, type GraphQLSchema } from 'graphql';
import { supergraphHash } from '../composition/index.js';
import { selectOperation } from '../graphql/index.js';
import type { ResultStep, ResultStepFactory } from '../engine/index.js';
import { applyDirectives, type DirectiveFailureEvent } from './apply.js';
import { DEFAULT_BREAKER_OPTIONS, DirectiveBreaker, type BreakerOptions } from './breaker.js';
import { checkDirectivePublish, unimplementedLinks, type DirectiveModule, type DirectivePublishCheck, type DirectivePublishInput } from './catalog.js';
import { rewriteDocument } from './operation.js';
import { moduleKey, prepareDirectives, type PreparedDirectives } from './prepared.js';
import { QuickJSSandbox, type SandboxLimits } from './sandbox.js';

export interface DirectiveLogger {
  warn(object: Record<string, unknown>, message: string): void;
}

export interface DirectiveRuntimeOptions {
  limits?: Partial<SandboxLimits>;
  breaker?: Partial<BreakerOptions>;
  logger?: DirectiveLogger;
}

/** How many staged directive sets to keep (a publish stages one, then prepares it). */
const STAGED_KEPT = 8;

export class DirectiveRuntime {
  readonly sandbox: QuickJSSandbox;
  readonly #breakerOptions: BreakerOptions;
  readonly #logger: DirectiveLogger | undefined;
  readonly #staged = new Map<string, readonly DirectiveModule[]>();
  readonly #prepared = new WeakMap<GraphQLSchema, PreparedDirectives>();
  /** Extended schema (what Apollo Server validates against) → the supergraph's API schema. */
  readonly #original = new WeakMap<GraphQLSchema, GraphQLSchema>();
  /** The document a request was validated with (before the rewrite), for the result step. */
  readonly #documents = new WeakMap<GatewayGraphQLRequest, DocumentNode>();
  readonly #breakers = new Map<string, DirectiveBreaker>();
  readonly #quietUntil = new Map<string, number>();
  #latest: PreparedDirectives | undefined;
  #previous: PreparedDirectives | undefined;

  private constructor(sandbox: QuickJSSandbox, options: DirectiveRuntimeOptions) {
    this.sandbox = sandbox;
    this.#breakerOptions = { ...DEFAULT_BREAKER_OPTIONS, ...options.breaker };
    this.#logger = options.logger;
  }

  static async create(options: DirectiveRuntimeOptions = {}): Promise<DirectiveRuntime> {
    return new DirectiveRuntime(await QuickJSSandbox.create(options.limits), options);
  }

  /** The directive modules served with the supergraph of this hash (call before preparing it). */
  stage(hash: string, modules: readonly DirectiveModule[]): void {
    this.#staged.delete(hash);
    this.#staged.set(hash, modules);
    while (this.#staged.size > STAGED_KEPT) this.#staged.delete(this.#staged.keys().next().value as string);
  }

  /** The result step, for GraftGateway's resultSteps: prepared once per supergraph. */
  readonly resultStep: ResultStepFactory = (supergraph) => {
    // Not staged (a caller that does not know about directives): keep serving the last ones.
    const modules = this.#staged.get(supergraphHash(supergraph.sdl)) ?? this.#modulesOf(this.#latest);
    const prepared = prepareDirectives(supergraph.sdl, supergraph.apiSchema, modules);
    this.#prepared.set(supergraph.apiSchema, prepared);
    this.#original.set(prepared.extendedSchema, supergraph.apiSchema);
    // Not #latest yet: a prepared supergraph may still be discarded (a release the store
    // refused, a conflict retry); only an activated one becomes current (#activated).
    const step: ResultStep = (result, requestContext) =>
      applyDirectives(prepared, result, requestContext, this.#documents.get(requestContext.request) ?? requestContext.document, {
        sandbox: this.sandbox,
        breakerFor: (module) => this.#breaker(moduleKey(module)),
        onFailure: (event) => this.#onFailure(event),
      });
    return step;
  };

  /** Apollo Server's gateway: GraftGateway plus the operation directives (see the top of this file). */
  wrap(inner: GatewayInterface): GatewayInterface {
    // GraftGateway tells its listeners of each activation (and of the current one on load).
    inner.onSchemaLoadOrUpdate(({ apiSchema }) => this.#activated(apiSchema));
    let executor: GatewayExecutor | undefined;
    const execute: GatewayExecutor = async (requestContext) => {
      if (!executor) throw new Error('the gateway executor is not loaded');
      return this.#execute(executor, requestContext);
    };
    return {
      onSchemaLoadOrUpdate: (callback: GatewaySchemaLoadOrUpdateCallback): GatewayUnsubscriber =>
        inner.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) =>
          callback({ apiSchema: this.#prepared.get(apiSchema)?.extendedSchema ?? apiSchema, coreSupergraphSdl }),
        ),
      load: async (options): Promise<GatewayLoadResult> => {
        const loaded = await inner.load(options);
        executor = loaded.executor ?? undefined;
        return { executor: execute };
      },
      stop: () => inner.stop(),
    };
  }

  /** Checks the directives of a version being published; throws the refusal (see catalog.ts). */
  async checkPublish(input: DirectivePublishInput): Promise<DirectivePublishCheck> {
    await this.sandbox.ready();
    return checkDirectivePublish(input, this.sandbox);
  }

  /** Hints for @link imports of directives no extension in service implements. */
  linkHints(sdl: string, modules: readonly DirectiveModule[]): string[] {
    return unimplementedLinks(sdl, new Map(modules.map((m) => [m.name, m.extension])));
  }

  close(): void {
    this.sandbox.close();
  }

  // ---------------------------------------------------------------------------

  /**
   * The gateway now serves this API schema (it announces every activation): its directives
   * become the current ones, and the sandbox keeps the modules of it and of the graph
   * before it (requests in flight may still run those).
   */
  #activated(apiSchema: GraphQLSchema): void {
    const prepared = this.#prepared.get(apiSchema);
    if (!prepared || prepared === this.#latest) return;
    this.#previous = this.#latest;
    this.#latest = prepared;
    this.sandbox.retain(new Set([...prepared.moduleKeys, ...(this.#previous?.moduleKeys ?? [])]));
  }

  #modulesOf(prepared: PreparedDirectives | undefined): DirectiveModule[] {
    return [...(prepared?.entries.values() ?? [])].flatMap((e) => (e.module ? [e.module] : []));
  }

  async #execute(executor: GatewayExecutor, requestContext: GatewayGraphQLRequestContext): Promise<GatewayExecutionResult> {
    const original = this.#original.get(requestContext.schema) ?? requestContext.schema;
    // Introspection answers from the schema the client validated against, directives included
    // (@apollo/gateway would answer from the supergraph's API schema).
    if (original !== requestContext.schema && isIntrospectionOnly(requestContext.operation)) {
      const result = await execute({
        schema: requestContext.schema,
        document: requestContext.document,
        operationName: requestContext.operationName ?? requestContext.request.operationName ?? null,
        variableValues: requestContext.request.variables ?? null,
      });
      return result as GatewayExecutionResult;
    }
    const prepared = this.#prepared.get(original);
    const rewritten = prepared ? rewriteDocument(prepared, requestContext.document) : undefined;
    if (rewritten instanceof GraphQLError) return { errors: [rewritten] };
    if (!rewritten && original === requestContext.schema) return executor(requestContext);
    const derived = Object.create(requestContext) as GatewayGraphQLRequestContext;
    Object.defineProperty(derived, 'schema', { value: original });
    if (rewritten) {
      this.#documents.set(requestContext.request, requestContext.document);
      const operation = selectOperation(rewritten.document, requestContext.operationName ?? requestContext.request.operationName);
      Object.defineProperties(derived, {
        document: { value: rewritten.document },
        source: { value: rewritten.source },
        queryHash: { value: rewritten.queryHash },
        operation: { value: operation instanceof GraphQLError ? undefined : operation },
      });
    }
    return executor(derived);
  }

  #breaker(key: string): DirectiveBreaker {
    let breaker = this.#breakers.get(key);
    if (!breaker) {
      breaker = new DirectiveBreaker(this.#breakerOptions);
      this.#breakers.set(key, breaker);
    }
    return breaker;
  }

  #onFailure(event: DirectiveFailureEvent): void {
    // A missing or suspended directive fails every response alike: say so once a minute.
    if (event.reason === 'unavailable' || event.reason === 'suspended') {
      const key = `${event.extension}/${event.directive}/${event.reason}`;
      const last = this.#quietUntil.get(key) ?? 0;
      if (Date.now() < last) return;
      this.#quietUntil.set(key, Date.now() + 60_000);
    }
    this.#logger?.warn({ ...event }, `directive @${event.directive} failed on ${event.fields} field(s): ${event.reason}`);
  }
}

/** An operation whose root fields are all introspection (`__schema`, `__type`, `__typename`). */
function isIntrospectionOnly(operation: GatewayGraphQLRequestContext['operation'] | undefined): boolean {
  if (!operation || operation.operation !== 'query') return false;
  return operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD && s.name.value.startsWith('__'));
}
