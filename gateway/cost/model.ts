// The cost model: everything static cost estimation needs from one supergraph, read once
// when the supergraph is loaded so that estimating a request is a single walk of its
// document with no schema look-ups beyond Map gets.
//
// Sources of the semantics:
// - IBM GraphQL Cost Directives spec (https://ibm.github.io/graphql-specs/cost-spec.html);
// - Apollo Router's demand control, apollo-router/src/plugins/demand_control/cost_calculator/
//   (static_cost.rs, directives.rs, schema.rs) and apollo-federation's
//   link/cost_spec_definition.rs (how @cost / @listSize are found under renames).
import {
  buildASTSchema,
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isObjectType,
  isScalarType,
  isUnionType,
  Kind,
  parse,
  type ConstDirectiveNode,
  type ConstValueNode,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { federationDirectiveNames, readLinks } from '../graphql/index.js';

/** Built once per supergraph by `buildCostModel`; immutable, shared by all requests. */
export interface CostModel {
  /** Subgraph (= extension) names in `join__Graph` order: the keys `bySubgraph` can have. */
  readonly subgraphNames: readonly string[];
  /** List size assumed for a list field that neither `@listSize` nor a parent's `sizedFields` sizes. */
  readonly defaultListSize: number;
}

export interface CostModelOptions {
  /** List size for list fields without `@listSize` (Apollo Router's `static_estimated.list_size`). Default 10. */
  defaultListSize?: number;
  /**
   * Graft's opt-in extension of the Apollo semantics, off by default: on a list field that
   * has no `@listSize`, an `Int` argument with one of these names (e.g. `["first", "last"]`)
   * counts as a slicing argument (its value, else its default). Apollo Router ignores such
   * arguments, so `customers(first: 1000)` on an un-annotated field costs `defaultListSize`
   * customers there; this option lets the gateway refuse it even when an extension author
   * forgot `@listSize`.
   */
  fallbackSlicingArguments?: readonly string[];
}

export type OutputKind = 'object' | 'interface' | 'union' | 'scalar' | 'enum';

/** An output type as the estimator needs it. */
export interface OutputTypeCost {
  readonly name: string;
  readonly kind: OutputKind;
  /** Interface or union: a selection on it may narrow with fragments, and then costs its dearest member. */
  readonly isAbstract: boolean;
  /** The object types a value of this type can be at run time (just itself for an object type). */
  readonly possibleTypes: ReadonlySet<string>;
  readonly fields: ReadonlyMap<string, FieldCost>;
}

export interface FieldCost {
  /** `Type.field`, for messages. */
  readonly coordinate: string;
  /** The field's type is a list (outer type, after non-null); nested list types count once, as in the router. */
  readonly isList: boolean;
  readonly returnType: OutputTypeCost;
  /** The field's `@cost`, else its return type's `@cost`, else 1 for composite and 0 for leaf types. */
  readonly weight: number;
  /** Indexes into `subgraphNames` of the subgraphs that resolve this field. Empty when unknown. */
  readonly owners: readonly number[];
  readonly arguments: ReadonlyMap<string, InputValueCost>;
  readonly listSize: ListSizeCost | null;
  /** The `@requires` field set (from `@join__field(requires:)`), scored on the parent type. */
  readonly requires: SelectionSetNode | null;
}

/** An argument or an input field. */
export interface InputValueCost {
  readonly name: string;
  /** Its own `@cost`, else its named type's `@cost` (scalars and enums can carry one), else null. */
  readonly weight: number | null;
  /** Set when the named type is an input object: its fields score too. */
  readonly inputObject: InputObjectCost | null;
  /** False when no value of this input can cost anything: the estimator skips it. */
  readonly canCost: boolean;
}

export interface InputObjectCost {
  readonly name: string;
  readonly fields: ReadonlyMap<string, InputValueCost>;
}

export interface SlicingArgument {
  /** `["first"]`, or a path into an input object for `"page.first"`. */
  readonly path: readonly string[];
  /** The schema's default for that path, when it is an integer. */
  readonly defaultSize: number | null;
}

export interface ListSizeCost {
  readonly assumedSize: number | null;
  readonly slicingArguments: readonly SlicingArgument[];
  /** Child field names whose list size is this field's size (the connection pattern). */
  readonly sizedFields: ReadonlySet<string> | null;
  /** The spec's default is true: a client must pass exactly one slicing argument. */
  readonly requireOneSlicingArgument: boolean;
}

/** The model's tables; the `CostModel` handed out is an instance of this class. */
export class CostModelTables implements CostModel {
  constructor(
    readonly subgraphNames: readonly string[],
    readonly defaultListSize: number,
    readonly outputTypes: ReadonlyMap<string, OutputTypeCost>,
    readonly queryType: OutputTypeCost | null,
    readonly mutationType: OutputTypeCost | null,
    readonly subscriptionType: OutputTypeCost | null,
  ) {
    Object.freeze(this);
  }
}

export class CostModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CostModelError';
  }
}

// ---------------------------------------------------------------------------------------
// Which names the directives have in this SDL

interface DirectiveNames {
  cost: string;
  listSize: string;
  joinField: string;
  joinType: string;
  joinGraph: string;
  joinGraphEnum: string;
}

function stringArgument(directive: ConstDirectiveNode, name: string): string | undefined {
  const value = argumentValue(directive, name);
  return value?.kind === Kind.STRING ? value.value : undefined;
}

function argumentValue(directive: ConstDirectiveNode, name: string): ConstValueNode | undefined {
  for (const argument of directive.arguments ?? []) if (argument.name.value === name) return argument.value;
  return undefined;
}

/**
 * Finds `@cost` / `@listSize` the way apollo-federation's CostSpecDefinition does: the
 * linked cost spec first (a supergraph links https://specs.apollo.dev/cost/v0.1, with the
 * subgraphs' renames as imports, e.g. `{name: "@cost", as: "@weight"}` or `as:
 * "@federation__cost"`), else the federation spec (a subgraph SDL), else the plain names.
 */
function resolveDirectiveNames(schema: GraphQLSchema): DirectiveNames {
  const links = readLinks(schema);
  const federation = federationDirectiveNames(links);
  const joinLink = links.find((l) => l.identity === 'https://specs.apollo.dev/join');
  const join = joinLink?.namespace ?? 'join';
  return {
    cost: federation.get('cost')!,
    listSize: federation.get('listSize')!,
    joinField: `${join}__field`,
    joinType: `${join}__type`,
    joinGraph: `${join}__graph`,
    joinGraphEnum: `${join}__Graph`,
  };
}

// ---------------------------------------------------------------------------------------
// Reading directive applications

interface HasAstNodes {
  readonly astNode?: { readonly directives?: readonly ConstDirectiveNode[] } | null | undefined;
  readonly extensionASTNodes?: readonly { readonly directives?: readonly ConstDirectiveNode[] }[];
}

function directivesOf(element: HasAstNodes): ConstDirectiveNode[] {
  const all: ConstDirectiveNode[] = [...(element.astNode?.directives ?? [])];
  for (const extension of element.extensionASTNodes ?? []) all.push(...(extension.directives ?? []));
  return all;
}

/**
 * `@cost(weight:)`: Int in Apollo's cost spec, a String in IBM's and in newer Apollo
 * versions (which parse it as a number), so all three literal kinds are accepted.
 */
function costWeight(directives: readonly ConstDirectiveNode[], costName: string): number | null {
  const directive = directives.find((d) => d.name.value === costName);
  if (!directive) return null;
  const value = argumentValue(directive, 'weight');
  if (!value) return null;
  let weight = Number.NaN;
  if (value.kind === Kind.INT || value.kind === Kind.FLOAT || value.kind === Kind.STRING) weight = Number(value.value);
  return Number.isFinite(weight) ? weight : null;
}

function intValue(value: ConstValueNode | undefined): number | null {
  return value?.kind === Kind.INT ? Number.parseInt(value.value, 10) : null;
}

function stringList(value: ConstValueNode | undefined): string[] | null {
  if (value?.kind !== Kind.LIST) return null;
  return value.values.flatMap((item) => (item.kind === Kind.STRING ? [item.value] : []));
}

// ---------------------------------------------------------------------------------------
// Building the tables

interface MutableOutputType {
  name: string;
  kind: OutputKind;
  isAbstract: boolean;
  possibleTypes: Set<string>;
  fields: Map<string, FieldCost>;
}

interface MutableInputObject {
  name: string;
  fields: Map<string, InputValueCost>;
}

function outputKind(type: GraphQLNamedType): OutputKind | null {
  if (isObjectType(type)) return 'object';
  if (isInterfaceType(type)) return 'interface';
  if (isUnionType(type)) return 'union';
  if (isScalarType(type)) return 'scalar';
  if (isEnumType(type)) return 'enum';
  return null;
}

/**
 * Reads the cost model of a supergraph (or of any SDL that uses the cost directives).
 * Throws `CostModelError` if the SDL does not parse or names types it does not define.
 */
export function buildCostModel(supergraphSdl: string, options: CostModelOptions = {}): CostModel {
  const defaultListSize = options.defaultListSize ?? 10;
  if (!Number.isInteger(defaultListSize) || defaultListSize < 0) {
    throw new CostModelError(`defaultListSize must be a non-negative integer, got ${defaultListSize}.`);
  }
  let schema: GraphQLSchema;
  try {
    schema = buildASTSchema(parse(supergraphSdl, { noLocation: true }), { assumeValidSDL: true });
  } catch (error) {
    throw new CostModelError(`The supergraph SDL cannot be read: ${(error as Error).message}`);
  }
  const names = resolveDirectiveNames(schema);
  const fallbackSlicingArguments = new Set(options.fallbackSlicingArguments ?? []);

  // Subgraphs: join__Graph values, named by @join__graph(name:).
  const subgraphNames: string[] = [];
  const graphIndex = new Map<string, number>();
  const graphEnum = schema.getType(names.joinGraphEnum);
  if (graphEnum && isEnumType(graphEnum)) {
    for (const value of graphEnum.getValues()) {
      const graphDirective = directivesOf(value).find((d) => d.name.value === names.joinGraph);
      const subgraphName = (graphDirective && stringArgument(graphDirective, 'name')) ?? value.name.toLowerCase();
      graphIndex.set(value.name, subgraphNames.length);
      subgraphNames.push(subgraphName);
    }
  }
  const graphsOf = (directives: readonly ConstDirectiveNode[], directiveName: string, skip?: (d: ConstDirectiveNode) => boolean): number[] => {
    const indexes = new Set<number>();
    for (const directive of directives) {
      if (directive.name.value !== directiveName || skip?.(directive)) continue;
      const graph = argumentValue(directive, 'graph');
      const index = graph?.kind === Kind.ENUM ? graphIndex.get(graph.value) : undefined;
      if (index !== undefined) indexes.add(index);
    }
    return [...indexes].sort((a, b) => a - b);
  };

  const typeMap = schema.getTypeMap();
  const typeWeights = new Map<string, number | null>();
  for (const [name, type] of Object.entries(typeMap)) typeWeights.set(name, costWeight(directivesOf(type), names.cost));

  // Input objects first (they may refer to each other, even recursively).
  const inputObjects = new Map<string, MutableInputObject>();
  for (const type of Object.values(typeMap)) {
    if (isInputObjectType(type)) inputObjects.set(type.name, { name: type.name, fields: new Map() });
  }
  const inputValueCost = (input: GraphQLArgument | GraphQLInputField): InputValueCost => {
    const named = getNamedType(input.type);
    const weight = costWeight(directivesOf(input), names.cost) ?? typeWeights.get(named.name) ?? null;
    const inputObject = inputObjects.get(named.name) ?? null;
    return { name: input.name, weight, inputObject, canCost: weight !== null || inputObject !== null };
  };
  for (const type of Object.values(typeMap)) {
    if (!isInputObjectType(type)) continue;
    const target = inputObjects.get(type.name);
    for (const field of Object.values(type.getFields())) target?.fields.set(field.name, inputValueCost(field));
  }

  // Output types, then their fields (a field refers to its return type's entry).
  const outputTypes = new Map<string, MutableOutputType>();
  for (const type of Object.values(typeMap)) {
    const kind = outputKind(type);
    if (kind === null) continue;
    const possibleTypes = new Set<string>();
    if (isAbstractType(type)) for (const member of schema.getPossibleTypes(type)) possibleTypes.add(member.name);
    else possibleTypes.add(type.name);
    outputTypes.set(type.name, { name: type.name, kind, isAbstract: isAbstractType(type), possibleTypes, fields: new Map() });
  }
  for (const type of Object.values(typeMap)) {
    if (!isObjectType(type) && !isInterfaceType(type)) continue;
    const target = outputTypes.get(type.name);
    if (!target) continue;
    const typeOwners = graphsOf(directivesOf(type), names.joinType);
    for (const field of Object.values(type.getFields())) {
      target.fields.set(field.name, buildFieldCost(type.name, field, typeOwners));
    }
  }

  function buildFieldCost(parentName: string, field: GraphQLField<unknown, unknown>, typeOwners: number[]): FieldCost {
    const coordinate = `${parentName}.${field.name}`;
    const named = getNamedType(field.type);
    const returnType = outputTypes.get(named.name);
    if (!returnType) throw new CostModelError(`${coordinate} returns ${named.name}, which is not an output type of the supergraph.`);
    const directives = directivesOf(field);
    const weight =
      costWeight(directives, names.cost) ?? typeWeights.get(named.name) ?? (isCompositeType(named) ? 1 : 0);
    // A subgraph that only declares the field @external, or whose field another subgraph
    // overrode, does not resolve it.
    const fieldOwners = graphsOf(directives, names.joinField, (d) => {
      const external = argumentValue(d, 'external');
      const usedOverridden = argumentValue(d, 'usedOverridden');
      return (external?.kind === Kind.BOOLEAN && external.value) || (usedOverridden?.kind === Kind.BOOLEAN && usedOverridden.value);
    });
    const owners = fieldOwners.length > 0 ? fieldOwners : typeOwners;
    const argumentsCost = new Map<string, InputValueCost>();
    for (const argument of field.args) argumentsCost.set(argument.name, inputValueCost(argument));
    const isList = isListType(getNullableType(field.type));
    return {
      coordinate,
      isList,
      returnType,
      weight,
      owners,
      arguments: argumentsCost,
      listSize: readListSize(coordinate, field, directives, isList),
      requires: readRequires(coordinate, directives),
    };
  }

  function readListSize(
    coordinate: string,
    field: GraphQLField<unknown, unknown>,
    directives: readonly ConstDirectiveNode[],
    isList: boolean,
  ): ListSizeCost | null {
    const directive = directives.find((d) => d.name.value === names.listSize);
    if (!directive) {
      if (!isList || fallbackSlicingArguments.size === 0) return null;
      const slicing = field.args.filter(
        (a) => fallbackSlicingArguments.has(a.name) && getNamedType(a.type).name === 'Int' && !isListType(getNullableType(a.type)),
      );
      if (slicing.length === 0) return null;
      return {
        assumedSize: null,
        slicingArguments: slicing.map((a) => ({ path: [a.name], defaultSize: integerOrNull(a.defaultValue) })),
        sizedFields: null,
        requireOneSlicingArgument: false,
      };
    }
    const slicingPaths = stringList(argumentValue(directive, 'slicingArguments')) ?? [];
    const sizedFields = stringList(argumentValue(directive, 'sizedFields'));
    const requireOne = argumentValue(directive, 'requireOneSlicingArgument');
    return {
      assumedSize: intValue(argumentValue(directive, 'assumedSize')),
      slicingArguments: slicingPaths.map((path) => slicingArgument(coordinate, field, path)),
      sizedFields: sizedFields === null ? null : new Set(sizedFields),
      // The directive's definition defaults it to true.
      requireOneSlicingArgument: requireOne?.kind === Kind.BOOLEAN ? requireOne.value : true,
    };
  }

  function slicingArgument(coordinate: string, field: GraphQLField<unknown, unknown>, dottedPath: string): SlicingArgument {
    const path = dottedPath.split('.');
    const argument = field.args.find((a) => a.name === path[0]);
    if (!argument) throw new CostModelError(`@listSize on ${coordinate} names slicing argument "${dottedPath}", which ${coordinate} does not have.`);
    // The default: the argument's default, navigated; where a level is missing, that input field's default.
    let value: unknown = argument.defaultValue;
    let type: GraphQLInputType = argument.type;
    for (const segment of path.slice(1)) {
      const named = getNamedType(type);
      const inputField = isInputObjectType(named) ? (named as GraphQLInputObjectType).getFields()[segment] : undefined;
      if (!inputField) throw new CostModelError(`@listSize on ${coordinate} names slicing argument "${dottedPath}", which does not exist.`);
      value = isPlainObject(value) && Object.hasOwn(value, segment) ? value[segment] : inputField.defaultValue;
      type = inputField.type;
    }
    return { path, defaultSize: integerOrNull(value) };
  }

  function readRequires(coordinate: string, directives: readonly ConstDirectiveNode[]): SelectionSetNode | null {
    const selections: SelectionNode[] = [];
    for (const directive of directives) {
      if (directive.name.value !== names.joinField) continue;
      const fieldSet = stringArgument(directive, 'requires');
      if (fieldSet === undefined) continue;
      try {
        const document = parse(`{ ${fieldSet} }`, { noLocation: true });
        const operation = document.definitions[0];
        if (operation?.kind === Kind.OPERATION_DEFINITION) selections.push(...operation.selectionSet.selections);
      } catch (error) {
        throw new CostModelError(`@requires on ${coordinate} does not parse: ${(error as Error).message}`);
      }
    }
    return selections.length === 0 ? null : { kind: Kind.SELECTION_SET, selections };
  }

  const rootType = (type: GraphQLNamedType | null | undefined): OutputTypeCost | null =>
    (type && outputTypes.get(type.name)) ?? null;
  return new CostModelTables(
    Object.freeze(subgraphNames),
    defaultListSize,
    outputTypes,
    rootType(schema.getQueryType()),
    rootType(schema.getMutationType()),
    rootType(schema.getSubscriptionType()),
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integerOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}
