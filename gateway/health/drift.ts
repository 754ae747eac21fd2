// Drift: the schema an extension really serves (`_service { sdl }`) is no longer the one
// it published. Both sides are parsed and printed again, so comments, whitespace,
// descriptions and the order of definitions, fields and directives do not count; the
// Federation machinery that @apollo/subgraph adds to the live SDL (_service, _entities,
// _Any, link__*/federation__* types, federation directive definitions, the link spec's
// own @link) is dropped, since the published SDL never has it.
import {
  Kind,
  parse,
  print,
  visit,
  type ASTNode,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type EnumValueDefinitionNode,
  type FieldDefinitionNode,
  type InputValueDefinitionNode,
  type NamedTypeNode,
} from 'graphql';

/** One definition after normalization, keyed by kind and name ("type Product"). */
interface NormalDefinition {
  key: string;
  /** What the members are called in a summary: "field", "input field", "enum value". */
  memberLabel: string;
  /** The definition without its members: kind, name, interfaces, directives, union members. */
  head: string;
  /** Member name → printed member (field with arguments, type and directives). */
  members: Map<string, string>;
}

const FEDERATION_DIRECTIVES = new Set([
  'link', 'key', 'requires', 'provides', 'external', 'tag', 'extends', 'shareable', 'inaccessible', 'override',
  'composeDirective', 'interfaceObject', 'authenticated', 'requiresScopes', 'policy', 'context', 'fromContext', 'cost', 'listSize',
]);
const FEDERATION_TYPES = new Set(['_Any', '_Entity', '_Service', '_FieldSet', 'FieldSet']);
const FEDERATION_QUERY_FIELDS = new Set(['_entities', '_service']);
const DEFAULT_ROOTS: Record<string, string> = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' };

function isFederationType(name: string): boolean {
  return FEDERATION_TYPES.has(name) || name.startsWith('link__') || name.startsWith('federation__');
}

function isFederationDirective(name: string): boolean {
  return FEDERATION_DIRECTIVES.has(name) || name.startsWith('federation__');
}

/** Descriptions are documentation, and print them as block or plain strings depending on the printer. */
function withoutDescriptions(document: DocumentNode): DocumentNode {
  return visit(document, {
    enter(node: ASTNode) {
      if ('description' in node && node.description) return { ...node, description: undefined };
      return undefined;
    },
  });
}

/** A member printed with its directives in a stable order. */
function printMember(node: FieldDefinitionNode | InputValueDefinitionNode | EnumValueDefinitionNode): string {
  const directives = [...(node.directives ?? [])].sort((a, b) => print(a).localeCompare(print(b)));
  return print({ ...node, directives });
}

const printed = (nodes: readonly ASTNode[] | undefined): string[] => (nodes ?? []).map((n) => print(n)).sort();
const names = (nodes: readonly NamedTypeNode[] | undefined): string[] => (nodes ?? []).map((n) => n.name.value).sort();

function isLinkSpecLink(directive: ConstDirectiveNode): boolean {
  if (directive.name.value !== 'link') return false;
  const url = directive.arguments?.find((a) => a.name.value === 'url')?.value;
  return url?.kind === Kind.STRING && url.value.startsWith('https://specs.apollo.dev/link/');
}

/** Accumulates the parts of one key across a definition and its extensions. */
interface Parts {
  keyword: string;
  name: string;
  memberLabel: string;
  interfaces: string[];
  directives: string[];
  unionMembers: string[];
  members: Map<string, string>;
  /** A directive definition is compared whole. */
  whole?: string;
}

function partsFor(definition: DefinitionNode): Parts | undefined {
  const base = (keyword: string, name: string, memberLabel = ''): Parts => ({
    keyword,
    name,
    memberLabel,
    interfaces: [],
    directives: [],
    unionMembers: [],
    members: new Map(),
  });
  switch (definition.kind) {
    case Kind.OBJECT_TYPE_DEFINITION:
    case Kind.OBJECT_TYPE_EXTENSION:
    case Kind.INTERFACE_TYPE_DEFINITION:
    case Kind.INTERFACE_TYPE_EXTENSION: {
      const isObject = definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION;
      const parts = base(isObject ? 'type' : 'interface', definition.name.value, 'field');
      parts.interfaces = names(definition.interfaces);
      parts.directives = printed(definition.directives);
      for (const field of definition.fields ?? []) {
        if (definition.name.value === 'Query' && FEDERATION_QUERY_FIELDS.has(field.name.value)) continue;
        parts.members.set(field.name.value, printMember(field));
      }
      return parts;
    }
    case Kind.INPUT_OBJECT_TYPE_DEFINITION:
    case Kind.INPUT_OBJECT_TYPE_EXTENSION: {
      const parts = base('input', definition.name.value, 'input field');
      parts.directives = printed(definition.directives);
      for (const field of definition.fields ?? []) parts.members.set(field.name.value, printMember(field));
      return parts;
    }
    case Kind.ENUM_TYPE_DEFINITION:
    case Kind.ENUM_TYPE_EXTENSION: {
      const parts = base('enum', definition.name.value, 'enum value');
      parts.directives = printed(definition.directives);
      for (const value of definition.values ?? []) parts.members.set(value.name.value, printMember(value));
      return parts;
    }
    case Kind.UNION_TYPE_DEFINITION:
    case Kind.UNION_TYPE_EXTENSION: {
      const parts = base('union', definition.name.value);
      parts.directives = printed(definition.directives);
      parts.unionMembers = names(definition.types);
      return parts;
    }
    case Kind.SCALAR_TYPE_DEFINITION:
    case Kind.SCALAR_TYPE_EXTENSION: {
      const parts = base('scalar', definition.name.value);
      parts.directives = printed(definition.directives);
      return parts;
    }
    case Kind.DIRECTIVE_DEFINITION: {
      const parts = base('directive', `@${definition.name.value}`);
      parts.whole = print(definition);
      return parts;
    }
    case Kind.SCHEMA_DEFINITION:
    case Kind.SCHEMA_EXTENSION: {
      const parts = base('schema', '');
      parts.directives = printed((definition.directives ?? []).filter((d) => !isLinkSpecLink(d)));
      for (const operation of definition.operationTypes ?? []) {
        // Only a non-default root is schema-level information; "query: Query" is implied.
        if (DEFAULT_ROOTS[operation.operation] !== operation.type.name.value) parts.members.set(operation.operation, print(operation));
      }
      return parts;
    }
    default:
      return undefined; // executable definitions have no place in an SDL; parse keeps them, we ignore them
  }
}

function isMachinery(parts: Parts): boolean {
  if (parts.keyword === 'directive') return isFederationDirective(parts.name.slice(1));
  return parts.keyword !== 'schema' && isFederationType(parts.name);
}

/** The definitions of an SDL, normalized; throws graphql's GraphQLError when it does not parse. */
export function normalizeSdl(sdl: string): Map<string, NormalDefinition> {
  const document = withoutDescriptions(parse(sdl, { noLocation: true }));
  const merged = new Map<string, Parts>();
  for (const definition of document.definitions) {
    const parts = partsFor(definition);
    if (!parts || isMachinery(parts)) continue;
    const key = parts.name === '' ? parts.keyword : `${parts.keyword} ${parts.name}`;
    const existing = merged.get(key);
    if (!existing) {
      merged.set(key, parts);
      continue;
    }
    // `type X` plus `extend type X` (or a printer that turned one into the other): one key.
    existing.interfaces = [...existing.interfaces, ...parts.interfaces].sort();
    existing.directives = [...existing.directives, ...parts.directives].sort();
    existing.unionMembers = [...existing.unionMembers, ...parts.unionMembers].sort();
    for (const [name, member] of parts.members) existing.members.set(name, member);
  }
  const result = new Map<string, NormalDefinition>();
  for (const [key, parts] of merged) {
    const head =
      parts.whole ??
      [
        key,
        parts.interfaces.length > 0 ? `implements ${parts.interfaces.join(' & ')}` : '',
        ...parts.directives,
        parts.unionMembers.length > 0 ? `= ${parts.unionMembers.join(' | ')}` : '',
      ]
        .filter(Boolean)
        .join(' ');
    // An empty `schema` (only the link spec, default roots) says nothing: drop it.
    if (key === 'schema' && head === 'schema' && parts.members.size === 0) continue;
    result.set(key, { key, memberLabel: parts.memberLabel, head, members: parts.members });
  }
  return result;
}

const clip = (text: string, max = 120): string => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

/** Every difference, one short sentence each, in a stable order. */
export function sdlDifferences(live: Map<string, NormalDefinition>, registered: Map<string, NormalDefinition>): string[] {
  const differences: string[] = [];
  const keys = [...new Set([...live.keys(), ...registered.keys()])].sort();
  for (const key of keys) {
    const l = live.get(key);
    const r = registered.get(key);
    if (l && !r) differences.push(`live SDL has ${key} not in the registered SDL`);
    else if (!l && r) differences.push(`live SDL lacks ${key} of the registered SDL`);
    if (!l || !r) continue;
    if (l.head !== r.head) differences.push(`${key} differs: live \`${clip(l.head)}\`, registered \`${clip(r.head)}\``);
    const owner = key.slice(key.indexOf(' ') + 1);
    const memberNames = [...new Set([...l.members.keys(), ...r.members.keys()])].sort();
    for (const name of memberNames) {
      const lm = l.members.get(name);
      const rm = r.members.get(name);
      const label = `${l.memberLabel || 'member'} ${owner}.${name}`;
      if (lm !== undefined && rm === undefined) differences.push(`live SDL has ${label} not in the registered SDL`);
      else if (lm === undefined && rm !== undefined) differences.push(`live SDL lacks ${label} of the registered SDL`);
      else if (lm !== rm) differences.push(`${label} differs: live \`${clip(lm ?? '')}\`, registered \`${clip(rm ?? '')}\``);
    }
  }
  return differences;
}

export interface DriftComparison {
  detected: boolean;
  /** Up to three differences, then how many more; undefined when there is none. */
  summary: string | undefined;
  differences: string[];
}

const SUMMARY_ITEMS = 3;

/** Compares a live SDL with the registered one. A live SDL that does not parse is drift. */
export function compareSdl(liveSdl: string, registeredSdl: string): DriftComparison {
  let live: Map<string, NormalDefinition>;
  try {
    live = normalizeSdl(liveSdl);
  } catch (error) {
    const reason = clip(error instanceof Error ? error.message : 'syntax error', 160);
    return { detected: true, summary: `the live SDL does not parse: ${reason}`, differences: [`live SDL does not parse: ${reason}`] };
  }
  // The registered SDL was validated at publish; if it no longer parses there is nothing to compare.
  let registered: Map<string, NormalDefinition>;
  try {
    registered = normalizeSdl(registeredSdl);
  } catch {
    return { detected: false, summary: 'the registered SDL could not be parsed, so drift was not checked', differences: [] };
  }
  const differences = sdlDifferences(live, registered);
  if (differences.length === 0) return { detected: false, summary: undefined, differences };
  const more = differences.length - SUMMARY_ITEMS;
  const summary = differences.slice(0, SUMMARY_ITEMS).join('; ') + (more > 0 ? `; and ${more} more difference${more === 1 ? '' : 's'}` : '');
  return { detected: true, summary, differences };
}
