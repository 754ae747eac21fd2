// What an operation selects: @skip/@include (with variables), fragments (named and inline,
// with type conditions against abstract types) and aliases, the way graphql-js executes
// them. Walkers that only read use collectFields (graphql-js's own); walkers that rewrite
// the document or score it without a runtime type (authorization, cost, limits) walk the
// AST themselves but ask isIncluded, so that every feature agrees on what is selected.
import {
  Kind,
  isAbstractType,
  isObjectType,
  valueFromASTUntyped,
  type DirectiveNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
// graphql-js's execution uses exactly these two (exported, marked @internal in 16.x).
import { collectFields as graphqlCollectFields, collectSubfields as graphqlCollectSubfields } from 'graphql/execution/collectFields.js';

export type VariableValues = Readonly<Record<string, unknown>>;

/** What collecting fields needs besides the selection: one per operation. */
export interface SelectionContext {
  readonly schema: GraphQLSchema;
  readonly fragments: Readonly<Record<string, FragmentDefinitionNode>>;
  /** Coerced variable values (operation defaults included), as execution sees them. */
  readonly variables: VariableValues;
}

/**
 * The variable values of one request as execution will see them, without coercing: the
 * request's values over the operation's defaults. For walkers that run before execution
 * coerces them (authorization, cost); a Boolean is the same JSON either way.
 */
export function operationVariables(operation: OperationDefinitionNode, given: VariableValues | null | undefined): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (given && Object.hasOwn(given, name)) values[name] = given[name];
    else if (definition.defaultValue !== undefined) values[name] = valueFromASTUntyped(definition.defaultValue);
  }
  return values;
}

function condition(directive: DirectiveNode, variables: VariableValues | undefined): boolean | undefined {
  const argument = directive.arguments?.find((a) => a.name.value === 'if')?.value;
  if (argument?.kind === Kind.BOOLEAN) return argument.value;
  if (argument?.kind === Kind.VARIABLE && variables && Object.hasOwn(variables, argument.name.value)) {
    const value = variables[argument.name.value];
    return typeof value === 'boolean' ? value : undefined;
  }
  return undefined;
}

/**
 * False when `@skip(if: true)` or `@include(if: false)` leaves the selection out, literal
 * or through a variable (graphql-js's shouldIncludeNode). A condition whose value is not
 * known (no variables: a validation rule, which is cached per document) counts as
 * included, so that static measures stay an upper bound.
 */
export function isIncluded(node: { readonly directives?: readonly DirectiveNode[] | undefined }, variables?: VariableValues): boolean {
  const directives = node.directives;
  if (directives === undefined || directives.length === 0) return true;
  for (const directive of directives) {
    const name = directive.name.value;
    if (name === 'skip') {
      if (condition(directive, variables) === true) return false;
    } else if (name === 'include') {
      if (condition(directive, variables) === false) return false;
    }
  }
  return true;
}

/** Fields of one selection set for one concrete type, by response key (graphql-js's collectFields). */
export function collectFields(context: SelectionContext, runtimeType: GraphQLObjectType, selectionSet: SelectionSetNode): Map<string, ReadonlyArray<FieldNode>> {
  return graphqlCollectFields(context.schema, context.fragments, context.variables, runtimeType, selectionSet);
}

/** Fields below the merged nodes of one response key, for one concrete type (graphql-js's collectSubfields). */
export function collectSubfields(context: SelectionContext, runtimeType: GraphQLObjectType, fieldNodes: ReadonlyArray<FieldNode>): Map<string, ReadonlyArray<FieldNode>> {
  return graphqlCollectSubfields(context.schema, context.fragments, context.variables, runtimeType, fieldNodes);
}

/** The object types a value of this type can be at run time. */
export function possibleRuntimeTypes(schema: GraphQLSchema, type: GraphQLCompositeType): readonly GraphQLObjectType[] {
  if (isObjectType(type)) return [type];
  return isAbstractType(type) ? schema.getPossibleTypes(type) : [];
}
