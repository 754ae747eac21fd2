// What the toolkit needs to know about one subgraph SDL: its schema (as @apollo/subgraph
// builds it, with _entities and _service), its entities and their @key field sets, and
// the access directives on each field (@authenticated, @requiresScopes, @policy), read
// the way the SDK enforces them: a field's own directives, its parent type's, and its
// return type's, ANDed. Directive names follow the @link imports (aliases included).
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  Kind,
  getNamedType,
  isNonNullType,
  isObjectType,
  parse,
  type ConstDirectiveNode,
  type ConstValueNode,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { federationDirectiveNames } from '../graphql/index.js';

export interface EntityKey {
  /** The @key field set, e.g. "id" or "id sku". */
  fields: string;
  resolvable: boolean;
}

export interface AccessRequirement {
  authenticated: boolean;
  /** Each entry: alternatives (OR) of scope sets (AND). All entries must hold. */
  scopes: string[][][];
  policies: string[][][];
}

export interface SubgraphModel {
  schema: GraphQLSchema;
  /** Entity type → its @key directives. */
  entities: ReadonlyMap<string, readonly EntityKey[]>;
  /** The effective requirement of a field; undefined when it is open. */
  requirementOf(typeName: string, fieldName: string): AccessRequirement | undefined;
}

const FEDERATION_ROOT_FIELDS = new Set(['_service', '_entities']);

function stringLists(value: ConstValueNode | undefined): string[][] {
  if (value?.kind !== Kind.LIST) return [];
  return value.values.map((inner) =>
    inner.kind === Kind.LIST ? inner.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : [])) : inner.kind === Kind.STRING ? [inner.value] : [],
  );
}

/** The name each directive has in this SDL (see gateway/graphql: @link imports, renames, namespaces). */
interface Names {
  key: string;
  authenticated: string;
  requiresScopes: string;
  policy: string;
}

function readDirectives(directives: readonly ConstDirectiveNode[] | undefined, names: Names): AccessRequirement | undefined {
  const requirement: AccessRequirement = { authenticated: false, scopes: [], policies: [] };
  for (const directive of directives ?? []) {
    const name = directive.name.value;
    if (names.authenticated === name) requirement.authenticated = true;
    if (names.requiresScopes === name) requirement.scopes.push(stringLists(directive.arguments?.find((a) => a.name.value === 'scopes')?.value));
    if (names.policy === name) requirement.policies.push(stringLists(directive.arguments?.find((a) => a.name.value === 'policies')?.value));
  }
  return requirement.authenticated || requirement.scopes.length > 0 || requirement.policies.length > 0 ? requirement : undefined;
}

function combine(parts: Array<AccessRequirement | undefined>): AccessRequirement | undefined {
  const present = parts.filter((p): p is AccessRequirement => p !== undefined);
  if (present.length === 0) return undefined;
  return {
    authenticated: present.some((p) => p.authenticated),
    scopes: present.flatMap((p) => p.scopes),
    policies: present.flatMap((p) => p.policies),
  };
}

/** Throws (a GraphQL syntax or schema error) when the SDL is not a valid subgraph. */
export function readSubgraph(sdl: string): SubgraphModel {
  const document = parse(sdl);
  const schema = buildSubgraphSchema([{ typeDefs: document }]);
  const linked = federationDirectiveNames(document);
  const names: Names = {
    key: linked.get('key')!,
    authenticated: linked.get('authenticated')!,
    requiresScopes: linked.get('requiresScopes')!,
    policy: linked.get('policy')!,
  };
  const entities = new Map<string, EntityKey[]>();
  const typeRequirements = new Map<string, AccessRequirement[]>();
  const fieldRequirements = new Map<string, AccessRequirement[]>();
  const push = <T>(map: Map<string, T[]>, key: string, value: T | undefined) => {
    if (value === undefined) return;
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  for (const definition of document.definitions) {
    if (!('name' in definition) || !definition.name || !('directives' in definition)) continue;
    const typeName = definition.name.value;
    const directives = definition.directives as readonly ConstDirectiveNode[] | undefined;
    push(typeRequirements, typeName, readDirectives(directives, names));
    for (const directive of directives ?? []) {
      if (names.key !== directive.name.value) continue;
      const fields = directive.arguments?.find((a) => a.name.value === 'fields')?.value;
      const resolvable = directive.arguments?.find((a) => a.name.value === 'resolvable')?.value;
      if (fields?.kind !== Kind.STRING) continue;
      push(entities, typeName, { fields: fields.value, resolvable: !(resolvable?.kind === Kind.BOOLEAN && resolvable.value === false) });
    }
    if ('fields' in definition && Array.isArray(definition.fields)) {
      for (const field of definition.fields as Array<{ name: { value: string }; directives?: readonly ConstDirectiveNode[] }>) {
        push(fieldRequirements, `${typeName}.${field.name.value}`, readDirectives(field.directives, names));
      }
    }
  }
  const ofType = (name: string) => combine(typeRequirements.get(name) ?? []);
  return {
    schema,
    entities,
    requirementOf(typeName, fieldName) {
      if (typeName === schema.getQueryType()?.name && FEDERATION_ROOT_FIELDS.has(fieldName)) return undefined;
      const type = schema.getType(typeName);
      const field = isObjectType(type) ? type.getFields()[fieldName] : undefined;
      const returned = field ? getNamedType(field.type).name : undefined;
      return combine([
        combine(fieldRequirements.get(`${typeName}.${fieldName}`) ?? []),
        ofType(typeName),
        returned === undefined ? undefined : ofType(returned),
      ]);
    },
  };
}

export function needsArguments(field: GraphQLField<unknown, unknown>): boolean {
  return field.args.some((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined);
}

export function isFederationRootField(name: string): boolean {
  return FEDERATION_ROOT_FIELDS.has(name);
}

/** Every scope a requirement names (the ones a "lacking" token must not carry). */
export function scopesNamed(requirement: AccessRequirement): Set<string> {
  return new Set(requirement.scopes.flat(2));
}

export function describeRequirement(requirement: AccessRequirement): string {
  const parts: string[] = [];
  if (requirement.authenticated) parts.push('@authenticated');
  for (const alternatives of requirement.scopes) parts.push(`scopes ${alternatives.map((all) => all.join(' and ')).join(' or ')}`);
  for (const alternatives of requirement.policies) parts.push(`policy ${alternatives.map((all) => all.join(' and ')).join(' or ')}`);
  return parts.join(', ');
}
