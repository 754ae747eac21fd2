// The versioning rules of the publish pipeline (DESIGN.md, "Flow of one publish": ... usage
// check against registered operations --> semver rule --> store), and the change report
// stored with every version. Pure functions: the pipeline (index.ts) reads the store and
// throws; this file decides.
//
// The rules:
// 1. Semver: the schema check's verdict sets the smallest version bump over the extension's
//    latest version: breaking -> a new major, dangerous -> at least a new minor, safe -> any
//    greater version. In 0.y.z (semver's "anything may change" range) the bumps shift one
//    place, as npm's caret ranges do (^0.2.3 accepts 0.2.x only): a y bump counts as the
//    major, a z bump as a minor. Not even an admin can force this rule: the fix is a number.
// 2. Deprecation: a version may remove a field (of an object, interface or input type) or an
//    enum value that clients can see only if every version of the extension since some
//    earlier one has marked it @deprecated, and that earlier one was published at least
//    `deprecationDays` ago. An admin may force it.
// 3. Registered operations: a version that breaks an operation registered with the gateway
//    is refused whatever its version number. An admin may force it.
import semver from 'semver';
import { Kind, parse, type ConstDirectiveNode, type DefinitionNode } from 'graphql';
import type { OperationFailure, SchemaChange, SchemaCheckReport, Verdict } from '../checks/index.js';

export type BumpLevel = 'major' | 'minor' | 'patch';

const BUMP_RANK: Record<BumpLevel, number> = { patch: 0, minor: 1, major: 2 };

/** What kind of bump `to` is over `from` (to > from), with the 0.y.z shift (see the header). */
export function bumpOf(from: string, to: string): BumpLevel {
  if (semver.major(to) > semver.major(from)) return 'major';
  if (semver.major(from) === 0) return semver.minor(to) > semver.minor(from) ? 'major' : 'minor';
  if (semver.minor(to) > semver.minor(from)) return 'minor';
  return 'patch';
}

/** The smallest bump a verdict needs. */
export function requiredBumpOf(verdict: Verdict): BumpLevel {
  if (verdict === 'breaking' || verdict === 'composition-error') return 'major';
  if (verdict === 'dangerous') return 'minor';
  return 'patch';
}

export function satisfiesBump(actual: BumpLevel, required: BumpLevel): boolean {
  return BUMP_RANK[actual] >= BUMP_RANK[required];
}

/** The next version after `latest` that is a `level` bump (0.y.z shifted, see the header). */
export function suggestVersion(latest: string, level: BumpLevel): string {
  const zero = semver.major(latest) === 0;
  const release = level === 'major' ? (zero ? 'minor' : 'major') : level === 'minor' ? (zero ? 'patch' : 'minor') : 'patch';
  return semver.inc(latest, release) ?? latest;
}

/** "a new major version", "(in 0.y.z: the y)" hint for messages. */
export function describeBump(latest: string, level: BumpLevel): string {
  if (semver.major(latest) !== 0) return `a new ${level} version`;
  return level === 'major' ? 'a new minor version, which is the major one in 0.y.z' : 'a new patch version, which is the minor one in 0.y.z';
}

// ---------------------------------------------------------------- deprecations

export interface DeprecatedElement {
  coordinate: string;
  reason: string | null;
}

function deprecationReason(directives: readonly ConstDirectiveNode[] | undefined): string | null | undefined {
  const deprecated = directives?.find((d) => d.name.value === 'deprecated');
  if (!deprecated) return undefined;
  const reason = deprecated.arguments?.find((a) => a.name.value === 'reason')?.value;
  return reason?.kind === Kind.STRING ? reason.value : null;
}

/**
 * The fields (of object, interface and input types) and enum values an SDL marks
 * @deprecated, by schema coordinate ("Customer.email", "OrderStatus.LOST").
 */
export function deprecatedElements(sdl: string): Map<string, DeprecatedElement> {
  const result = new Map<string, DeprecatedElement>();
  const add = (coordinate: string, reason: string | null | undefined) => {
    if (reason !== undefined) result.set(coordinate, { coordinate, reason });
  };
  let definitions: readonly DefinitionNode[];
  try {
    definitions = parse(sdl, { noLocation: true }).definitions;
  } catch {
    return result; // stored SDLs parsed when they were published; nothing to learn otherwise
  }
  for (const definition of definitions) {
    switch (definition.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION:
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
      case Kind.INPUT_OBJECT_TYPE_EXTENSION:
        for (const field of definition.fields ?? []) add(`${definition.name.value}.${field.name.value}`, deprecationReason(field.directives));
        break;
      case Kind.ENUM_TYPE_DEFINITION:
      case Kind.ENUM_TYPE_EXTENSION:
        for (const value of definition.values ?? []) add(`${definition.name.value}.${value.name.value}`, deprecationReason(value.directives));
        break;
      default:
        break;
    }
  }
  return result;
}

/** The names of the types an SDL defines or extends (to tell which member of a release an API change is about). */
export function definedTypeNames(sdl: string): Set<string> {
  const names = new Set<string>();
  let definitions: readonly DefinitionNode[];
  try {
    definitions = parse(sdl, { noLocation: true }).definitions;
  } catch {
    return names; // the pipeline's manifest step reports an SDL that does not parse
  }
  for (const definition of definitions) if ('name' in definition && definition.name && definition.kind !== Kind.DIRECTIVE_DEFINITION) names.add(definition.name.value);
  return names;
}

/** Removals that need a deprecation period first (see rule 2 in the header). */
const REMOVAL_TYPES: Record<string, Removal['kind']> = {
  FIELD_REMOVED: 'field',
  INPUT_FIELD_REMOVED: 'input field',
  ENUM_VALUE_REMOVED: 'enum value',
};

export interface Removal {
  coordinate: string;
  kind: 'field' | 'input field' | 'enum value';
  /** When the unbroken run of versions deprecating it began (that version's publishedAt); null: the latest version does not deprecate it. */
  deprecatedSince: string | null;
  /** The first version of that run. */
  deprecatedInVersion: string | null;
  /** deprecatedSince + the deprecation period. */
  earliestRemoval: string | null;
  /** No earlier version ever marked it @deprecated. */
  neverDeprecated: boolean;
  /** Whether the rule allows the removal now. */
  allowed: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function addDays(iso: string, days: number): string {
  return new Date(Date.parse(iso) + days * DAY_MS).toISOString();
}

/**
 * The API-level removals of the check (only the extension changed, so each is its doing, and
 * each is visible to clients: a removal that composition absorbs is not an API change),
 * judged against the extension's earlier versions (newest first).
 */
export function judgeRemovals(
  changes: readonly SchemaChange[],
  versions: ReadonlyArray<{ version: string; sdl: string; publishedAt: string }>,
  deprecationDays: number,
  now: Date,
): Removal[] {
  const deprecatedBy = versions.map((v) => ({ ...v, deprecated: deprecatedElements(v.sdl) }));
  const seen = new Set<string>();
  const removals: Removal[] = [];
  for (const change of changes) {
    const kind = REMOVAL_TYPES[change.type];
    if (change.level !== 'api' || !kind || seen.has(change.path)) continue;
    seen.add(change.path);
    let since: { version: string; publishedAt: string } | undefined;
    for (const version of deprecatedBy) {
      if (!version.deprecated.has(change.path)) break;
      since = version;
    }
    const earliestRemoval = since ? addDays(since.publishedAt, deprecationDays) : null;
    removals.push({
      coordinate: change.path,
      kind,
      deprecatedSince: since?.publishedAt ?? null,
      deprecatedInVersion: since?.version ?? null,
      earliestRemoval,
      neverDeprecated: !deprecatedBy.some((v) => v.deprecated.has(change.path)),
      allowed: earliestRemoval !== null && Date.parse(earliestRemoval) <= now.getTime(),
    });
  }
  return removals;
}

export function describeRemoval(removal: Removal, deprecationDays: number, latestVersion: string): string {
  if (removal.deprecatedSince === null) {
    return removal.neverDeprecated
      ? `${removal.coordinate} (${removal.kind}) was never deprecated`
      : `${removal.coordinate} (${removal.kind}) is not deprecated in the latest version ${latestVersion} (an earlier deprecation was withdrawn)`;
  }
  const since = `${removal.coordinate} (${removal.kind}) is deprecated since ${removal.deprecatedSince.slice(0, 10)} (version ${removal.deprecatedInVersion})`;
  return removal.allowed ? since : `${since}: with a ${deprecationDays}-day deprecation period it can be removed from ${removal.earliestRemoval}`;
}

// ---------------------------------------------------------------- the stored report

/** An admin's override of the deprecation and registered-operation rules. */
export interface ForcedOverride {
  by: string;
  reason: string;
  /** The refusals the force overrode (both empty when nothing needed forcing). */
  overrode: {
    /** Removals that the deprecation rule refused. */
    removals: Removal[];
    /** Registered operations the version breaks. */
    operations: string[];
  };
}

/**
 * What is stored with each version (registry column extension_versions.report) and read by
 * the changelog. Part of the API: add fields, never rename or repurpose them.
 */
export interface VersionReport {
  reportVersion: 1;
  /** The version this one was checked against (the latest before it); null for the first. */
  previousVersion: string | null;
  /** The bump over previousVersion ("initial" for the first version). */
  bump: BumpLevel | 'initial';
  /** The smallest bump the verdict needs. */
  requiredBump: BumpLevel;
  verdict: Verdict;
  /** The check's changes: the extension's own SDL (level "subgraph") and the API schema (level "api"). */
  changes: SchemaChange[];
  /** Registered operations this version breaks (non-empty only when forced). */
  affectedOperations: OperationFailure[];
  /** Registered operations checked. */
  operationsChecked: number;
  /** Fields and enum values this version removes from the API, with their deprecation history. */
  removals: Removal[];
  /** Fields and enum values this version newly marks @deprecated. */
  deprecations: DeprecatedElement[];
  /** The deprecation period in force at publish time. */
  deprecationDays: number;
  forced: ForcedOverride | null;
  notes: string[];
}

export function newlyDeprecated(previousSdl: string | undefined, sdl: string): DeprecatedElement[] {
  const before = previousSdl === undefined ? new Map<string, DeprecatedElement>() : deprecatedElements(previousSdl);
  return [...deprecatedElements(sdl).values()].filter((d) => !before.has(d.coordinate)).sort((a, b) => a.coordinate.localeCompare(b.coordinate));
}

/** One line per change kind for messages: "breaking: Field 'email' was removed from object type 'Customer'; ...". */
export function summarizeChanges(report: Pick<SchemaCheckReport, 'changes' | 'affectedOperations'>, levels: ReadonlyArray<'breaking' | 'dangerous'>, max = 5): string {
  const parts: string[] = [];
  for (const level of levels) {
    const messages = [...new Set(report.changes.filter((c) => c.level === 'api' && c.criticality === level).map((c) => c.message))];
    if (level === 'breaking') messages.push(...report.affectedOperations.map((o) => `registered operation ${o.name} stops validating`));
    if (messages.length === 0) continue;
    const shown = messages.slice(0, max).join('; ');
    parts.push(`${level}: ${shown}${messages.length > max ? `; and ${messages.length - max} more` : ''}`);
  }
  return parts.join(' — ');
}

// ---------------------------------------------------------------- the changelog

export interface ChangelogDeprecation {
  coordinate: string;
  reason: string | null;
  deprecatedSince: string;
  /** In which version the (still unbroken) deprecation began. */
  deprecatedInVersion: string;
  /** deprecatedSince + the deprecation period: the first day a version may remove it. */
  earliestRemoval: string;
}

export interface ChangelogEntry {
  version: string;
  publishedAt: string;
  publishedBy: string;
  previousVersion: string | null;
  bump: BumpLevel | 'initial' | null;
  /** null for a version published before change reports were stored. */
  verdict: Verdict | null;
  changes: { breaking: SchemaChange[]; dangerous: SchemaChange[]; safe: SchemaChange[] };
  affectedOperations: string[];
  removals: Removal[];
  /** What this version newly deprecated, and from when it may be removed. */
  deprecations: ChangelogDeprecation[];
  forced: ForcedOverride | null;
  notes: string[];
  /**
   * The release this version came in when it was not alone in it (other versions published
   * or extensions retired with it, POST /admin/releases); null for a publish of one.
   */
  release: { id: number; reason: string | null; members: Array<{ extension: string; version: string }>; retired: string[] } | null;
}

export interface Changelog {
  extension: string;
  deprecationDays: number;
  /** What the latest version deprecates, and from when each may be removed. */
  pendingRemovals: ChangelogDeprecation[];
  /** Newest first. */
  entries: ChangelogEntry[];
}

function isVersionReport(value: unknown): value is VersionReport {
  return typeof value === 'object' && value !== null && (value as { reportVersion?: unknown }).reportVersion === 1;
}

/**
 * Keeps the changes an extension author reads: their own SDL's changes, and the API changes
 * that no subgraph-level change at the same coordinate already says.
 */
function changelogChanges(changes: readonly SchemaChange[]): SchemaChange[] {
  const own = new Set(changes.filter((c) => c.level === 'subgraph').map((c) => `${c.type} ${c.path}`));
  return changes.filter((c) => c.level === 'subgraph' || !own.has(`${c.type} ${c.path}`));
}

/** The changelog of one extension from its stored versions (newest first) and the releases they came in. */
export function buildChangelog(
  extension: string,
  versions: ReadonlyArray<{ version: string; sdl: string; publishedAt: string; publishedBy: string; supergraphId?: number; report?: Record<string, unknown> }>,
  deprecationDays: number,
  releases: ReadonlyArray<{ id: number; supergraphId: number; reason: string | undefined; members: Array<{ extension: string; version: string }>; retired: string[] }> = [],
): Changelog {
  const releaseOf = new Map(releases.map((r) => [r.supergraphId, r]));
  const entries = versions.map((version, index): ChangelogEntry => {
    const release = version.supergraphId === undefined ? undefined : releaseOf.get(version.supergraphId);
    const together = release && release.members.length + release.retired.length > 1 ? release : undefined;
    const report = isVersionReport(version.report) ? version.report : undefined;
    const previous = versions[index + 1];
    const changes = changelogChanges(report?.changes ?? []);
    const deprecations = (report?.deprecations ?? newlyDeprecated(previous?.sdl, version.sdl)).map((d) => ({
      coordinate: d.coordinate,
      reason: d.reason,
      deprecatedSince: version.publishedAt,
      deprecatedInVersion: version.version,
      earliestRemoval: addDays(version.publishedAt, deprecationDays),
    }));
    return {
      version: version.version,
      publishedAt: version.publishedAt,
      publishedBy: version.publishedBy,
      previousVersion: report?.previousVersion ?? previous?.version ?? null,
      bump: report?.bump ?? null,
      verdict: report?.verdict ?? null,
      changes: {
        breaking: changes.filter((c) => c.criticality === 'breaking'),
        dangerous: changes.filter((c) => c.criticality === 'dangerous'),
        safe: changes.filter((c) => c.criticality === 'safe'),
      },
      affectedOperations: (report?.affectedOperations ?? []).map((o) => o.name),
      removals: report?.removals ?? [],
      deprecations,
      forced: report?.forced ?? null,
      notes: report ? report.notes : ['Published before change reports were stored: no verdict or changes recorded.'],
      release: together ? { id: together.id, reason: together.reason ?? null, members: together.members, retired: together.retired } : null,
    };
  });

  const pendingRemovals: ChangelogDeprecation[] = [];
  const latest = versions[0];
  if (latest) {
    const runs = versions.map((v) => ({ ...v, deprecated: deprecatedElements(v.sdl) }));
    for (const element of runs[0]!.deprecated.values()) {
      let since = runs[0]!;
      for (const run of runs) {
        if (!run.deprecated.has(element.coordinate)) break;
        since = run;
      }
      pendingRemovals.push({
        coordinate: element.coordinate,
        reason: element.reason,
        deprecatedSince: since.publishedAt,
        deprecatedInVersion: since.version,
        earliestRemoval: addDays(since.publishedAt, deprecationDays),
      });
    }
    pendingRemovals.sort((a, b) => a.coordinate.localeCompare(b.coordinate));
  }
  return { extension, deprecationDays, pendingRemovals, entries };
}
