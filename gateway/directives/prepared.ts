// What the gateway derives once per supergraph (never per request): the directives it can
// run, where the supergraph applies them (FIELD_DEFINITION usages carried by
// @composeDirective: present in the supergraph SDL, stripped from the API schema), and the
// API schema extended with the directives operations may use (FIELD).
import {
  GraphQLSchema,
  Kind,
  getArgumentValues,
  parse,
  type ConstDirectiveNode,
  type DirectiveNode,
  type DocumentNode,
  type GraphQLDirective,
  type GraphQLObjectType,
} from 'graphql';
import { linkedDirectives, parseDirectiveDefinition, type DirectiveModule } from './catalog.js';

/** One directive the gateway knows by name in this supergraph. */
export interface CatalogEntry {
  name: string;
  /** The extension that implements it (or that the supergraph's @link names, when none does). */
  extension: string;
  /** Undefined: linked in the supergraph, but no extension in service implements it (fails closed). */
  module: DirectiveModule | undefined;
  /** Built from the extension's definition: coerces arguments (defaults included). */
  directive: GraphQLDirective | undefined;
  /** Usable in operations (FIELD location). */
  onField: boolean;
}

/** A directive application with its arguments resolved. */
export interface Application {
  entry: CatalogEntry;
  /** JSON arguments, or undefined when they do not fit the definition. */
  args: Record<string, unknown> | undefined;
  /** Operation variables the arguments name (they go to context.variables). */
  variables: readonly string[];
}

export interface PreparedDirectives {
  readonly apiSchema: GraphQLSchema;
  /** The API schema plus the FIELD directives: what Apollo Server validates operations against. */
  readonly extendedSchema: GraphQLSchema;
  readonly entries: ReadonlyMap<string, CatalogEntry>;
  /** Names operations may use (stripped before planning). */
  readonly operationDirectives: ReadonlySet<string>;
  /** Field names with a FIELD_DEFINITION directive on some type: the quick relevance test. */
  readonly schemaFieldNames: ReadonlySet<string>;
  /** Directive applications of one field of one object type (its interfaces' included). */
  fieldApplications(type: GraphQLObjectType, field: string): readonly Application[];
  /** Sandbox keys of the modules in use. */
  readonly moduleKeys: ReadonlySet<string>;
  /** The documents known to need no directive work (cached per DocumentNode). */
  readonly relevance: WeakMap<DocumentNode, boolean>;
}

export function moduleKey(module: DirectiveModule): string {
  return `${module.extension}@${module.version}/${module.name}`;
}

function valueVariables(node: DirectiveNode): string[] {
  const names: string[] = [];
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    const v = value as { kind?: string; name?: { value: string }; values?: unknown[]; fields?: Array<{ value: unknown }> };
    if (v.kind === Kind.VARIABLE && v.name) names.push(v.name.value);
    v.values?.forEach(visit);
    v.fields?.forEach((f) => visit(f.value));
  };
  for (const argument of node.arguments ?? []) visit(argument.value);
  return names;
}

/** Arguments of one application, or undefined when they do not coerce. */
export function resolveApplication(entry: CatalogEntry, node: DirectiveNode, variables?: Record<string, unknown>): Application {
  const names = valueVariables(node);
  if (!entry.directive) return { entry, args: undefined, variables: names };
  try {
    const args = getArgumentValues(entry.directive, node, variables) as Record<string, unknown>;
    return { entry, args: JSON.parse(JSON.stringify(args)) as Record<string, unknown>, variables: names };
  } catch {
    return { entry, args: undefined, variables: names };
  }
}

export function prepareDirectives(supergraphSdl: string, apiSchema: GraphQLSchema, modules: readonly DirectiveModule[]): PreparedDirectives {
  const entries = new Map<string, CatalogEntry>();
  for (const module of modules) {
    let parsed;
    try {
      parsed = parseDirectiveDefinition(module.extension, module.definition);
    } catch {
      continue; // checked at publish; a stored version that no longer parses is skipped
    }
    entries.set(parsed.name, {
      name: parsed.name,
      extension: module.extension,
      module,
      directive: parsed.directive,
      onField: parsed.directive.locations.includes('FIELD' as never),
    });
  }

  // FIELD_DEFINITION usages, from the supergraph SDL.
  const document = parse(supergraphSdl, { noLocation: true });
  const local = new Map<string, CatalogEntry>();
  for (const [localName, link] of linkedDirectives(document)) {
    const entry = entries.get(link.name);
    local.set(
      localName,
      entry && entry.extension === link.extension
        ? entry
        : { name: link.name, extension: link.extension, module: undefined, directive: undefined, onField: false },
    );
  }
  for (const [name, entry] of entries) if (!local.has(name)) local.set(name, entry);

  const declared = new Map<string, Application[]>();
  const schemaFieldNames = new Set<string>();
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      definition.kind !== Kind.INTERFACE_TYPE_EXTENSION
    ) {
      continue;
    }
    for (const field of definition.fields ?? []) {
      const applications = (field.directives ?? [])
        .filter((d: ConstDirectiveNode) => local.has(d.name.value))
        .map((d: ConstDirectiveNode) => resolveApplication(local.get(d.name.value)!, d));
      if (applications.length === 0) continue;
      const key = `${definition.name.value}.${field.name.value}`;
      declared.set(key, [...(declared.get(key) ?? []), ...applications]);
      schemaFieldNames.add(field.name.value);
    }
  }

  const combined = new Map<string, readonly Application[]>();
  const fieldApplications = (type: GraphQLObjectType, field: string): readonly Application[] => {
    const key = `${type.name}.${field}`;
    let applications = combined.get(key);
    if (!applications) {
      const own = declared.get(key) ?? [];
      const names = new Set(own.map((a) => a.entry.name));
      const inherited = type
        .getInterfaces()
        .flatMap((i) => declared.get(`${i.name}.${field}`) ?? [])
        .filter((a) => !names.has(a.entry.name) && (names.add(a.entry.name), true));
      applications = [...own, ...inherited];
      combined.set(key, applications);
    }
    return applications;
  };

  // The operation directives join the API schema (same type objects, more directives).
  const existing = new Set(apiSchema.getDirectives().map((d) => d.name));
  const operationDirectives = new Set<string>();
  const added: GraphQLDirective[] = [];
  for (const entry of entries.values()) {
    if (!entry.onField || !entry.directive || existing.has(entry.name)) continue;
    operationDirectives.add(entry.name);
    added.push(entry.directive);
  }
  const extendedSchema =
    added.length === 0 ? apiSchema : new GraphQLSchema({ ...apiSchema.toConfig(), directives: [...apiSchema.getDirectives(), ...added] });

  return {
    apiSchema,
    extendedSchema,
    entries,
    operationDirectives,
    schemaFieldNames,
    fieldApplications,
    moduleKeys: new Set(modules.map(moduleKey)),
    relevance: new WeakMap(),
  };
}
