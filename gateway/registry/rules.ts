// The registry's rules and refusals, shared by both stores (SQLite and PostgreSQL): what a
// store checks does not depend on the database it runs on, and a refusal reads the same
// whichever store gave it. Only the SQL differs between sqlite-store.ts and postgres-store.ts.
import { createHash } from 'node:crypto';
import semver from 'semver';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import type {
  ExtensionRecord,
  ExtensionStatus,
  ExtensionVersionRecord,
  NewRelease,
  NewReleaseMember,
  NewSupergraph,
  NewVersion,
  RegistryStore,
  SupergraphRecord,
  UsageBatch,
  UsageSummary,
} from './types.js';

/** The audit verb for each status an extension is moved to. */
export const STATUS_ACTION: Record<ExtensionStatus, string> = { active: 'resume', paused: 'pause', retired: 'retire' };

export const now = (): string => new Date().toISOString();
export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function notFound(name: string): GraftError {
  return new GraftError(
    GraftErrorCode.EXTENSION_NOT_FOUND,
    `No extension named "${name}" is registered: check the name, or register it before publishing a version.`,
    { extension: name },
  );
}

export function nameTaken(name: string, cause?: unknown): GraftError {
  return new GraftError(
    GraftErrorCode.EXTENSION_NAME_TAKEN,
    `An extension named "${name}" is already registered: pick another name, or, if it is yours, publish a new version of it.`,
    { extension: name, ...(cause === undefined ? {} : { cause }) },
  );
}

/** Only canonical semver ("1.2.0", not "v1.2.0") is stored, so one version has one spelling. */
export function checkVersionSyntax(extension: string, version: string): void {
  if (semver.valid(version) !== version) {
    throw new GraftError(
      GraftErrorCode.VERSION_INVALID,
      `"${version}" is not a semantic version: use the form MAJOR.MINOR.PATCH, e.g. 1.2.0.`,
      { extension, details: { version } },
    );
  }
}

/** The stored manifest must describe the version it is stored as, or later reads would lie. */
export function checkManifestMatches(input: Pick<NewReleaseMember, 'extension' | 'version' | 'manifest'>): void {
  if (input.manifest.name !== input.extension) {
    throw new GraftError(
      GraftErrorCode.NAME_MISMATCH,
      `The manifest names extension "${input.manifest.name}" but is being published to "${input.extension}": ` +
        `set "name" in graft.json to "${input.extension}".`,
      { extension: input.extension, details: { manifestName: input.manifest.name } },
    );
  }
  if (input.manifest.version !== input.version) {
    throw new GraftError(
      GraftErrorCode.VERSION_INVALID,
      `The manifest says version ${input.manifest.version} but is being published as ${input.version}: ` +
        `make "version" in graft.json match.`,
      { extension: input.extension, details: { manifestVersion: input.manifest.version, version: input.version } },
    );
  }
}

/** One extension appears once in a release, and a release does something. */
export function checkReleaseShape(input: NewRelease): void {
  const names = [...input.members.map((m) => m.extension), ...(input.retire ?? [])];
  if (names.length === 0) {
    throw new GraftError(GraftErrorCode.BAD_REQUEST, 'A release needs at least one extension version to publish or one extension to retire.');
  }
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) {
    throw new GraftError(GraftErrorCode.BAD_REQUEST, `Extension "${twice}" appears more than once in the release: give each extension once.`, { extension: twice });
  }
  for (const member of input.members) {
    checkVersionSyntax(member.extension, member.version);
    checkManifestMatches(member);
    if (member.register && member.register.name !== member.extension) {
      throw new GraftError(GraftErrorCode.NAME_MISMATCH, `The registration of "${member.register.name}" is attached to a version of "${member.extension}".`, { extension: member.extension });
    }
  }
}

/** The audit verb of a release: the familiar one when it did one thing (see RegistryStore.applyRelease). */
export function releaseAction(input: NewRelease): string {
  const retired = input.retire?.length ?? 0;
  if (input.members.length === 1 && retired === 0) return 'publish';
  if (input.members.length === 0 && retired === 1) return 'retire';
  return 'release';
}

/** A new version must be new and semver-greater than every stored one (`stored`: the versions already published). */
export function checkVersionOrder(extension: string, version: string, stored: readonly string[]): void {
  if (stored.includes(version)) {
    throw new GraftError(
      GraftErrorCode.VERSION_EXISTS,
      `Version ${version} of "${extension}" is already published and versions are immutable: ` +
        `bump the version in graft.json and publish again.`,
      { extension, details: { version } },
    );
  }
  const latest = stored.reduce<string | undefined>((max, v) => (max === undefined || semver.gt(v, max) ? v : max), undefined);
  if (latest !== undefined && !semver.gt(version, latest)) {
    throw new GraftError(
      GraftErrorCode.VERSION_NOT_GREATER,
      `Version ${version} of "${extension}" is not greater than the latest published version ${latest}: ` +
        `publish a version above ${latest} (for example ${semver.inc(latest, 'patch') ?? latest}).`,
      { extension, details: { version, latest } },
    );
  }
}

/**
 * Optimistic concurrency, checked inside the write transaction once the store holds its
 * write lock: the supergraph the caller composed against must still be the active one, else
 * its composition left out what another process stored meanwhile. `active`: the newest
 * stored supergraph's id, null when there is none.
 */
export function checkBasedOn(basedOn: number | null | undefined, active: number | null): void {
  if (basedOn === undefined || active === basedOn) return;
  throw new GraftError(
    GraftErrorCode.REGISTRY_CONFLICT,
    `The registry changed while this request was processed: another gateway process stored supergraph #${active ?? 0} ` +
      `after this change was composed against ${basedOn === null ? 'an empty registry' : `#${basedOn}`}. Nothing was stored: send the request again.`,
    { details: { basedOnSupergraphId: basedOn, activeSupergraphId: active } },
  );
}

/** Semver order, newest first (1.10.0 before 1.9.0, unlike string order). */
export function newestFirst<T extends { version: string }>(rows: T[]): T[] {
  return rows.sort((a, b) => semver.rcompare(a.version, b.version));
}

/** A registry whose schema is newer than this code: refused rather than guessing what the extra tables mean. */
export function schemaTooNew(where: string, storedVersion: number, codeVersion: number, details: Record<string, unknown>): GraftError {
  return new GraftError(
    GraftErrorCode.REGISTRY_SCHEMA_TOO_NEW,
    `The registry ${where} has schema version ${storedVersion}, but this Graft only knows up to ` +
      `version ${codeVersion}: it was written by a newer Graft. Run that newer Graft (or later), or open ` +
      `a backup taken before the upgrade; Graft does not downgrade registries.`,
    { details: { ...details, codeSchemaVersion: codeVersion } },
  );
}

/** The limit of listAuditEvents: a non-negative integer, or undefined for every event. */
export function checkAuditLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new GraftError(GraftErrorCode.BAD_REQUEST, `limit must be a non-negative integer, got ${String(limit)}.`);
  }
}

export function alreadyRetired(name: string): GraftError {
  return new GraftError(GraftErrorCode.BAD_REQUEST, `Extension "${name}" is already retired.`, { extension: name });
}

/** RegistryStore.publishVersion on any store: a release of one version. */
export async function publishAsRelease(store: Pick<RegistryStore, 'applyRelease'>, input: NewVersion): Promise<{ version: ExtensionVersionRecord; supergraph: SupergraphRecord }> {
  const { extension, version, manifest, sdl, report, directiveModules } = input;
  const stored = await store.applyRelease({
    members: [{ extension, version, manifest, sdl, ...(report === undefined ? {} : { report }), ...(directiveModules === undefined ? {} : { directiveModules }) }],
    supergraph: input.supergraph,
    actor: input.publishedBy,
    ...(input.auditDetails === undefined ? {} : { auditDetails: input.auditDetails }),
  });
  return { version: stored.versions[0]!, supergraph: stored.supergraph };
}

/** RegistryStore.retireExtension on any store: a release of one retirement. */
export async function retireAsRelease(
  store: Pick<RegistryStore, 'applyRelease'>,
  name: string,
  supergraph: NewSupergraph,
  actor: string,
): Promise<{ extension: ExtensionRecord; supergraph: SupergraphRecord }> {
  const stored = await store.applyRelease({ members: [], retire: [name], supergraph, actor });
  return { extension: stored.extensions[0]!, supergraph: stored.supergraph };
}

export function signingKeyExists(kid: string, cause?: unknown): GraftError {
  return new GraftError(GraftErrorCode.BAD_REQUEST, `A signing key with kid "${kid}" is already stored: keys are immutable, add one with a new kid.`, {
    details: { kid },
    ...(cause === undefined ? {} : { cause }),
  });
}

// ---------------------------------------------------------------- usage

/** One summed row of a usage query: an operation's count for one client. */
export interface UsageClientRow {
  operation: string;
  client_name: string;
  client_version: string;
  count: number;
  last_seen: string;
}

/** Refuses a batch a store must not write (counts of an operation the batch does not describe are fine: stored earlier). */
export function checkUsageBatch(batch: UsageBatch): void {
  for (const count of batch.counts) {
    if (!Number.isSafeInteger(count.count) || count.count < 1) throw new GraftError(GraftErrorCode.BAD_REQUEST, `A usage count must be a positive integer; got ${count.count}.`);
    if (Number.isNaN(Date.parse(count.minute))) throw new GraftError(GraftErrorCode.BAD_REQUEST, `A usage minute must be an ISO 8601 time; got "${count.minute}".`);
  }
}

/** The start of the minute of an ISO time, as the stores key their buckets. */
export function minuteOf(iso: string): string {
  const at = new Date(iso);
  at.setUTCSeconds(0, 0);
  return at.toISOString();
}

/**
 * Per-client rows into one summary per operation, most used first (then by hash, so the
 * order is stable), clients most used first.
 */
export function summarizeUsage(rows: readonly UsageClientRow[], operations: ReadonlyMap<string, { name: string | null; signature: string; coordinates: string[] }>): UsageSummary[] {
  const summaries = new Map<string, UsageSummary>();
  for (const row of rows) {
    const operation = operations.get(row.operation);
    if (!operation) continue;
    let summary = summaries.get(row.operation);
    if (!summary) {
      summary = { hash: row.operation, name: operation.name, signature: operation.signature, coordinates: operation.coordinates, count: 0, lastSeen: row.last_seen, clients: [] };
      summaries.set(row.operation, summary);
    }
    const count = Number(row.count);
    summary.count += count;
    if (row.last_seen > summary.lastSeen) summary.lastSeen = row.last_seen;
    summary.clients.push({ name: row.client_name, version: row.client_version, count });
  }
  const list = [...summaries.values()];
  for (const summary of list) summary.clients.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
  return list.sort((a, b) => b.count - a.count || a.hash.localeCompare(b.hash));
}
