// The schema coordinates an operation touches (the names schema changes report: "Type",
// "Type.field", "Type.field.argument", "Input.field", "Enum.VALUE"), for usage recording and
// usage-based checks. graphql-js's TypeInfo does the typing; the fragments are those the
// operation spreads, the way validation and execution see them.
//
// Static, per document (so it can be cached per parsed document): a field under a
// `@skip`/`@include` counts as touched whatever the variables say, and a variable of an
// input object or enum type touches every field and value that type can carry (its value
// is not known without the request): an upper bound, which is what a check may rely on
// before removing something.
import {
  TypeInfo,
  getNamedType,
  isEnumType,
  isInputObjectType,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  type ASTNode,
  type DocumentNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { fragmentsOf } from './operation.js';

/** Every coordinate an input type can carry: the type, its fields (nested) and enum values. */
function addInputType(type: GraphQLNamedType, into: Set<string>, seen: Set<string>): void {
  if (seen.has(type.name)) return;
  seen.add(type.name);
  into.add(type.name);
  if (isEnumType(type)) for (const value of type.getValues()) into.add(`${type.name}.${value.name}`);
  if (isInputObjectType(type)) {
    for (const field of Object.values(type.getFields())) {
      into.add(`${type.name}.${field.name}`);
      addInputType(getNamedType(field.type), into, seen);
    }
  }
}

/**
 * The coordinates one operation of a validated document touches, sorted. Introspection
 * (`__schema`, `__type`, `__typename`) is left out: it is not part of any extension's API.
 */
export function schemaCoordinatesOf(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): string[] {
  const coordinates = new Set<string>();
  const inputTypesSeen = new Set<string>();
  const fragments = fragmentsOf(document);
  const typeInfo = new TypeInfo(schema);
  const pending: ASTNode[] = [operation];
  const spread = new Set<string>();
  const root = operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  if (root) coordinates.add(root.name);
  for (const definition of operation.variableDefinitions ?? []) {
    const type = typeFromAST(schema, definition.type);
    if (type) addInputType(getNamedType(type), coordinates, inputTypesSeen);
  }
  const visitor = visitWithTypeInfo(typeInfo, {
    Field(node) {
      if (node.name.value.startsWith('__')) return;
      const parent = typeInfo.getParentType();
      const type = typeInfo.getType();
      if (parent) coordinates.add(`${parent.name}.${node.name.value}`);
      if (type) coordinates.add(getNamedType(type).name);
    },
    Argument(node) {
      const argument = typeInfo.getArgument();
      const parent = typeInfo.getParentType();
      const field = typeInfo.getFieldDef();
      if (argument && parent && field) coordinates.add(`${parent.name}.${field.name}.${node.name.value}`);
      if (argument) coordinates.add(getNamedType(argument.type).name);
    },
    ObjectField(node) {
      const parent = typeInfo.getParentInputType();
      const named = parent ? getNamedType(parent) : undefined;
      if (named && isInputObjectType(named)) coordinates.add(`${named.name}.${node.name.value}`);
      const type = typeInfo.getInputType();
      if (type) coordinates.add(getNamedType(type).name);
    },
    EnumValue(node) {
      const type = typeInfo.getInputType();
      const named = type ? getNamedType(type) : undefined;
      if (named && isEnumType(named)) coordinates.add(`${named.name}.${node.value}`);
    },
    InlineFragment(node) {
      if (node.typeCondition) coordinates.add(node.typeCondition.name.value);
    },
    FragmentSpread(node) {
      const fragment = fragments[node.name.value];
      if (fragment && !spread.has(fragment.name.value)) {
        spread.add(fragment.name.value);
        pending.push(fragment);
      }
    },
    FragmentDefinition(node) {
      coordinates.add(node.typeCondition.name.value);
    },
  });
  while (pending.length > 0) visit(pending.pop()!, visitor);
  // A type condition may name a type the schema lacks only in an unvalidated document.
  return [...coordinates].filter((c) => schema.getType(c.split('.')[0] ?? '') !== undefined).sort();
}
