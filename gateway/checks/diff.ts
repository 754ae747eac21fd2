// Schema diffs: @graphql-inspector/core finds the changes, rules.ts classifies them, and
// this file turns them into Graft's SchemaChange at two levels: the composed API schema,
// and each changed subgraph's own SDL.
import { buildSubgraphSchema } from '@apollo/subgraph';
import { ChangeType, diff } from '@graphql-inspector/core';
import { buildSchema, type DocumentNode, type GraphQLSchema } from 'graphql';
import { parseSubgraphSdl } from '../composition/index.js';
import { specElementResolver } from '../graphql/index.js';
import { entityKeys, sdlCoordinates, type EntityKey } from './federation.js';
import { classifyChange, directiveUsageOf, type InspectorChange, type RuleContext } from './rules.js';
import type { Criticality, SchemaChange } from './types.js';

/** A change with its criticality, before it is placed at a level. */
export type ClassifiedChange = Omit<SchemaChange, 'level' | 'subgraph'>;

export interface DiffOptions {
  /** Spec name of a directive as used on either side (the GraphQL core's specElementResolver: @link imports, renames and namespaces); default: as written. */
  directiveName?: (localName: string, side: 'old' | 'new') => string;
  /** Directives (spec names) whose usages this diff ignores because the caller compares them itself. */
  ignoreUsagesOf?: ReadonlySet<string>;
}

const SEVERITY: Record<Criticality, number> = { safe: 0, dangerous: 1, breaking: 2 };

export function mostSevere(levels: Iterable<Criticality>): Criticality {
  let worst: Criticality = 'safe';
  for (const level of levels) if (SEVERITY[level] > SEVERITY[worst]) worst = level;
  return worst;
}

const DEPRECATION_CHANGES = new Set<string>([
  ChangeType.FieldDeprecationAdded,
  ChangeType.FieldDeprecationRemoved,
  ChangeType.FieldDeprecationReasonChanged,
  ChangeType.FieldDeprecationReasonAdded,
  ChangeType.FieldDeprecationReasonRemoved,
  ChangeType.EnumValueDeprecationReasonAdded,
  ChangeType.EnumValueDeprecationReasonChanged,
  ChangeType.EnumValueDeprecationReasonRemoved,
]);

const USAGE_ARGUMENT_CHANGES = new Set<string>([ChangeType.DirectiveUsageArgumentAdded, ChangeType.DirectiveUsageArgumentRemoved]);

/** Additions whose contents inspector also lists one by one (each field of a new type, ...). */
const ELEMENT_ADDED = new Set<string>([
  ChangeType.TypeAdded,
  ChangeType.FieldAdded,
  ChangeType.InputFieldAdded,
  ChangeType.EnumValueAdded,
  ChangeType.DirectiveAdded,
]);

/** inspector gives schema-level directive usages a path starting with "." (".@link.url"). */
function normalisePath(path: string | undefined): string {
  return path?.startsWith('.') ? `schema${path}` : (path ?? '');
}

function parentPath(path: string): string {
  return path.slice(0, Math.max(0, path.lastIndexOf('.')));
}

/** "Query.a.@deprecated.reason" -> "Query.a": the element a directive usage sits on. */
function elementOf(path: string): string {
  const at = path.indexOf('.@');
  return at === -1 ? path : path.slice(0, at);
}

/**
 * Diffs two graphql-js schemas and classifies every change with Graft's rule table
 * (rules.ts). Besides classifying, it removes inspector's echoes: the contents of an added
 * type, field or directive (the addition says it), the directive-usage entries that repeat
 * a deprecation change, the argument entries of a usage that was added or removed whole,
 * and the "removed" half of a changed directive argument (the "added" half becomes one
 * DIRECTIVE_USAGE_ARGUMENT_CHANGED).
 */
export async function diffSchemas(oldSchema: GraphQLSchema, newSchema: GraphQLSchema, options: DiffOptions = {}): Promise<ClassifiedChange[]> {
  // inspector types Change<any>; SerializableChange is the same object discriminated by `type`.
  const changes = (await diff(oldSchema, newSchema)) as InspectorChange[];
  const context: RuleContext = { oldSchema, newSchema, directiveName: options.directiveName ?? ((name) => name) };
  const canonicalUsage = (change: InspectorChange) => {
    const usage = directiveUsageOf(change);
    return usage && { ...usage, directive: context.directiveName(usage.directive, change.type.endsWith('_REMOVED') ? 'old' : 'new') };
  };

  const pathOf = (c: InspectorChange) => normalisePath(c.path);
  const deprecatedElements = new Set(changes.filter((c) => DEPRECATION_CHANGES.has(c.type)).map((c) => elementOf(pathOf(c))));
  const wholeUsages = new Set(changes.filter((c) => directiveUsageOf(c) && !USAGE_ARGUMENT_CHANGES.has(c.type)).map(pathOf));
  const changedArguments = new Set(changes.filter((c) => c.type === ChangeType.DirectiveUsageArgumentAdded && c.meta.oldArgumentValue !== null).map(pathOf));
  const addedElements = new Set(changes.filter((c) => ELEMENT_ADDED.has(c.type)).map(pathOf));
  const arrivedWithParent = (change: InspectorChange, path: string) => {
    const parts = path.split('.');
    for (let n = 1; n < parts.length; n++) if (addedElements.has(parts.slice(0, n).join('.'))) return true;
    // A new element's description, a new directive's locations and arguments: listed under its own path.
    return !ELEMENT_ADDED.has(change.type) && addedElements.has(path);
  };

  const result: ClassifiedChange[] = [];
  for (const change of changes) {
    const path = pathOf(change);
    if (arrivedWithParent(change, path)) continue;
    const usage = canonicalUsage(change);
    if (usage) {
      if (options.ignoreUsagesOf?.has(usage.directive)) continue;
      if (usage.directive === 'deprecated' && deprecatedElements.has(elementOf(path))) continue;
      if (USAGE_ARGUMENT_CHANGES.has(change.type) && wholeUsages.has(parentPath(path))) continue;
      if (change.type === ChangeType.DirectiveUsageArgumentRemoved && changedArguments.has(path)) continue;
    }
    const classified = classifyChange(change, context);
    if (change.type === ChangeType.DirectiveUsageArgumentAdded && change.meta.oldArgumentValue !== null) {
      const { directiveName, addedArgumentName, oldArgumentValue, addedArgumentValue } = change.meta;
      result.push({
        type: 'DIRECTIVE_USAGE_ARGUMENT_CHANGED',
        criticality: classified.criticality,
        path,
        message: `Argument '${addedArgumentName}' of '@${directiveName}' on '${elementOf(path)}' changed from ${oldArgumentValue} to ${addedArgumentValue}`,
        ...(classified.reason ? { reason: classified.reason } : {}),
      });
      continue;
    }
    result.push({
      type: change.type,
      criticality: classified.criticality,
      path,
      message: classified.message ?? change.message,
      ...(classified.reason ? { reason: classified.reason } : {}),
    });
  }
  return result;
}

/** Diffs two composed API schemas (graphql-js schemas, or SDL as composeSubgraphs prints it): the changes frontends see. */
export async function diffApiSchemas(oldApi: GraphQLSchema | string, newApi: GraphQLSchema | string): Promise<SchemaChange[]> {
  const schema = (api: GraphQLSchema | string) => (typeof api === 'string' ? buildSchema(api) : api);
  const changes = await diffSchemas(schema(oldApi), schema(newApi));
  return changes.map((c) => ({ level: 'api', ...c }));
}

export interface SubgraphDiffInput {
  name: string;
  /** The subgraph's SDL in the base; absent when the change adds the subgraph. */
  oldSdl?: string | undefined;
  /** Its SDL after the change; absent when the change removes it. */
  newSdl?: string | undefined;
  /**
   * The API-level changes of the same check, when both graphs composed. A change to the
   * subgraph's types then takes the criticality of the API change at the same coordinate,
   * or "safe" when composition absorbs it (another subgraph still resolves a removed field,
   * or the element is @inaccessible): clients only ever see the API schema.
   */
  apiChanges?: readonly SchemaChange[] | undefined;
}

function typeCount(doc: DocumentNode): number {
  return new Set([...sdlCoordinates(doc).keys()].filter((c) => !c.includes('.') && !c.startsWith('@'))).size;
}

/** Keeps the changes to what the author wrote, dropping federation plumbing that buildSubgraphSchema adds. */
function isAuthored(path: string, authored: ReadonlySet<string>): boolean {
  if (path === '' || path.startsWith('schema.@')) return true;
  const [head, second] = path.split('.');
  if (!authored.has(head!)) return false;
  if (second === undefined || second.startsWith('@') || head!.startsWith('@')) return true;
  return authored.has(`${head}.${second}`);
}

function diffKeys(oldKeys: Map<string, EntityKey[]>, newKeys: Map<string, EntityKey[]>, oldTypes: ReadonlySet<string>, newTypes: ReadonlySet<string>): ClassifiedChange[] {
  const changes: ClassifiedChange[] = [];
  const show = (k: EntityKey) => `@key(fields: "${k.fields}"${k.resolvable ? '' : ', resolvable: false'})`;
  for (const type of [...new Set([...oldKeys.keys(), ...newKeys.keys()])].sort()) {
    // A type that comes or goes whole is reported as TYPE_ADDED / TYPE_REMOVED.
    if (!oldTypes.has(type) || !newTypes.has(type)) continue;
    const before = oldKeys.get(type) ?? [];
    const after = newKeys.get(type) ?? [];
    const removed = before.filter((k) => !after.some((n) => n.fields === k.fields));
    const added = after.filter((k) => !before.some((o) => o.fields === k.fields));
    const path = `${type}.@key`;
    if (removed.length === 1 && added.length === 1) {
      changes.push({
        type: 'KEY_CHANGED',
        criticality: 'dangerous',
        path,
        message: `Entity '${type}' key changed from ${show(removed[0]!)} to ${show(added[0]!)}`,
        reason: 'Other subgraphs that reference or extend this entity by the old key must move to the new one; composition checks that the graph stays satisfiable.',
      });
    } else {
      for (const k of removed) {
        changes.push({
          type: 'KEY_REMOVED',
          criticality: 'dangerous',
          path,
          message: `Key ${show(k)} was removed from entity '${type}'`,
          reason: 'Query plans can no longer enter this subgraph through that key; composition checks that the graph stays satisfiable.',
        });
      }
      for (const k of added) {
        changes.push({ type: 'KEY_ADDED', criticality: 'safe', path, message: `Key ${show(k)} was added to entity '${type}'` });
      }
    }
    for (const k of after) {
      const old = before.find((o) => o.fields === k.fields);
      if (!old || old.resolvable === k.resolvable) continue;
      changes.push({
        type: 'KEY_RESOLVABLE_CHANGED',
        criticality: k.resolvable ? 'safe' : 'dangerous',
        path,
        message: `Key @key(fields: "${k.fields}") of entity '${type}' is ${k.resolvable ? 'now' : 'no longer'} resolvable in this subgraph`,
        ...(k.resolvable ? {} : { reason: 'Other subgraphs can no longer fetch this entity from this subgraph by that key.' }),
      });
    }
  }
  return changes;
}

const GRAFT_USAGE_TYPES = new Set(['KEY_ADDED', 'KEY_REMOVED', 'KEY_CHANGED', 'KEY_RESOLVABLE_CHANGED', 'DIRECTIVE_USAGE_ARGUMENT_CHANGED']);

/**
 * Diffs one subgraph's SDL (Federation 1 or 2) against its previous version. Both sides are
 * built with @apollo/subgraph's buildSubgraphSchema, so federation directives resolve; the
 * federation plumbing it adds (_Entity, _entities, _service, link__*, FieldSet, federation
 * directive definitions) is not the author's and is left out. Throws when an SDL is not a
 * valid subgraph (composition reports why).
 */
export async function diffSubgraph(input: SubgraphDiffInput): Promise<SchemaChange[]> {
  const { name } = input;
  const at = (c: ClassifiedChange): SchemaChange => ({ level: 'subgraph', subgraph: name, ...c });
  if (input.oldSdl === undefined && input.newSdl === undefined) return [];
  if (input.oldSdl === undefined) {
    const types = typeCount(parseSubgraphSdl(name, input.newSdl!));
    return [at({ type: 'SUBGRAPH_ADDED', criticality: 'safe', path: '', message: `Subgraph '${name}' was added (${types} types)` })];
  }
  if (input.newSdl === undefined) {
    return [
      at({
        type: 'SUBGRAPH_REMOVED',
        criticality: 'dangerous',
        path: '',
        message: `Subgraph '${name}' was removed`,
        reason: 'Everything it resolved leaves the graph or moves to other subgraphs; the API changes show what clients lose.',
      }),
    ];
  }
  const oldDoc = parseSubgraphSdl(name, input.oldSdl);
  const newDoc = parseSubgraphSdl(name, input.newSdl);
  const oldNames = specElementResolver(oldDoc);
  const newNames = specElementResolver(newDoc);
  const oldCoordinates = new Set(sdlCoordinates(oldDoc).keys());
  const newCoordinates = new Set(sdlCoordinates(newDoc).keys());
  const authored = new Set([...oldCoordinates, ...newCoordinates]);

  const changes = (
    await diffSchemas(buildSubgraphSchema(oldDoc), buildSubgraphSchema(newDoc), {
      directiveName: (local, side) => (side === 'old' ? oldNames : newNames)(local),
      ignoreUsagesOf: new Set(['key']),
    })
  ).filter((c) => isAuthored(c.path, authored));

  const reconciled = changes.map((change) => {
    const isShape = !change.type.startsWith('DIRECTIVE_USAGE_') && !GRAFT_USAGE_TYPES.has(change.type);
    if (!isShape || !input.apiChanges) return change;
    const counterparts = input.apiChanges.filter((a) => a.path === change.path);
    if (counterparts.length > 0) {
      const criticality = mostSevere(counterparts.map((a) => a.criticality));
      const { reason: _ignored, ...rest } = change;
      const apiReason = counterparts.find((a) => a.criticality === criticality)?.reason;
      return { ...rest, criticality, ...(apiReason ? { reason: apiReason } : {}) };
    }
    if (change.criticality === 'safe') return change;
    return {
      ...change,
      criticality: 'safe' as const,
      reason: `The composed API schema does not change at ${change.path}: another subgraph still provides it, or it is not part of the API.`,
    };
  });

  const oldTypes = new Set([...oldCoordinates].filter((c) => !c.includes('.')));
  const newTypes = new Set([...newCoordinates].filter((c) => !c.includes('.')));
  return [...reconciled, ...diffKeys(entityKeys(oldDoc, oldNames), entityKeys(newDoc, newNames), oldTypes, newTypes)].map(at);
}
