// Builds GraphQL selections from a schema: every field that needs no argument, a few
// levels deep (contract-test's "every field on a sample entity", simulate's load query).
import {
  getNamedType,
  isInterfaceType,
  isLeafType,
  isObjectType,
  parse,
  type FieldNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { isFederationRootField, needsArguments, readSubgraph } from './sdl-model.js';

/** Which fields to select: e.g. only those both the live and the registered schema have. */
export type FieldFilter = (typeName: string, fieldName: string) => boolean;

/**
 * The selection set for `type` (without the outer field), or '' for a leaf type:
 * `{ __typename a b c { __typename d } }`. Objects nested below `depth` get `__typename` only.
 */
export function selectionFor(type: GraphQLNamedType, depth: number, include: FieldFilter = () => true, options: { typename?: boolean } = {}): string {
  if (isLeafType(type)) return '';
  const parts = ['__typename'];
  if (isObjectType(type) || isInterfaceType(type)) {
    for (const field of Object.values(type.getFields())) {
      if (isFederationRootField(field.name) || needsArguments(field) || !include(type.name, field.name)) continue;
      const named = getNamedType(field.type);
      if (isLeafType(named)) parts.push(field.name);
      else if (depth > 0) parts.push(`${field.name} ${selectionFor(named, depth - 1, include, options)}`);
    }
  }
  // __typename is kept when nothing else is selectable (a selection set cannot be empty).
  if (options.typename === false && parts.length > 1) parts.shift();
  return `{ ${parts.join(' ')} }`;
}

/** The fields of a @key field set ("id", "id sku", "owner { id }") as a selection set. */
export function keySelection(fields: string): SelectionSetNode {
  const document = parse(`{ ${fields} }`);
  const operation = document.definitions[0];
  if (operation?.kind !== 'OperationDefinition') throw new Error(`bad @key field set "${fields}"`);
  return operation.selectionSet;
}

/** The representation of `value` for a key ({ __typename, ...key fields }), or undefined if a key field is missing. */
export function representationOf(typeName: string, value: Record<string, unknown>, fields: string): Record<string, unknown> | undefined {
  const pick = (source: Record<string, unknown>, selections: SelectionSetNode): Record<string, unknown> | undefined => {
    const out: Record<string, unknown> = {};
    for (const selection of selections.selections) {
      if (selection.kind !== 'Field') return undefined;
      const name = (selection as FieldNode).name.value;
      const inner = source[name];
      if (inner === undefined || inner === null) return undefined;
      if (selection.selectionSet) {
        if (typeof inner !== 'object') return undefined;
        const nested = pick(inner as Record<string, unknown>, selection.selectionSet);
        if (!nested) return undefined;
        out[name] = nested;
      } else out[name] = inner;
    }
    return out;
  };
  const picked = pick(value, keySelection(fields));
  return picked ? { __typename: typeName, ...picked } : undefined;
}

/**
 * An operation that exercises one extension through the gateway's API schema: one of its
 * own root fields when it has one callable without arguments, else a root field of
 * another extension returning a type this extension adds fields to (orders' Customer.orders
 * through crm's customers). Selects the extension's fields, two levels deep.
 */
export function loadQueryFor(extensionSdl: string, apiSchema: GraphQLSchema): string | undefined {
  const { schema: subgraph, entities } = readSubgraph(extensionSdl);
  const inSubgraph: FieldFilter = (typeName, fieldName) => {
    const type = subgraph.getType(typeName);
    return (isObjectType(type) || isInterfaceType(type)) && fieldName in type.getFields();
  };
  const query = apiSchema.getQueryType();
  const ownQuery = subgraph.getQueryType();
  if (!query) return undefined;
  const rootFields = Object.values(query.getFields()).filter((field) => !needsArguments(field));
  const own = rootFields.filter((field) => ownQuery && field.name in ownQuery.getFields());
  const build = (field: (typeof rootFields)[number]) => `{ ${field.name} ${selectionFor(getNamedType(field.type), 2, inSubgraph, { typename: false })} }`;
  const first = own.find((field) => !isLeafType(getNamedType(field.type))) ?? own[0];
  if (first) return build(first);
  // Types this extension contributes fields to (besides their keys).
  const contributed = new Set<string>();
  for (const type of Object.values(subgraph.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('_') || type === ownQuery) continue;
    const keyFields = new Set((entities.get(type.name) ?? []).flatMap((key) => key.fields.split(/[\s{}]+/).filter(Boolean)));
    if (Object.keys(type.getFields()).some((name) => !keyFields.has(name))) contributed.add(type.name);
  }
  const reaching = rootFields.find((field) => contributed.has(getNamedType(field.type).name));
  if (!reaching) return undefined;
  // The other extension's key fields come along (they are in this subgraph's SDL too).
  return build(reaching);
}
