// Resolver maps: the loose shape the SDK accepts, and the check that makes up for the
// looseness. buildSubgraphSchema silently ignores resolvers for types or fields the
// SDL does not have, so a typo would otherwise just leave a field unresolved.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { isInterfaceType, isObjectType, isUnionType, type GraphQLSchema } from 'graphql';

/**
 * Resolvers by type name, as buildSubgraphSchema takes them (fields, `__resolveReference`,
 * enum values, scalars). Deliberately loose: the field-level checking comes from the
 * extension's generated `Resolvers` type (graphql-codegen, `federation: true`), which
 * Apollo's GraphQLResolverMap cannot express (optional entries, and
 * `__resolveReference(reference, context, info)` has a different arity from a field resolver).
 */
export type ExtensionResolvers = Readonly<Record<string, object | undefined>>;

const TYPE_HOOKS = new Set(['__resolveReference', '__isTypeOf', '__resolveType']);

export function toResolverMap(resolvers: ExtensionResolvers): GraphQLResolverMap<unknown> {
  const map: Record<string, object> = {};
  for (const [typeName, typeResolvers] of Object.entries(resolvers)) {
    if (typeResolvers !== undefined) map[typeName] = typeResolvers;
  }
  // The shape is checked against the schema by assertResolversMatchSchema.
  return map as GraphQLResolverMap<unknown>;
}

/** Throws naming every resolver whose type or field is not in the schema. */
export function assertResolversMatchSchema(schema: GraphQLSchema, resolvers: ExtensionResolvers, extension: string): void {
  const problems: string[] = [];
  for (const [typeName, typeResolvers] of Object.entries(resolvers)) {
    if (typeResolvers === undefined) continue;
    const type = schema.getType(typeName);
    if (!type) {
      problems.push(`type ${typeName} is not in the SDL`);
      continue;
    }
    if (!isObjectType(type) && !isInterfaceType(type) && !isUnionType(type)) continue;
    const fields = isUnionType(type) ? {} : type.getFields();
    for (const [fieldName, resolver] of Object.entries(typeResolvers)) {
      if (resolver === undefined || TYPE_HOOKS.has(fieldName) || Object.hasOwn(fields, fieldName)) continue;
      problems.push(`${typeName}.${fieldName} is not in the SDL`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`Extension "${extension}" has resolvers the schema does not declare: ${problems.join('; ')}.`);
  }
}
