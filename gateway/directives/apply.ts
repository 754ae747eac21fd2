// The result step: applies resolver directives to an execution result, after the query
// plan ran and authorization put its nulls back (GraftGateway's resultSteps).
//
// - Where: every field of the response whose definition carries a directive in the
//   supergraph (FIELD_DEFINITION, its interfaces' included) and every field the operation
//   marks (FIELD). A field's schema directives run first, then the operation's, in
//   document order; a directive's output is the next one's input.
// - Never on null: a field authorization denied (or an extension failed to resolve) is
//   null with an error at its path, and is not transformed.
// - Batching: all the values of one directive (per round: a field's first directive, then
//   its second, ...) go to the sandbox in one call. A directive on a composite field sees
//   its sub-fields already transformed.
// - Failure: the field is null (propagated up to the nearest nullable position, as GraphQL
//   does) with an error `extensions: { code: DIRECTIVE_FAILED, directive, extension,
//   reason }`. The untransformed value is never returned. The sandbox's message can
//   contain the value (a thrown "bad date: <value>"): it goes to the gateway log, never to
//   the client.
import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  getVariableValues,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type DocumentNode,
  type FieldNode,
  type GraphQLAbstractType,
  type GraphQLEnumType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { GraftErrorCode } from '../errors/index.js';
import { collectSubfields, fragmentsOf, propagateNull, responsePathOf, selectOperation, type ResponseTrail, type SelectionContext } from '../graphql/index.js';
import type { DirectiveBreaker } from './breaker.js';
import type { DirectiveModule } from './catalog.js';
import { TYPENAME_ALIAS, isRelevant } from './operation.js';
import { moduleKey, resolveApplication, type Application, type CatalogEntry, type PreparedDirectives } from './prepared.js';
import type { FailureKind, QuickJSSandbox } from './sandbox.js';

/** extensions.reason of a DIRECTIVE_FAILED error. */
export type DirectiveFailureReason = FailureKind | 'suspended';

export interface DirectiveFailureEvent {
  directive: string;
  extension: string;
  version: string | undefined;
  reason: DirectiveFailureReason;
  fields: number;
  detail: string;
}

export interface ApplyDependencies {
  sandbox: QuickJSSandbox;
  breakerFor(module: DirectiveModule): DirectiveBreaker;
  onFailure(event: DirectiveFailureEvent): void;
}

/** What `transform` receives as its third argument. Never tokens or headers. */
export interface DirectiveContext {
  locale: string | null;
  tenant: string | null;
  /** Only the operation variables this application's arguments name. */
  variables: Record<string, unknown>;
}

type Trail = ResponseTrail;

interface Step {
  application: Application;
  context: DirectiveContext;
}

interface Target {
  trail: Trail;
  type: GraphQLOutputType;
  steps: Step[];
  /** Targets below this one must run first: their level is lower. */
  level: number;
  failure?: { entry: CatalogEntry; reason: DirectiveFailureReason };
}

const REASON_TEXT: Record<DirectiveFailureReason, string> = {
  error: 'the transform failed',
  timeout: 'the transform ran out of time',
  memory: 'the transform ran out of memory',
  output: 'the transform returned a value that is too large or not valid for this field',
  unavailable: 'no extension in service implements it',
  suspended: 'it failed repeatedly and is suspended for a while',
};

const LOCALE = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8}){0,4}$/;

function localeOf(requestContext: GatewayGraphQLRequestContext): string | null {
  const header = requestContext.request.http?.headers.get('accept-language');
  const first = header?.split(',')[0]?.split(';')[0]?.trim();
  return first && LOCALE.test(first) ? first : null;
}

function tenantOf(requestContext: GatewayGraphQLRequestContext): string | null {
  const tenant = (requestContext.context as { principal?: { tenant?: unknown } } | undefined)?.principal?.tenant;
  return typeof tenant === 'string' ? tenant : null;
}

/**
 * A type's structure, worked out once: graphql-js's predicates (isListType, ...) are
 * costly per value outside NODE_ENV=production, and the walk asks them for every value.
 */
interface Shape {
  nonNull: boolean;
  /** For a list: its items' type and shape. */
  itemType: GraphQLOutputType | undefined;
  item: Shape | undefined;
  named: GraphQLNamedType;
  /** The named type when it is an object type. */
  object: GraphQLObjectType | undefined;
  abstract: GraphQLAbstractType | undefined;
  composite: boolean;
  enumType: GraphQLEnumType | undefined;
  scalar: string | undefined;
}

const shapes = new WeakMap<GraphQLOutputType, Shape>();

function shapeOf(type: GraphQLOutputType): Shape {
  let shape = shapes.get(type);
  if (shape) return shape;
  const nullable = getNullableType(type);
  const itemType = isListType(nullable) ? (nullable.ofType as GraphQLOutputType) : undefined;
  const named = getNamedType(type);
  shape = {
    nonNull: isNonNullType(type),
    itemType,
    item: itemType ? shapeOf(itemType) : undefined,
    named,
    object: isObjectType(named) ? named : undefined,
    abstract: isAbstractType(named) ? named : undefined,
    composite: isCompositeType(named),
    enumType: isEnumType(named) ? named : undefined,
    scalar: isScalarType(named) ? named.name : undefined,
  };
  shapes.set(type, shape);
  return shape;
}

/** Whether a transformed value can stand where the field's type says (leaf types checked exactly). */
export function conformsTo(value: unknown, type: GraphQLOutputType): boolean {
  return conforms(value, shapeOf(type));
}

function conforms(value: unknown, shape: Shape): boolean {
  if (value === null) return !shape.nonNull;
  if (shape.item) {
    const item = shape.item;
    return Array.isArray(value) && value.every((v) => conforms(v, item));
  }
  if (shape.enumType) return typeof value === 'string' && shape.enumType.getValue(value) !== undefined;
  switch (shape.scalar) {
    case undefined:
      return typeof value === 'object' && !Array.isArray(value);
    case 'String':
      return typeof value === 'string';
    case 'ID':
      return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));
    case 'Int':
      return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 2147483647;
    case 'Float':
      return typeof value === 'number' && Number.isFinite(value);
    case 'Boolean':
      return typeof value === 'boolean';
    default:
      return true; // a custom scalar: any JSON
  }
}

class Walk {
  readonly targets: Target[] = [];
  readonly #prepared: PreparedDirectives;
  readonly #schema: GraphQLSchema;
  readonly #selection: SelectionContext;
  readonly #variables: Record<string, unknown>;
  readonly #context: Omit<DirectiveContext, 'variables'>;
  /** The context of schema directives (no variables): one object, so batches share it. */
  readonly #schemaContext: DirectiveContext;
  readonly #errorPaths: ReadonlySet<string>;
  readonly #collected = new Map<readonly FieldNode[], Map<string, Map<string, ReadonlyArray<FieldNode>>>>();
  readonly #operationSteps = new Map<FieldNode, Step[]>();
  /** Targets whose subtree is being walked: a target found below raises their level. */
  readonly #open: Target[] = [];

  constructor(
    prepared: PreparedDirectives,
    selection: SelectionContext,
    variables: Record<string, unknown>,
    context: Omit<DirectiveContext, 'variables'>,
    errorPaths: ReadonlySet<string>,
  ) {
    this.#prepared = prepared;
    this.#schema = prepared.apiSchema;
    this.#selection = selection;
    this.#variables = variables;
    this.#context = context;
    this.#schemaContext = { ...context, variables: {} };
    this.#errorPaths = errorPaths;
  }

  object(object: Record<string, unknown>, type: GraphQLObjectType, nodes: readonly FieldNode[], trail: Trail | undefined): void {
    const fields = this.#collect(nodes, type);
    for (const [key, fieldNodes] of fields) {
      const name = fieldNodes[0]!.name.value;
      if (name.startsWith('__')) continue;
      const definition = type.getFields()[name];
      const value = object[key];
      if (!definition || value === undefined) continue;
      const here: Trail = { holder: object, key, type: definition.type, parent: trail };
      let target: Target | undefined;
      if (value !== null) {
        const steps = this.#steps(type, name, fieldNodes);
        if (steps.length > 0 && !this.#hasError(here)) {
          target = { trail: here, type: definition.type, steps, level: 0 };
          this.targets.push(target);
        }
      }
      if (target) this.#open.push(target);
      if (value !== null && shapeOf(definition.type).composite) this.#descend(value, definition.type, fieldNodes, here);
      if (target) {
        this.#open.pop();
        const parent = this.#open.at(-1);
        if (parent) parent.level = Math.max(parent.level, target.level + 1);
      }
    }
  }

  #descend(value: unknown, type: GraphQLOutputType, nodes: readonly FieldNode[], trail: Trail): void {
    if (value === null || value === undefined) return;
    const shape = shapeOf(type);
    if (shape.itemType) {
      if (!Array.isArray(value)) return;
      const itemType = shape.itemType;
      for (let i = 0; i < value.length; i += 1) {
        this.#descend(value[i], itemType, nodes, { holder: value, key: i, type: itemType, parent: trail });
      }
      return;
    }
    if (typeof value !== 'object') return;
    const object = value as Record<string, unknown>;
    let runtime: GraphQLObjectType | undefined = shape.object;
    const typename = object[TYPENAME_ALIAS] ?? object['__typename'];
    if (TYPENAME_ALIAS in object) delete object[TYPENAME_ALIAS];
    if (!runtime && typeof typename === 'string') {
      const found = this.#schema.getType(typename);
      if (isObjectType(found)) runtime = found;
    }
    if (runtime) {
      this.object(object, runtime, nodes, trail);
      return;
    }
    // Concrete type unknown (no rewrite ran): be conservative, apply what any possible type declares.
    if (shape.abstract) {
      for (const possible of this.#schema.getPossibleTypes(shape.abstract)) this.object(object, possible, nodes, trail);
    }
  }

  #hasError(trail: Trail): boolean {
    if (this.#errorPaths.size === 0) return false;
    const path = responsePathOf(trail);
    for (let n = path.length; n > 0; n -= 1) if (this.#errorPaths.has(path.slice(0, n).join('\u0000'))) return true;
    return false;
  }

  /** Steps per collected field list (one list per parent selection and concrete type): computed once per request. */
  readonly #stepsOf = new Map<readonly FieldNode[], Step[]>();

  #steps(type: GraphQLObjectType, name: string, fieldNodes: readonly FieldNode[]): Step[] {
    let cached = this.#stepsOf.get(fieldNodes);
    if (!cached) {
      cached = this.#computeSteps(type, name, fieldNodes);
      this.#stepsOf.set(fieldNodes, cached);
    }
    return cached;
  }

  #computeSteps(type: GraphQLObjectType, name: string, fieldNodes: readonly FieldNode[]): Step[] {
    const steps: Step[] = this.#prepared.fieldApplications(type, name).map((application) => ({ application, context: this.#schemaContext }));
    for (const node of fieldNodes) {
      let own = this.#operationSteps.get(node);
      if (!own) {
        own = [];
        for (const directive of node.directives ?? []) {
          if (!this.#prepared.operationDirectives.has(directive.name.value)) continue;
          const entry = this.#prepared.entries.get(directive.name.value);
          if (!entry) continue;
          const application = resolveApplication(entry, directive, this.#variables);
          const variables: Record<string, unknown> = {};
          for (const variable of application.variables) {
            if (Object.hasOwn(this.#variables, variable)) variables[variable] = this.#variables[variable];
          }
          own.push({ application, context: { ...this.#context, variables } });
        }
        this.#operationSteps.set(node, own);
      }
      steps.push(...own);
    }
    return steps;
  }

  /** The fields below `nodes` for one concrete type (the core's collectSubfields), memoized per request. */
  #collect(nodes: readonly FieldNode[], type: GraphQLObjectType): Map<string, ReadonlyArray<FieldNode>> {
    let byType = this.#collected.get(nodes);
    if (!byType) {
      byType = new Map();
      this.#collected.set(nodes, byType);
    }
    let fields = byType.get(type.name);
    if (!fields) {
      fields = collectSubfields(this.#selection, type, nodes);
      byType.set(type.name, fields);
    }
    return fields;
  }
}

function valueAt(trail: Trail): unknown {
  return (trail.holder as Record<string | number, unknown>)[trail.key];
}

export async function applyDirectives(
  prepared: PreparedDirectives,
  result: GatewayExecutionResult,
  requestContext: GatewayGraphQLRequestContext,
  document: DocumentNode,
  dependencies: ApplyDependencies,
): Promise<GatewayExecutionResult> {
  const data = result.data;
  if (!data || !isRelevant(prepared, document)) return result;
  const operationName = requestContext.operationName ?? requestContext.request.operationName;
  const operation = selectOperation(document, operationName);
  if (operation instanceof GraphQLError) return result;
  const root = prepared.apiSchema.getRootType(operation.operation);
  if (!root) return result;

  const raw = requestContext.request.variables ?? {};
  const coerced = getVariableValues(prepared.extendedSchema, operation.variableDefinitions ?? [], raw, { maxErrors: 1 });
  const variables = coerced.coerced ?? raw;
  const errorPaths = new Set<string>();
  for (const error of result.errors ?? []) if (error.path) errorPaths.add(error.path.join('\u0000'));

  const walk = new Walk(prepared, { schema: prepared.apiSchema, fragments: fragmentsOf(document), variables }, variables, { locale: localeOf(requestContext), tenant: tenantOf(requestContext) }, errorPaths);
  const rootField: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__root' }, selectionSet: operation.selectionSet };
  walk.object(data as Record<string, unknown>, root, [rootField], undefined);
  const { targets } = walk;
  if (targets.length === 0) return result;

  await dependencies.sandbox.ready().catch(() => undefined);
  const deepest = targets.reduce((max, t) => Math.max(max, t.level), 0);
  for (let level = 0; level <= deepest; level += 1) {
    const pending = targets.filter((t) => t.level === level);
    for (let round = 0; pending.some((t) => !t.failure && t.steps.length > round); round += 1) {
      // One batch per directive for this round, values in document order.
      const groups = new Map<string, { entry: CatalogEntry; targets: Target[]; steps: Step[] }>();
      for (const target of pending) {
        const step = target.steps[round];
        if (!step || target.failure) continue;
        if (valueAt(target.trail) === null) continue; // nulled meanwhile (propagation)
        const { entry } = step.application;
        let group = groups.get(entry.name);
        if (!group) {
          group = { entry, targets: [], steps: [] };
          groups.set(entry.name, group);
        }
        group.targets.push(target);
        group.steps.push(step);
      }
      for (const group of groups.values()) runGroup(group, dependencies);
    }
  }

  let nulled = false;
  const errors: GraphQLError[] = [];
  for (const target of targets) {
    if (!target.failure) continue;
    const { entry, reason } = target.failure;
    if (!propagateNull(target.trail)) nulled = true;
    errors.push(
      new GraphQLError(`@${entry.name} (extension "${entry.extension}") could not transform this field, so it is null: ${REASON_TEXT[reason]}.`, {
        path: responsePathOf(target.trail),
        extensions: { code: GraftErrorCode.DIRECTIVE_FAILED, directive: entry.name, extension: entry.extension, reason },
      }),
    );
  }
  if (errors.length === 0) return result;
  return { ...result, data: nulled ? null : data, errors: [...(result.errors ?? []), ...errors] };
}

function fail(target: Target, entry: CatalogEntry, reason: DirectiveFailureReason): void {
  target.failure = { entry, reason };
}

function runGroup(group: { entry: CatalogEntry; targets: Target[]; steps: Step[] }, dependencies: ApplyDependencies): void {
  const { entry, targets, steps } = group;
  const module = entry.module;
  const report = (reason: DirectiveFailureReason, fields: number, detail: string) =>
    dependencies.onFailure({ directive: entry.name, extension: entry.extension, version: module?.version, reason, fields, detail });
  if (!module) {
    targets.forEach((t) => fail(t, entry, 'unavailable'));
    report('unavailable', targets.length, 'no extension in service implements this directive');
    return;
  }
  const breaker = dependencies.breakerFor(module);
  if (!breaker.allow()) {
    targets.forEach((t) => fail(t, entry, 'suspended'));
    report('suspended', targets.length, 'the directive is suspended after repeated failures');
    return;
  }

  const runnable: number[] = [];
  targets.forEach((target, i) => {
    if (steps[i]!.application.args === undefined) fail(target, entry, 'error');
    else runnable.push(i);
  });
  const args: unknown[] = [];
  const argIndex = new Map<unknown, number>();
  const contexts: unknown[] = [];
  const contextIndex = new Map<DirectiveContext, number>();
  const argOf: number[] = [];
  const contextOf: number[] = [];
  const values: unknown[] = [];
  for (const i of runnable) {
    const step = steps[i]!;
    let a = argIndex.get(step.application.args);
    if (a === undefined) {
      a = args.push(step.application.args) - 1;
      argIndex.set(step.application.args, a);
    }
    let c = contextIndex.get(step.context);
    if (c === undefined) {
      c = contexts.push(step.context) - 1;
      contextIndex.set(step.context, c);
    }
    argOf.push(a);
    contextOf.push(c);
    values.push(valueAt(targets[i]!.trail));
  }
  if (runnable.length === 0) {
    report('error', targets.length, 'the arguments do not fit the directive definition');
    return;
  }

  const outcome = dependencies.sandbox.runBatch(
    { key: moduleKey(module), label: `${module.extension}/${module.modulePath}`, source: module.source },
    { values, args, argOf, contexts, contextOf },
  );
  breaker.record(outcome.healthy);
  const failures = new Map<DirectiveFailureReason, { count: number; detail: string }>();
  outcome.outcomes.forEach((result, position) => {
    const target = targets[runnable[position]!]!;
    let reason: DirectiveFailureReason | undefined;
    let detail = '';
    if (!result.ok) {
      reason = result.kind;
      detail = result.detail;
    } else if (!conformsTo(result.value, target.type)) {
      const value = result.value;
      reason = 'output';
      detail = `returned ${Array.isArray(value) ? 'a list' : value === null ? 'null' : `a ${typeof value}`} for a field of type ${String(target.type)}`;
    }
    if (reason) {
      fail(target, entry, reason);
      const seen = failures.get(reason);
      if (seen) seen.count += 1;
      else failures.set(reason, { count: 1, detail });
      return;
    }
    if (result.ok) (target.trail.holder as Record<string | number, unknown>)[target.trail.key] = result.value;
  });
  for (const [reason, { count, detail }] of failures) report(reason, count, detail);
}
