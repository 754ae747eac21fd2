// Which extension resolves each field of a supergraph, read from the join__ directives
// that composition writes: a field's @join__field(graph:) (not external), else every
// @join__type(graph:) of its parent type. Used to attribute failures and tenant
// enablement to the extension at fault.
import { Kind, parse, type ConstDirectiveNode } from 'graphql';

export interface FieldOwnership {
  /** Extensions (subgraph names) that resolve Type.field; empty when unknown. */
  ownersOf(typeName: string, fieldName: string): readonly string[];
  /** Every extension of the supergraph. */
  readonly extensions: readonly string[];
}

function argument(directive: ConstDirectiveNode, name: string): string | boolean | undefined {
  const value = directive.arguments?.find((a) => a.name.value === name)?.value;
  if (!value) return undefined;
  if (value.kind === Kind.ENUM || value.kind === Kind.STRING) return value.value;
  if (value.kind === Kind.BOOLEAN) return value.value;
  return undefined;
}

export function extractFieldOwnership(supergraphSdl: string): FieldOwnership {
  const document = parse(supergraphSdl, { noLocation: true });
  const graphNames = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === 'join__Graph') {
      for (const value of definition.values ?? []) {
        const graph = value.directives?.find((d) => d.name.value === 'join__graph');
        const name = graph ? argument(graph, 'name') : undefined;
        graphNames.set(value.name.value, typeof name === 'string' ? name : value.name.value.toLowerCase());
      }
    }
  }
  const owners = new Map<string, readonly string[]>();
  const graphOf = (directive: ConstDirectiveNode) => {
    const graph = argument(directive, 'graph');
    return typeof graph === 'string' ? graphNames.get(graph) : undefined;
  };
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    const typeOwners = (definition.directives ?? [])
      .filter((d) => d.name.value === 'join__type')
      .map(graphOf)
      .filter((g): g is string => g !== undefined);
    for (const field of definition.fields ?? []) {
      const joins = (field.directives ?? []).filter((d) => d.name.value === 'join__field');
      const fieldOwners = joins.length > 0
        ? joins.filter((d) => argument(d, 'external') !== true).map(graphOf).filter((g): g is string => g !== undefined)
        : typeOwners;
      owners.set(`${definition.name.value}.${field.name.value}`, [...new Set(fieldOwners)]);
    }
  }
  const extensions = [...new Set(graphNames.values())];
  return {
    ownersOf: (typeName, fieldName) => owners.get(`${typeName}.${fieldName}`) ?? [],
    extensions,
  };
}
