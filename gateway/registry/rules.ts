// The registry's rules and refusals, shared by both stores (SQLite and PostgreSQL): what a
// store checks does not depend on the database it runs on, and a refusal reads the same
// whichever store gave it. Only the SQL differs between sqlite-store.ts and postgres-store.ts.
import { createHash } from 'node:crypto';
import semver from 'semver';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import type { ExtensionStatus, NewVersion } from './types.js';

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
export function checkManifestMatches(input: Pick<NewVersion, 'extension' | 'version' | 'manifest'>): void {
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
