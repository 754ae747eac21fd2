// Static cost of one operation: a single walk of the parsed document against the
// precomputed tables of a CostModel. Runs on every request at the gateway, so it does
// no parsing and no schema look-ups beyond Map gets, and keeps nothing between calls.
//
// cost(operation) = base (mutation 10, query and subscription 0) + Σ cost(root fields)
// cost(field)     = count × (weight + Σ cost(selections)) + Σ cost(arguments) + cost(@requires)
// with count = 1 for a non-list field; for a list field the parent's `sizedFields` size,
// else the largest slicing argument, else `assumedSize`, else the model's default list
// size (Apollo Router, demand_control/cost_calculator/static_cost.rs `score_field`).
//
// Every amount is charged to the subgraphs resolving the field it comes from; amounts
// are linear in the counts above, so the walk carries the product of the enclosing list
// counts (the multiplier) down instead of building intermediate results.
//
// Where Graft differs from the router, on purpose:
// - The router enforces on the query plan (the sum of each subgraph fetch scored on that
//   subgraph's schema), where an entity fetch is one `_entities` list of the default size, so
//   lists nested across subgraphs do not multiply. Graft scores the client's document on the
//   supergraph (the router's `estimated` path): larger for such lists, and needs no plan.
// - Fragments on different members of an abstract type cost the dearest member (the router sums).
// - @skip/@include are honoured with variables and on fragments too (the router: literals on fields).
// - A variable the request omits takes its default from the operation (the router: 0 / ignored).
// - A negative slicing value counts as 0 (the router would subtract).
// - A requireOneSlicingArgument violation is reported in `problems` (the router refuses).
import {
  GraphQLError,
  Kind,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { isIncluded, operationVariables, selectOperation as selectOperationOf } from '../graphql/index.js';
import { CostModelTables, type CostModel, type FieldCost, type InputValueCost, type OutputTypeCost } from './model.js';

export interface CostEstimate {
  /** The operation's estimated cost (IBM cost spec with Apollo Router's rules; differences above). */
  total: number;
  /**
   * The part of the cost each subgraph resolves, by subgraph name; subgraphs with no cost
   * are absent. Does not necessarily add up to `total`: a mutation's base cost (10)
   * belongs to no subgraph, and a field that several subgraphs can resolve (no
   * `@join__field`, several `@join__type`) is charged to each of them (conservative).
   */
  bySubgraph: Record<string, number>;
  /** Rule violations the estimate noticed; empty when there are none. */
  problems: readonly CostProblem[];
}

export interface CostProblem {
  /**
   * SLICING_ARGUMENT_REQUIRED: a field with `@listSize(requireOneSlicingArgument: true)`
   * (the directive's default) got no slicing argument or several. Apollo Router refuses
   * such an operation; the estimate uses the largest value given (else the list size
   * fallbacks), and the gateway decides.
   */
  readonly code: 'SLICING_ARGUMENT_REQUIRED';
  /** `Type.field`. */
  readonly coordinate: string;
  readonly message: string;
}

export interface EstimateCostOptions {
  /** Which operation of the document runs, as in the GraphQL request. */
  operationName?: string | null;
  /** The request's variables (raw JSON); a variable missing here takes its default from the operation. */
  variables?: Record<string, unknown>;
}

/** Thrown when the document does not match the model: estimate only documents validated against the same supergraph. */
export class CostEstimationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CostEstimationError';
  }
}

const NO_PROBLEMS: readonly CostProblem[] = Object.freeze([]);

/** Attributes what one list field passes to its direct children named in its `sizedFields`. */
interface SizedFieldsContext {
  readonly sizedFields: ReadonlySet<string>;
  readonly size: number;
}

/** A part of an abstract-typed selection set that applies only to some of its object types. */
interface TypeConditionedCost {
  /** Object types the part applies to; null = all. */
  readonly appliesTo: ReadonlySet<string> | null;
  readonly cost: Float64Array;
}

export function estimateCost(model: CostModel, document: DocumentNode, options: EstimateCostOptions = {}): CostEstimate {
  if (!(model instanceof CostModelTables)) throw new TypeError('estimateCost needs a CostModel made by buildCostModel.');
  const operation = selectOperation(document, options.operationName);
  let rootType: OutputTypeCost | null;
  if (operation.operation === 'mutation') rootType = model.mutationType;
  else if (operation.operation === 'subscription') rootType = model.subscriptionType;
  else rootType = model.queryType;
  if (rootType === null) throw new CostEstimationError(`The supergraph has no ${operation.operation} type.`);

  const walk = new CostWalk(model, document, operation, options.variables);
  const sums = walk.newCostVector();
  walk.scoreSelectionSet(operation.selectionSet, rootType, null, 1, sums);

  const bySubgraph: Record<string, number> = {};
  const names = model.subgraphNames;
  for (let index = 0; index < names.length; index++) {
    const amount = sums[index] ?? 0;
    if (amount !== 0) bySubgraph[names[index] ?? ''] = amount;
  }
  // Apollo's operation base cost (docs: "Mutation 10, Query 0, Subscription 0").
  const base = operation.operation === 'mutation' ? 10 : 0;
  return { total: base + (sums[walk.totalIndex] ?? 0), bySubgraph, problems: walk.problems ?? NO_PROBLEMS };
}

function selectOperation(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode {
  const operation = selectOperationOf(document, operationName);
  if (operation instanceof GraphQLError) throw new CostEstimationError(operation.message);
  return operation;
}

/** State of one estimate; never outlives the call. */
class CostWalk {
  /** Index of the total in a cost vector; the indexes before it are the subgraphs'. */
  readonly totalIndex: number;
  problems: CostProblem[] | null = null;
  private fragments: Map<string, FragmentDefinitionNode> | null = null;
  /** Cost of a fragment's selection set (multiplier 1) per sized-fields context, so that fragments spread many times are walked once. */
  private fragmentCosts: Map<SizedFieldsContext | null, Map<string, Float64Array>> | null = null;
  private readonly fragmentsInProgress = new Set<string>();
  /** The request's variables over the operation's defaults, made on first use. */
  private values: Record<string, unknown> | null = null;

  constructor(
    private readonly model: CostModelTables,
    private readonly document: DocumentNode,
    private readonly operation: OperationDefinitionNode,
    private readonly variables: Record<string, unknown> | undefined,
  ) {
    this.totalIndex = model.subgraphNames.length;
  }

  newCostVector(): Float64Array {
    return new Float64Array(this.totalIndex + 1);
  }

  scoreSelectionSet(
    selectionSet: SelectionSetNode,
    parentType: OutputTypeCost,
    sizing: SizedFieldsContext | null,
    multiplier: number,
    out: Float64Array,
  ): void {
    if (parentType.isAbstract && this.narrowsType(selectionSet, parentType)) {
      this.scoreDearestMember(selectionSet, parentType, sizing, multiplier, out);
      return;
    }
    for (const selection of selectionSet.selections) {
      if (selection.directives !== undefined && selection.directives.length > 0 && this.isExcluded(selection)) continue;
      switch (selection.kind) {
        case Kind.FIELD:
          this.scoreField(selection, parentType, sizing, multiplier, out);
          break;
        case Kind.INLINE_FRAGMENT: {
          const type = selection.typeCondition ? this.outputType(selection.typeCondition.name.value) : parentType;
          this.scoreSelectionSet(selection.selectionSet, type, sizing, multiplier, out);
          break;
        }
        case Kind.FRAGMENT_SPREAD:
          addScaled(out, this.fragmentCost(selection.name.value, sizing), multiplier);
          break;
      }
    }
  }

  private scoreField(
    node: FieldNode,
    parentType: OutputTypeCost,
    sizing: SizedFieldsContext | null,
    multiplier: number,
    out: Float64Array,
  ): void {
    const name = node.name.value;
    // __typename is free (the router short-circuits it); __schema and __type are answered
    // by the gateway itself, and their depth is bounded by graphql-js's MaxIntrospectionDepthRule.
    if (name.startsWith('__')) return;
    const field = parentType.fields.get(name);
    if (field === undefined) throw new CostEstimationError(`${parentType.name}.${name} is not in the supergraph of this cost model.`);

    let expectedSize: number | null = null;
    if (field.listSize !== null) {
      expectedSize = this.slicedSize(node, field);
      if (expectedSize === null) expectedSize = field.listSize.assumedSize;
    }
    let count = 1;
    if (field.isList) {
      const sizedByParent = sizing !== null && sizing.sizedFields.has(name) ? sizing.size : null;
      count = Math.max(0, sizedByParent ?? expectedSize ?? this.model.defaultListSize);
    }

    charge(out, this.totalIndex, field.owners, multiplier * count * field.weight);

    if (node.arguments !== undefined && node.arguments.length > 0) {
      let argumentsCost = 0;
      for (const argument of node.arguments) {
        const input = field.arguments.get(argument.name.value);
        if (input !== undefined && input.canCost) argumentsCost += this.scoreInput(argument.value, input);
      }
      charge(out, this.totalIndex, field.owners, multiplier * argumentsCost);
    }

    // The router adds the cost of what @requires fetches, even if the query selects it too
    // (an upper bound; static_cost.rs explains why it does not deduplicate).
    if (field.requires !== null) this.scoreSelectionSet(field.requires, parentType, null, multiplier, out);

    if (node.selectionSet !== undefined && count > 0) {
      const sizedFields = field.listSize?.sizedFields ?? null;
      const childSizing = sizedFields !== null && expectedSize !== null ? { sizedFields, size: expectedSize } : null;
      this.scoreSelectionSet(node.selectionSet, field.returnType, childSizing, multiplier * count, out);
    }
  }

  /** The largest slicing argument value (given, else the schema default), or null if none has one. */
  private slicedSize(node: FieldNode, field: FieldCost): number | null {
    const listSize = field.listSize;
    if (listSize === null || listSize.slicingArguments.length === 0) return null;
    let largest: number | null = null;
    let given = 0;
    for (const slicing of listSize.slicingArguments) {
      let size = this.givenSlicingValue(node, slicing.path);
      if (size === null) size = slicing.defaultSize;
      if (size === null) continue;
      given++;
      if (largest === null || size > largest) largest = size;
    }
    if (listSize.requireOneSlicingArgument && given !== 1) {
      (this.problems ??= []).push({
        code: 'SLICING_ARGUMENT_REQUIRED',
        coordinate: field.coordinate,
        message: `${field.coordinate} needs exactly one of its slicing arguments (${listSize.slicingArguments
          .map((s) => s.path.join('.'))
          .join(', ')}), got ${given}.`,
      });
    }
    return largest;
  }

  /** The integer the request passes at `path` (argument, then input fields), literal or through variables. */
  private givenSlicingValue(node: FieldNode, path: readonly string[]): number | null {
    let valueNode: ValueNode | undefined;
    for (const argument of node.arguments ?? []) {
      if (argument.name.value === path[0]) {
        valueNode = argument.value;
        break;
      }
    }
    let index = 1;
    while (valueNode !== undefined) {
      if (valueNode.kind === Kind.VARIABLE) return integerAt(this.variableValue(valueNode.name.value), path, index);
      if (index === path.length) return valueNode.kind === Kind.INT ? Number.parseInt(valueNode.value, 10) : null;
      if (valueNode.kind !== Kind.OBJECT) return null;
      const segment = path[index++];
      valueNode = valueNode.fields.find((f) => f.name.value === segment)?.value;
    }
    return null;
  }

  /** Cost of an argument or input-field value (static_cost.rs `score_argument`). */
  private scoreInput(value: ValueNode, input: InputValueCost): number {
    switch (value.kind) {
      case Kind.VARIABLE: {
        const variable = this.variableValue(value.name.value);
        return variable === undefined ? 0 : scoreInputJson(variable, input);
      }
      case Kind.NULL:
        return 0;
      case Kind.OBJECT: {
        // Only input objects score their fields; an object literal for a custom scalar (JSON) is one value.
        if (input.inputObject === null) return input.weight ?? 0;
        let cost = input.weight ?? 1;
        for (const field of value.fields) {
          const fieldInput = input.inputObject.fields.get(field.name.value);
          if (fieldInput !== undefined && fieldInput.canCost) cost += this.scoreInput(field.value, fieldInput);
        }
        return cost;
      }
      case Kind.LIST: {
        let cost = input.weight ?? 0;
        for (const item of value.values) cost += this.scoreInput(item, input);
        return cost;
      }
      default:
        return input.weight ?? 0;
    }
  }

  /** The request's value of a variable, else its default in the operation, else undefined. */
  private variableValue(name: string): unknown {
    this.values ??= operationVariables(this.operation, this.variables);
    return Object.hasOwn(this.values, name) ? this.values[name] : undefined;
  }

  /** Left out by `@skip`/`@include` (the GraphQL core's rule); a condition not known counts, so the estimate stays an upper bound. */
  private isExcluded(node: { readonly directives?: readonly DirectiveNode[] | undefined }): boolean {
    this.values ??= operationVariables(this.operation, this.variables);
    return !isIncluded(node, this.values);
  }

  private fragmentCost(name: string, sizing: SizedFieldsContext | null): Float64Array {
    this.fragmentCosts ??= new Map();
    let costs = this.fragmentCosts.get(sizing);
    if (costs === undefined) {
      costs = new Map();
      this.fragmentCosts.set(sizing, costs);
    }
    const known = costs.get(name);
    if (known !== undefined) return known;
    if (this.fragmentsInProgress.has(name)) throw new CostEstimationError(`Fragment "${name}" spreads itself.`);
    const fragment = this.fragment(name);
    const cost = this.newCostVector();
    this.fragmentsInProgress.add(name);
    this.scoreSelectionSet(fragment.selectionSet, this.outputType(fragment.typeCondition.name.value), sizing, 1, cost);
    this.fragmentsInProgress.delete(name);
    costs.set(name, cost);
    return cost;
  }

  private fragment(name: string): FragmentDefinitionNode {
    if (this.fragments === null) {
      this.fragments = new Map();
      for (const definition of this.document.definitions) {
        if (definition.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(definition.name.value, definition);
      }
    }
    const fragment = this.fragments.get(name);
    if (fragment === undefined) throw new CostEstimationError(`The document has no fragment named "${name}".`);
    return fragment;
  }

  private outputType(name: string): OutputTypeCost {
    const type = this.model.outputTypes.get(name);
    if (type === undefined) throw new CostEstimationError(`Type ${name} is not in the supergraph of this cost model.`);
    return type;
  }

  /**
   * True when a fragment in this selection set (directly, or inside fragments without a
   * narrower type condition) applies to only some of the abstract type's object types.
   */
  private narrowsType(selectionSet: SelectionSetNode, parentType: OutputTypeCost): boolean {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) continue;
      let conditionName: string | undefined;
      if (selection.kind === Kind.INLINE_FRAGMENT) conditionName = selection.typeCondition?.name.value;
      else conditionName = this.fragment(selection.name.value).typeCondition.name.value;
      if (conditionName === undefined || conditionName === parentType.name) {
        if (selection.kind === Kind.INLINE_FRAGMENT && this.narrowsType(selection.selectionSet, parentType)) return true;
        continue;
      }
      const covered = this.outputType(conditionName).possibleTypes;
      for (const member of parentType.possibleTypes) if (!covered.has(member)) return true;
    }
    return false;
  }

  /**
   * An abstract-typed selection set whose fragments narrow it: a value is one object type
   * at run time, so the set costs what it costs for its dearest object type (fragments on
   * different union members: max, not sum). Apollo Router sums here; DESIGN.md's reference
   * ("abstract types take the most expensive member") and the IBM spec's per-type view
   * are what Graft follows. A named fragment spread counts as one part (its own
   * abstract selections already maxed), which can only over-estimate.
   */
  private scoreDearestMember(
    selectionSet: SelectionSetNode,
    parentType: OutputTypeCost,
    sizing: SizedFieldsContext | null,
    multiplier: number,
    out: Float64Array,
  ): void {
    const parts: TypeConditionedCost[] = [];
    this.collectParts(selectionSet, parentType, null, sizing, parts);
    let dearest: string | null = null;
    let dearestTotal = Number.NEGATIVE_INFINITY;
    for (const member of parentType.possibleTypes) {
      let total = 0;
      for (const part of parts) if (part.appliesTo === null || part.appliesTo.has(member)) total += part.cost[this.totalIndex] ?? 0;
      if (total > dearestTotal) {
        dearestTotal = total;
        dearest = member;
      }
    }
    for (const part of parts) {
      if (part.appliesTo === null || (dearest !== null && part.appliesTo.has(dearest))) addScaled(out, part.cost, multiplier);
    }
  }

  private collectParts(
    selectionSet: SelectionSetNode,
    type: OutputTypeCost,
    appliesTo: ReadonlySet<string> | null,
    sizing: SizedFieldsContext | null,
    parts: TypeConditionedCost[],
  ): void {
    for (const selection of selectionSet.selections) {
      if (selection.directives !== undefined && selection.directives.length > 0 && this.isExcluded(selection)) continue;
      if (selection.kind === Kind.FIELD) {
        const cost = this.newCostVector();
        this.scoreField(selection, type, sizing, 1, cost);
        parts.push({ appliesTo, cost });
        continue;
      }
      const conditionName =
        selection.kind === Kind.INLINE_FRAGMENT
          ? selection.typeCondition?.name.value
          : this.fragment(selection.name.value).typeCondition.name.value;
      const conditionType = conditionName === undefined ? type : this.outputType(conditionName);
      const narrowed = intersect(appliesTo, conditionType.possibleTypes);
      if (narrowed.size === 0) continue;
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        this.collectParts(selection.selectionSet, conditionType, narrowed, sizing, parts);
      } else {
        parts.push({ appliesTo: narrowed, cost: this.fragmentCost(selection.name.value, sizing) });
      }
    }
  }
}

function intersect(current: ReadonlySet<string> | null, condition: ReadonlySet<string>): ReadonlySet<string> {
  if (current === null) return condition;
  const both = new Set<string>();
  for (const member of current) if (condition.has(member)) both.add(member);
  return both;
}

/** Adds `amount` to the total and to each owner's entry. */
function charge(out: Float64Array, totalIndex: number, owners: readonly number[], amount: number): void {
  if (amount === 0) return;
  out[totalIndex] = (out[totalIndex] ?? 0) + amount;
  for (const owner of owners) out[owner] = (out[owner] ?? 0) + amount;
}

function addScaled(out: Float64Array, cost: Float64Array, multiplier: number): void {
  if (multiplier === 0) return;
  for (let index = 0; index < out.length; index++) out[index] = (out[index] ?? 0) + (cost[index] ?? 0) * multiplier;
}

/** Cost of a variable's JSON value for an input (static_cost.rs `score_variable`). */
function scoreInputJson(value: unknown, input: InputValueCost): number {
  if (value === null || value === undefined) return 0;
  if (Array.isArray(value)) {
    let cost = input.weight ?? 0;
    for (const item of value) cost += scoreInputJson(item, input);
    return cost;
  }
  if (typeof value === 'object' && input.inputObject !== null) {
    let cost = input.weight ?? 1;
    for (const [name, fieldValue] of Object.entries(value)) {
      const fieldInput = input.inputObject.fields.get(name);
      if (fieldInput !== undefined && fieldInput.canCost) cost += scoreInputJson(fieldValue, fieldInput);
    }
    return cost;
  }
  return input.weight ?? 0;
}

/** The integer at `path[index..]` inside a JSON value, or null. */
function integerAt(value: unknown, path: readonly string[], index: number): number | null {
  let current = value;
  for (let i = index; i < path.length; i++) {
    const segment = path[i];
    if (typeof current !== 'object' || current === null || Array.isArray(current) || segment === undefined) return null;
    if (!Object.hasOwn(current, segment)) return null;
    current = (current as Record<string, unknown>)[segment];
  }
  return typeof current === 'number' && Number.isInteger(current) ? current : null;
}
