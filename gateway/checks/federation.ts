// What a schema check needs to know about a subgraph SDL beyond plain GraphQL: which
// directives are federation's (through @link imports and renames), which types and fields
// the author wrote (buildSubgraphSchema adds _Entity, _service, link__Import, ...), the
// entity keys, and on which line a schema coordinate is defined.
import {
  Kind,
  parse,
  print,
  type ConstArgumentNode,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type InputValueDefinitionNode,
  type ValueNode,
} from 'graphql';


function argument(directive: ConstDirectiveNode, name: string): ConstArgumentNode | undefined {
  return directive.arguments?.find((a) => a.name.value === name);
}

function stringValue(value: ValueNode | undefined): string | undefined {
  return value?.kind === Kind.STRING ? value.value : undefined;
}

function booleanValue(value: ValueNode | undefined): boolean | undefined {
  return value?.kind === Kind.BOOLEAN ? value.value : undefined;
}

type FieldLike = FieldDefinitionNode | InputValueDefinitionNode;

function fieldsOf(definition: DefinitionNode): readonly FieldLike[] {
  switch (definition.kind) {
    case Kind.OBJECT_TYPE_DEFINITION:
    case Kind.OBJECT_TYPE_EXTENSION:
    case Kind.INTERFACE_TYPE_DEFINITION:
    case Kind.INTERFACE_TYPE_EXTENSION:
    case Kind.INPUT_OBJECT_TYPE_DEFINITION:
    case Kind.INPUT_OBJECT_TYPE_EXTENSION:
      return definition.fields ?? [];
    default:
      return [];
  }
}

function typeName(definition: DefinitionNode): string | undefined {
  return 'name' in definition && definition.name && definition.kind !== Kind.DIRECTIVE_DEFINITION ? definition.name.value : undefined;
}

/**
 * Every schema coordinate the author wrote, each with the 1-based line of its name (not
 * of the description above it): types, fields, arguments, enum values, input fields and directive definitions
 * (`@name`), plus directive usages (`Type.@key`, `Type.field.@shareable`). The first
 * definition wins when a type is defined and extended.
 */
export function sdlCoordinates(doc: DocumentNode): Map<string, number> {
  const lines = new Map<string, number>();
  const add = (coordinate: string, line: number | undefined) => {
    if (!lines.has(coordinate)) lines.set(coordinate, line ?? 1);
  };
  const addUsages = (prefix: string, directives: readonly ConstDirectiveNode[] | undefined) => {
    for (const d of directives ?? []) add(`${prefix}.@${d.name.value}`, d.loc?.startToken.line);
  };
  for (const definition of doc.definitions) {
    if (definition.kind === Kind.DIRECTIVE_DEFINITION) {
      add(`@${definition.name.value}`, definition.name.loc?.startToken.line);
      for (const arg of definition.arguments ?? []) add(`@${definition.name.value}.${arg.name.value}`, arg.name.loc?.startToken.line);
      continue;
    }
    const name = typeName(definition);
    if (!name) continue;
    add(name, 'name' in definition ? definition.name?.loc?.startToken.line : undefined);
    if ('directives' in definition) addUsages(name, definition.directives as readonly ConstDirectiveNode[] | undefined);
    for (const field of fieldsOf(definition)) {
      const coordinate = `${name}.${field.name.value}`;
      add(coordinate, field.name.loc?.startToken.line);
      addUsages(coordinate, field.directives);
      if (field.kind === Kind.FIELD_DEFINITION) {
        for (const arg of field.arguments ?? []) {
          add(`${coordinate}.${arg.name.value}`, arg.name.loc?.startToken.line);
          addUsages(`${coordinate}.${arg.name.value}`, arg.directives);
        }
      }
    }
    if (definition.kind === Kind.ENUM_TYPE_DEFINITION || definition.kind === Kind.ENUM_TYPE_EXTENSION) {
      for (const value of definition.values ?? []) {
        add(`${name}.${value.name.value}`, value.name.loc?.startToken.line);
        addUsages(`${name}.${value.name.value}`, value.directives);
      }
    }
  }
  return lines;
}

/**
 * Where `path` is defined, or failing that its nearest enclosing coordinate (a removed
 * field points at its type, a removed argument at its field): the line, and how many
 * segments of the path matched (to prefer the subgraph that defines the element itself).
 */
export function locate(coordinates: ReadonlyMap<string, number>, path: string): { line: number; depth: number } | undefined {
  const parts = path.split('.');
  for (let n = parts.length; n > 0; n--) {
    const line = coordinates.get(parts.slice(0, n).join('.'));
    if (line !== undefined) return { line, depth: n };
  }
  return undefined;
}

export interface EntityKey {
  /** The key's field set, normalised ("id", "id sku", "id organization { id }"). */
  fields: string;
  resolvable: boolean;
}

function normaliseFieldSet(fields: string): string {
  try {
    const operation = parse(`{ ${fields} }`).definitions[0];
    if (operation?.kind === Kind.OPERATION_DEFINITION) {
      return print(operation.selectionSet).replace(/\s+/g, ' ').replace(/^\{ | \}$/g, '');
    }
  } catch {
    // An unparsable field set is composition's to report (KEY_INVALID_FIELDS); compare it as written.
  }
  return fields.trim().replace(/\s+/g, ' ');
}

/** The @key directives of each entity type in one subgraph SDL, under any local name of @key. */
export function entityKeys(doc: DocumentNode, canonical: (localName: string) => string): Map<string, EntityKey[]> {
  const keys = new Map<string, EntityKey[]>();
  for (const definition of doc.definitions) {
    const name = typeName(definition);
    if (!name || !('directives' in definition) || !definition.directives) continue;
    for (const directive of definition.directives as readonly ConstDirectiveNode[]) {
      if (canonical(directive.name.value) !== 'key') continue;
      const fields = stringValue(argument(directive, 'fields')?.value);
      if (fields === undefined) continue;
      const list = keys.get(name) ?? [];
      list.push({ fields: normaliseFieldSet(fields), resolvable: booleanValue(argument(directive, 'resolvable')?.value) ?? true });
      keys.set(name, list);
    }
  }
  return keys;
}
