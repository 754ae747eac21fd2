// Reading `@link` (https://specs.apollo.dev/link/v1.0) on a schema: which specs a document
// links, under which namespace, and the name each linked directive has in THIS document.
// Every feature that looks for a federation directive (grants, policy, cost, the directive
// catalog, the toolkit, checks, the SDK) asks here, so that a rename with `as:` or the
// namespaced form (`@federation__requiresScopes`, `@fed__requiresScopes`) means the same
// thing everywhere: a security check that misses a renamed `@requiresScopes` is a hole.
import { Kind, type ConstDirectiveNode, type ConstValueNode, type DocumentNode, type GraphQLSchema } from 'graphql';

export interface LinkedSpec {
  /** The whole `url:` argument. */
  url: string;
  /** The URL without its version: https://specs.apollo.dev/federation */
  identity: string;
  /** The spec's name, the path segment before the version: "federation", "cost", "join". */
  specName: string;
  /** `as:` of the link, else the spec's name. */
  namespace: string;
  /** Imported element (with `@` for a directive) → its name in the document (without `@`). */
  imports: ReadonlyMap<string, string>;
}

/** The directives of the Federation 2 vocabulary Graft reads. */
export type FederationDirective =
  | 'key'
  | 'authenticated'
  | 'requiresScopes'
  | 'policy'
  | 'cost'
  | 'listSize'
  | 'shareable'
  | 'inaccessible'
  | 'override'
  | 'external'
  | 'requires'
  | 'provides'
  | 'tag'
  | 'composeDirective'
  | 'interfaceObject';

export const FEDERATION_DIRECTIVES: readonly FederationDirective[] = [
  'key',
  'authenticated',
  'requiresScopes',
  'policy',
  'cost',
  'listSize',
  'shareable',
  'inaccessible',
  'override',
  'external',
  'requires',
  'provides',
  'tag',
  'composeDirective',
  'interfaceObject',
];

/**
 * Specs other than federation's that also define a directive: a supergraph links
 * https://specs.apollo.dev/requiresScopes/v0.1 (etc.) instead of the federation spec.
 * The dedicated spec wins over the federation spec when a document links both.
 */
const DEDICATED_SPEC: Partial<Record<FederationDirective, string>> = {
  authenticated: 'https://specs.apollo.dev/authenticated',
  requiresScopes: 'https://specs.apollo.dev/requiresScopes',
  policy: 'https://specs.apollo.dev/policy',
  cost: 'https://specs.apollo.dev/cost',
  listSize: 'https://specs.apollo.dev/cost',
  inaccessible: 'https://specs.apollo.dev/inaccessible',
  tag: 'https://specs.apollo.dev/tag',
};

export const FEDERATION_SPEC_IDENTITY = 'https://specs.apollo.dev/federation';

/** `<identity>/v<major>[.<minor>]`; the identity's last segment is the spec's name. */
const VERSIONED_URL = /^(.*\/([^/]+))\/v\d+(?:\.\d+)?\/?$/;

type SchemaNodes = ReadonlyArray<{ readonly directives?: readonly ConstDirectiveNode[] | undefined } | null | undefined>;

function schemaNodesOf(source: DocumentNode | GraphQLSchema): SchemaNodes {
  if ('definitions' in source) {
    return source.definitions.filter((d) => d.kind === Kind.SCHEMA_DEFINITION || d.kind === Kind.SCHEMA_EXTENSION) as SchemaNodes;
  }
  return [source.astNode, ...source.extensionASTNodes];
}

function argumentValue(directive: ConstDirectiveNode, name: string): ConstValueNode | undefined {
  for (const argument of directive.arguments ?? []) if (argument.name.value === name) return argument.value;
  return undefined;
}

function stringArgument(directive: ConstDirectiveNode, name: string): string | undefined {
  const value = argumentValue(directive, name);
  return value?.kind === Kind.STRING ? value.value : undefined;
}

const bare = (name: string) => name.replace(/^@/, '');

/** Every `@link` on the schema definition and its extensions, in document order. */
export function readLinks(source: DocumentNode | GraphQLSchema): LinkedSpec[] {
  const links: LinkedSpec[] = [];
  for (const node of schemaNodesOf(source)) {
    for (const directive of node?.directives ?? []) {
      if (directive.name.value !== 'link') continue;
      const url = stringArgument(directive, 'url');
      const match = url === undefined ? null : VERSIONED_URL.exec(url);
      if (url === undefined || !match?.[1] || !match[2]) continue;
      const imports = new Map<string, string>();
      const list = argumentValue(directive, 'import');
      for (const item of list?.kind === Kind.LIST ? list.values : []) {
        if (item.kind === Kind.STRING) imports.set(item.value, bare(item.value));
        else if (item.kind === Kind.OBJECT) {
          let name: string | undefined;
          let alias: string | undefined;
          for (const field of item.fields) {
            if (field.value.kind !== Kind.STRING) continue;
            if (field.name.value === 'name') name = field.value.value;
            if (field.name.value === 'as') alias = field.value.value;
          }
          if (name !== undefined) imports.set(name, bare(alias ?? name));
        }
      }
      const namespace = stringArgument(directive, 'as');
      links.push({ url, identity: match[1], specName: match[2], namespace: namespace === undefined ? match[2] : bare(namespace), imports });
    }
  }
  return links;
}

/**
 * The name of directive `@element` of a linked spec in the document: imported (maybe renamed
 * with `as`), else the spec's root directive (named like the spec, e.g. `@cost` of
 * `cost/v0.1`) takes the namespace's name, else `namespace__element`.
 */
export function linkedDirectiveName(link: LinkedSpec, element: string): string {
  const imported = link.imports.get(`@${element}`);
  if (imported !== undefined) return imported;
  return element === link.specName ? link.namespace : `${link.namespace}__${element}`;
}

/**
 * Canonical federation directive → its name in this document (without `@`). A dedicated
 * spec link (a supergraph's `requiresScopes/v0.1`) wins, else the federation spec link;
 * a document that links neither (a Federation 1 subgraph, or a plain schema) uses the
 * canonical names.
 */
export function federationDirectiveNames(source: DocumentNode | GraphQLSchema | readonly LinkedSpec[]): Map<FederationDirective, string> {
  const links = Array.isArray(source) ? (source as readonly LinkedSpec[]) : readLinks(source as DocumentNode | GraphQLSchema);
  const federation = links.find((l) => l.identity === FEDERATION_SPEC_IDENTITY);
  const names = new Map<FederationDirective, string>();
  for (const directive of FEDERATION_DIRECTIVES) {
    const dedicated = DEDICATED_SPEC[directive];
    const link = (dedicated ? links.find((l) => l.identity === dedicated) : undefined) ?? federation;
    names.set(directive, link ? linkedDirectiveName(link, directive) : directive);
  }
  return names;
}

/** The reverse of federationDirectiveNames: name in the document → canonical directive. */
export function canonicalDirectiveNames(source: DocumentNode | GraphQLSchema | readonly LinkedSpec[]): Map<string, FederationDirective> {
  const reverse = new Map<string, FederationDirective>();
  for (const [canonical, local] of federationDirectiveNames(source)) reverse.set(local, canonical);
  return reverse;
}

/**
 * The spec element a directive name of this document stands for, for ANY linked spec:
 * `@pk` imported as `{ name: "@key", as: "@pk" }` → "key", `@fed__shareable` → "shareable",
 * a name no link explains is returned as written.
 */
export function specElementResolver(source: DocumentNode | GraphQLSchema | readonly LinkedSpec[]): (localName: string) => string {
  const links = Array.isArray(source) ? (source as readonly LinkedSpec[]) : readLinks(source as DocumentNode | GraphQLSchema);
  const imported = new Map<string, string>();
  const namespaces = new Set<string>();
  for (const link of links) {
    if (link.identity === 'https://specs.apollo.dev/link') continue;
    namespaces.add(link.namespace);
    for (const [element, local] of link.imports) if (element.startsWith('@')) imported.set(local, bare(element));
  }
  return (localName) => {
    const direct = imported.get(localName);
    if (direct !== undefined) return direct;
    const separator = localName.indexOf('__');
    if (separator > 0 && namespaces.has(localName.slice(0, separator))) return localName.slice(separator + 2);
    return localName;
  };
}
