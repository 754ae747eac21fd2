// Reads the authorization directives (@authenticated, @requiresScopes, @policy) from a
// composed supergraph, once per supergraph. The API schema that @apollo/gateway serves no
// longer carries them, so the supergraph is the source (DESIGN.md).
import { Kind, parse, type ConstDirectiveNode, type ConstValueNode, type DocumentNode } from 'graphql';
import { federationDirectiveNames } from '../graphql/index.js';

export type Requirement =
  | { kind: 'authenticated' }
  /** Outer list: any of; inner list: all of (Apollo Router semantics). */
  | { kind: 'scopes'; anyOf: string[][] }
  | { kind: 'policy'; anyOf: string[][] };

export interface AuthorizationMetadata {
  /** Requirements of a type (object, interface, scalar, enum), by type name. */
  readonly types: ReadonlyMap<string, readonly Requirement[]>;
  /** Requirements of a field, by "Type.field". */
  readonly fields: ReadonlyMap<string, readonly Requirement[]>;
  /** Every policy name the supergraph uses. */
  readonly policyNames: ReadonlySet<string>;
  /** Every scope the supergraph uses. */
  readonly scopeNames: ReadonlySet<string>;
}

type SpecName = 'authenticated' | 'requiresScopes' | 'policy';

/** The names the supergraph uses for each directive (a @link may rename it with `as`). */
function directiveNames(document: DocumentNode): Map<string, SpecName> {
  const names = new Map<string, SpecName>();
  const linked = federationDirectiveNames(document);
  for (const spec of ['authenticated', 'requiresScopes', 'policy'] as const) names.set(linked.get(spec)!, spec);
  return names;
}

function nestedStrings(value: ConstValueNode | undefined): string[][] {
  if (value?.kind !== Kind.LIST) return [];
  return value.values.map((inner) =>
    inner.kind === Kind.LIST ? inner.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : [])) : inner.kind === Kind.STRING ? [inner.value] : [],
  );
}

function requirementsOf(directives: readonly ConstDirectiveNode[] | undefined, names: Map<string, SpecName>): Requirement[] {
  const result: Requirement[] = [];
  for (const directive of directives ?? []) {
    const spec = names.get(directive.name.value);
    if (spec === 'authenticated') result.push({ kind: 'authenticated' });
    if (spec === 'requiresScopes') {
      result.push({ kind: 'scopes', anyOf: nestedStrings(directive.arguments?.find((a) => a.name.value === 'scopes')?.value) });
    }
    if (spec === 'policy') {
      result.push({ kind: 'policy', anyOf: nestedStrings(directive.arguments?.find((a) => a.name.value === 'policies')?.value) });
    }
  }
  return result;
}

export function extractAuthorizationMetadata(supergraphSdl: string): AuthorizationMetadata {
  const document = parse(supergraphSdl, { noLocation: true });
  const names = directiveNames(document);
  const types = new Map<string, Requirement[]>();
  const fields = new Map<string, Requirement[]>();
  const policyNames = new Set<string>();
  const scopeNames = new Set<string>();
  const remember = (requirements: Requirement[]): void => {
    for (const r of requirements) {
      if (r.kind === 'policy') r.anyOf.flat().forEach((p) => policyNames.add(p));
      if (r.kind === 'scopes') r.anyOf.flat().forEach((s) => scopeNames.add(s));
    }
  };

  for (const definition of document.definitions) {
    switch (definition.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION: {
        const own = requirementsOf(definition.directives, names);
        if (own.length > 0) types.set(definition.name.value, [...(types.get(definition.name.value) ?? []), ...own]);
        remember(own);
        for (const field of definition.fields ?? []) {
          const requirements = requirementsOf(field.directives, names);
          if (requirements.length === 0) continue;
          fields.set(`${definition.name.value}.${field.name.value}`, requirements);
          remember(requirements);
        }
        break;
      }
      case Kind.SCALAR_TYPE_DEFINITION:
      case Kind.ENUM_TYPE_DEFINITION: {
        const own = requirementsOf(definition.directives, names);
        if (own.length > 0) types.set(definition.name.value, own);
        remember(own);
        break;
      }
      default:
        break;
    }
  }
  return { types, fields, policyNames, scopeNames };
}
