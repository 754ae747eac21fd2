// The directive catalog: what extensions declare in graft.json (`directives: [{ definition,
// module }]`), checked at publish, and what the gateway serves with a supergraph.
//
// Rules (refused at publish):
// - a definition is one `directive @name(...) on FIELD_DEFINITION | FIELD` (either or both
//   locations), arguments of the built-in scalars (lists and non-null allowed): the same
//   definition is added to the API schema clients validate against, which has no other types
//   to offer it;
// - names are unique across active extensions (DIRECTIVE_NAME_TAKEN) and may not shadow a
//   GraphQL, Apollo Federation or Graft directive;
// - the module's source comes with the publish, loads in the sandbox within its limits and
//   exports a function named `transform`;
// - a subgraph SDL that defines a directive of its own manifest defines it identically;
// - a breaking change to a definition (a removed directive, argument or location, a new
//   required argument, an argument type change) needs a new major version, judged by the
//   same diff and rule table as fields (gateway/checks).
import {
  Kind,
  buildASTSchema,
  buildSchema,
  getNamedType,
  parse,
  print,
  type DirectiveDefinitionNode,
  type DocumentNode,
  type GraphQLDirective,
} from 'graphql';
import semver from 'semver';
import { diffSchemas, type ClassifiedChange } from '../checks/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { readLinks } from '../graphql/index.js';
import { EXTENSION_NAME_PATTERN } from '../manifest/index.js';
import type { QuickJSSandbox } from './sandbox.js';

/** A directive as the gateway runs it: the extension version that declares it and its code. */
export interface DirectiveModule {
  extension: string;
  version: string;
  /** Without the "@". */
  name: string;
  /** The SDL definition, as in graft.json. */
  definition: string;
  /** The module's path as graft.json names it (relative to graft.json). */
  modulePath: string;
  source: string;
}

/** What graft.json says about one directive. */
export interface DirectiveDeclaration {
  definition: string;
  module: string;
}

export const ALLOWED_LOCATIONS = new Set(['FIELD_DEFINITION', 'FIELD']);
const BUILT_IN_SCALARS = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);
const RESERVED = new Set([
  // GraphQL
  'skip', 'include', 'deprecated', 'specifiedBy', 'oneOf', 'defer', 'stream',
  // Apollo Federation and link
  'link', 'key', 'external', 'requires', 'provides', 'shareable', 'inaccessible', 'override', 'tag', 'extends',
  'composeDirective', 'interfaceObject', 'authenticated', 'requiresScopes', 'policy', 'cost', 'listSize',
  'context', 'fromContext', 'join__graph', 'join__type', 'join__field', 'join__implements', 'join__unionMember',
  'join__enumValue', 'join__directive', 'join__owner',
]);
const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Links of this form tie a directive to the extension that implements it. */
export const GRAFT_DIRECTIVE_LINK = new RegExp(`^https://graft\\.dev/directives/(${EXTENSION_NAME_PATTERN.slice(1, -1)})/v\\d+(\\.\\d+)?$`);

export interface ParsedDefinition {
  name: string;
  node: DirectiveDefinitionNode;
  directive: GraphQLDirective;
}

function invalid(extension: string, message: string, details?: Record<string, unknown>): GraftError {
  return new GraftError(GraftErrorCode.DIRECTIVE_INVALID, message, { extension, ...(details ? { details } : {}) });
}

/** Parses and checks one definition; throws DIRECTIVE_INVALID saying what to fix. */
export function parseDirectiveDefinition(extension: string, definition: string): ParsedDefinition {
  let document: DocumentNode;
  try {
    document = parse(definition, { noLocation: true });
  } catch (error) {
    throw invalid(extension, `The directive definition "${definition.slice(0, 120)}" does not parse: ${(error as Error).message}`);
  }
  const [node, ...rest] = document.definitions;
  if (!node || node.kind !== Kind.DIRECTIVE_DEFINITION || rest.length > 0) {
    throw invalid(extension, `"${definition.slice(0, 120)}" is not one directive definition: write e.g. directive @mask(keep: Int = 4) on FIELD_DEFINITION | FIELD.`);
  }
  const name = node.name.value;
  if (!NAME.test(name) || RESERVED.has(name) || name.startsWith('federation__') || name.startsWith('graft')) {
    throw invalid(extension, `@${name} cannot be an extension directive: the name is reserved (GraphQL, Apollo Federation or Graft) or not a plain name of at most 64 letters, digits and '_'.`);
  }
  const locations = node.locations.map((l) => l.value);
  const wrong = locations.filter((l) => !ALLOWED_LOCATIONS.has(l));
  if (wrong.length > 0) {
    throw invalid(extension, `@${name} is declared on ${wrong.join(', ')}: resolver directives apply to fields only (FIELD_DEFINITION, FIELD).`);
  }
  for (const argument of node.arguments ?? []) {
    let type = argument.type;
    while (type.kind !== Kind.NAMED_TYPE) type = type.type;
    if (!BUILT_IN_SCALARS.has(type.name.value)) {
      throw invalid(extension, `Argument "${argument.name.value}" of @${name} has type ${type.name.value}: directive arguments use the built-in scalars (String, Int, Float, Boolean, ID), as lists or non-null if needed.`);
    }
  }
  let directive: GraphQLDirective | undefined;
  try {
    directive = buildASTSchema(document).getDirective(name) ?? undefined;
  } catch (error) {
    throw invalid(extension, `@${name} is not a valid definition: ${(error as Error).message}`);
  }
  if (!directive) throw invalid(extension, `@${name} is not a valid definition.`);
  for (const argument of directive.args) {
    if (!BUILT_IN_SCALARS.has(getNamedType(argument.type).name)) throw invalid(extension, `Argument "${argument.name}" of @${name} must use a built-in scalar.`);
  }
  return { name, node, directive };
}

/** A definition without descriptions, printed: two definitions that mean the same print the same. */
export function canonicalDefinition(node: DirectiveDefinitionNode): string {
  return print({
    ...node,
    description: undefined,
    arguments: node.arguments?.map((argument) => ({ ...argument, description: undefined })),
  });
}

function namesOf(declarations: readonly DirectiveDeclaration[]): string[] {
  const names: string[] = [];
  for (const declaration of declarations) {
    const match = /directive\s+@([A-Za-z_][A-Za-z0-9_]*)/.exec(declaration.definition);
    if (match?.[1]) names.push(match[1]);
  }
  return names;
}

export interface DirectivePublishInput {
  extension: string;
  version: string;
  declarations: readonly DirectiveDeclaration[];
  /** Module sources sent with the publish, by the path graft.json names. */
  sources: Readonly<Record<string, unknown>>;
  /** The candidate's subgraph SDL. */
  sdl: string;
  /** The extension's version in service now, if any. */
  previous?: { version: string; declarations: readonly DirectiveDeclaration[] } | undefined;
  /** The other extensions in service (not retired) and what they declare. */
  others: ReadonlyArray<{ extension: string; declarations: readonly DirectiveDeclaration[] }>;
}

export interface DirectivePublishCheck {
  modules: DirectiveModule[];
  /** Non-blocking findings (dangerous changes, directives linked but not implemented yet). */
  hints: string[];
  /** The definition changes against the previous version, classified. */
  changes: ClassifiedChange[];
}

function directiveSchema(definitions: readonly string[]) {
  return buildSchema(`${definitions.join('\n')}\ntype Query { _graft: Boolean }`);
}

/** Runs every publish rule above; throws the first refusal as a GraftError. */
export async function checkDirectivePublish(input: DirectivePublishInput, sandbox: QuickJSSandbox): Promise<DirectivePublishCheck> {
  const { extension } = input;
  const parsed = input.declarations.map((d) => ({ declaration: d, ...parseDirectiveDefinition(extension, d.definition) }));

  const seen = new Set<string>();
  for (const { name } of parsed) {
    if (seen.has(name)) throw invalid(extension, `@${name} is declared twice in graft.json: declare each directive once.`);
    seen.add(name);
  }
  for (const other of input.others) {
    if (other.extension === extension) continue;
    const taken = namesOf(other.declarations).filter((name) => seen.has(name));
    if (taken.length > 0) {
      throw new GraftError(
        GraftErrorCode.DIRECTIVE_NAME_TAKEN,
        `Extension "${other.extension}" already defines ${taken.map((n) => `@${n}`).join(', ')}: directive names are unique across extensions. Rename yours, or use theirs by importing it with @link(url: "https://graft.dev/directives/${other.extension}/v1.0", import: [...]).`,
        { extension, details: { directives: taken, definedBy: other.extension } },
      );
    }
  }

  // The subgraph's own definitions of these directives must say the same as graft.json.
  let sdlDocument: DocumentNode | undefined;
  try {
    sdlDocument = parse(input.sdl, { noLocation: true });
  } catch {
    sdlDocument = undefined; // the SDL check of the publish pipeline reports it
  }
  for (const definition of sdlDocument?.definitions ?? []) {
    if (definition.kind !== Kind.DIRECTIVE_DEFINITION) continue;
    const declared = parsed.find((p) => p.name === definition.name.value);
    if (declared && canonicalDefinition(declared.node) !== canonicalDefinition(definition)) {
      throw invalid(extension, `The subgraph SDL defines @${declared.name} as "${canonicalDefinition(definition)}" but graft.json declares "${canonicalDefinition(declared.node)}": make them the same.`);
    }
  }

  const modules: DirectiveModule[] = [];
  for (const { declaration, name } of parsed) {
    const source = input.sources[declaration.module];
    if (typeof source !== 'string') {
      throw invalid(extension, `The source of ${declaration.module} (the module of @${name}) was not sent: publish with graft publish, which reads it next to graft.json, or send it in "directiveModules".`, { module: declaration.module });
    }
    const problem = sandbox.check({ key: `${extension}@${input.version}/${name}`, label: `${extension}/${declaration.module}`, source });
    if (problem !== undefined) {
      throw invalid(extension, `The module of @${name} (${declaration.module}) cannot run in the sandbox: ${problem}.`, { module: declaration.module, directive: name });
    }
    modules.push({ extension, version: input.version, name, definition: declaration.definition, modulePath: declaration.module, source });
  }

  const hints: string[] = [];
  let changes: ClassifiedChange[] = [];
  if (input.previous) {
    const before = input.previous.declarations.flatMap((d) => {
      try {
        return [parseDirectiveDefinition(extension, d.definition).node];
      } catch {
        return [];
      }
    });
    changes = await diffSchemas(directiveSchema(before.map((n) => print(n))), directiveSchema(parsed.map((p) => print(p.node))));
    const breaking = changes.filter((c) => c.criticality === 'breaking');
    const major = semver.major(input.version) > semver.major(input.previous.version);
    if (breaking.length > 0 && !major) {
      throw new GraftError(
        GraftErrorCode.PUBLISH_REJECTED,
        `This version makes breaking changes to directive definitions (${breaking.map((c) => c.message).join('; ')}): operations and subgraphs that use them would break. Publish it as a new major version (${semver.major(input.previous.version) + 1}.0.0), or keep the definitions compatible.`,
        { extension, details: { directiveChanges: breaking } },
      );
    }
    for (const change of changes.filter((c) => c.criticality === 'dangerous')) hints.push(`Directive change: ${change.message}.`);
  }
  return { modules, hints, changes };
}

/** Directives the SDL imports from a graft.dev/directives link: local name → { extension, name }. */
export function linkedDirectives(document: DocumentNode): Map<string, { extension: string; name: string }> {
  const linked = new Map<string, { extension: string; name: string }>();
  for (const link of readLinks(document)) {
    const extension = GRAFT_DIRECTIVE_LINK.exec(link.url)?.[1];
    if (!extension) continue;
    for (const [element, local] of link.imports) linked.set(local, { extension, name: element.replace(/^@/, '') });
  }
  return linked;
}

/** Hints for directives an SDL links to but no extension in service implements (its fields fail closed until one does). */
export function unimplementedLinks(sdl: string, implemented: ReadonlyMap<string, string>): string[] {
  let document: DocumentNode;
  try {
    document = parse(sdl, { noLocation: true });
  } catch {
    return [];
  }
  const hints: string[] = [];
  for (const [local, link] of linkedDirectives(document)) {
    if (implemented.get(link.name) === link.extension) continue;
    hints.push(
      `@${local} is imported from extension "${link.extension}", which does not implement @${link.name} in the current graph: fields that use it answer DIRECTIVE_FAILED (reason "unavailable") until it does.`,
    );
  }
  return hints;
}

/** The directive modules a stored version serves: its manifest's declarations with their stored sources. */
export function modulesOfVersion(record: {
  extension: string;
  version: string;
  manifest: { directives?: readonly DirectiveDeclaration[] | undefined };
  directiveModules?: Readonly<Record<string, string>> | undefined;
}): DirectiveModule[] {
  const modules: DirectiveModule[] = [];
  for (const declaration of record.manifest.directives ?? []) {
    const source = record.directiveModules?.[declaration.module];
    const name = /directive\s+@([A-Za-z_][A-Za-z0-9_]*)/.exec(declaration.definition)?.[1];
    if (source === undefined || !name) continue;
    modules.push({ extension: record.extension, version: record.version, name, definition: declaration.definition, modulePath: declaration.module, source });
  }
  return modules;
}
