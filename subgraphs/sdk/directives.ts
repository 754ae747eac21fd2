// Reads the Federation directives the SDK enforces straight from an extension's SDL:
// @authenticated, @requiresScopes, @policy (access) and @cost (actual cost), plus @key
// (which types are entities). The names come from the schema's federation @link, so
// `import: [{ name: "@requiresScopes", as: "@scopes" }]` and the non-imported
// `@federation__requiresScopes` form are both understood.
//
// The reader is deliberately lenient about argument shapes: buildSubgraphSchema validates
// every directive application against its definition and reports a precise error, so a
// malformed value is skipped here rather than reported twice.
import { Kind, valueFromASTUntyped, type ConstDirectiveNode, type DocumentNode, type FieldDefinitionNode } from 'graphql';
import { canonicalDirectiveNames, type FederationDirective } from '../../gateway/graphql/index.js';


/** One level of `[[String!]!]!`: the outer list is OR, each inner list is AND. */
export type Alternatives = ReadonlyArray<ReadonlyArray<string>>;

/** The enforced directives applied to one type or one field. */
export interface AppliedDirectives {
  authenticated: boolean;
  /** One entry per @requiresScopes application; all must hold. */
  scopes: Alternatives[];
  /** One entry per @policy application; all must hold. */
  policies: Alternatives[];
  /** @cost(weight:), when applied. */
  cost: number | undefined;
}

export interface SdlDirectives {
  /** Type-level directives by type name (objects, interfaces, scalars, enums). */
  readonly types: ReadonlyMap<string, AppliedDirectives>;
  /** Field-level directives by type name, then field name. */
  readonly fields: ReadonlyMap<string, ReadonlyMap<string, AppliedDirectives>>;
  /** Object types with at least one resolvable @key: what `_entities` can return. */
  readonly entityTypes: ReadonlySet<string>;
}

function argument(directive: ConstDirectiveNode, name: string): unknown {
  const arg = directive.arguments?.find((a) => a.name.value === name);
  return arg === undefined ? undefined : valueFromASTUntyped(arg.value);
}

/** `[[String!]!]!` after GraphQL list coercion ("a" → [["a"]], ["a", "b"] → [["a"], ["b"]]); undefined if not strings. */
function alternatives(value: unknown): Alternatives | undefined {
  const outer = Array.isArray(value) ? value : [value];
  const result: string[][] = [];
  for (const inner of outer) {
    const all = Array.isArray(inner) ? inner : [inner];
    if (!all.every((item): item is string => typeof item === 'string')) return undefined;
    result.push(all);
  }
  return result;
}

function emptyApplied(): AppliedDirectives {
  return { authenticated: false, scopes: [], policies: [], cost: undefined };
}

function collect(
  directives: readonly ConstDirectiveNode[] | undefined,
  names: ReadonlyMap<string, FederationDirective>,
  into: AppliedDirectives,
): { key: boolean } {
  let key = false;
  for (const directive of directives ?? []) {
    switch (names.get(directive.name.value)) {
      case 'authenticated':
        into.authenticated = true;
        break;
      case 'requiresScopes': {
        const scopes = alternatives(argument(directive, 'scopes'));
        if (scopes) into.scopes.push(scopes);
        break;
      }
      case 'policy': {
        const policies = alternatives(argument(directive, 'policies'));
        if (policies) into.policies.push(policies);
        break;
      }
      case 'cost': {
        const weight = argument(directive, 'weight');
        // valueFromASTUntyped gives Int literals as numbers; the schema checks the type.
        if (typeof weight === 'number' && Number.isFinite(weight)) into.cost = weight;
        break;
      }
      case 'key':
        if (argument(directive, 'resolvable') !== false) key = true;
        break;
      default:
        break;
    }
  }
  return { key };
}

function isEmpty(applied: AppliedDirectives): boolean {
  return !applied.authenticated && applied.scopes.length === 0 && applied.policies.length === 0 && applied.cost === undefined;
}

/** Every enforced directive in the SDL, by type and by field (definitions and extensions merged). */
export function readSdlDirectives(document: DocumentNode): SdlDirectives {
  const names = canonicalDirectiveNames(document);
  const types = new Map<string, AppliedDirectives>();
  const fields = new Map<string, Map<string, AppliedDirectives>>();
  const entityTypes = new Set<string>();

  const typeEntry = (typeName: string): AppliedDirectives => {
    let entry = types.get(typeName);
    if (!entry) types.set(typeName, (entry = emptyApplied()));
    return entry;
  };
  const readFields = (typeName: string, fieldNodes: readonly FieldDefinitionNode[] | undefined): void => {
    for (const field of fieldNodes ?? []) {
      const applied = emptyApplied();
      collect(field.directives, names, applied);
      if (isEmpty(applied)) continue;
      let byField = fields.get(typeName);
      if (!byField) fields.set(typeName, (byField = new Map()));
      byField.set(field.name.value, applied);
    }
  };

  for (const definition of document.definitions) {
    switch (definition.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION: {
        const { key } = collect(definition.directives, names, typeEntry(definition.name.value));
        if (key) entityTypes.add(definition.name.value);
        readFields(definition.name.value, definition.fields);
        break;
      }
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION:
        collect(definition.directives, names, typeEntry(definition.name.value));
        readFields(definition.name.value, definition.fields);
        break;
      case Kind.SCALAR_TYPE_DEFINITION:
      case Kind.SCALAR_TYPE_EXTENSION:
      case Kind.ENUM_TYPE_DEFINITION:
      case Kind.ENUM_TYPE_EXTENSION:
        collect(definition.directives, names, typeEntry(definition.name.value));
        break;
      default:
        break;
    }
  }
  for (const [typeName, applied] of types) if (isEmpty(applied)) types.delete(typeName);
  return { types, fields, entityTypes };
}
