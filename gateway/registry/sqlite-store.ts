// The embedded registry: one SQLite file (better-sqlite3, WAL). better-sqlite3 is
// synchronous; the methods are async only because the interface is shared with the
// PostgreSQL store (types.ts).
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database, { type Database as SqliteDatabase, type Statement } from 'better-sqlite3';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import type { ExtensionManifest } from '../manifest/index.js';
import { applyMigrations } from './migrations.js';
import {
  alreadyRetired,
  checkAuditLimit,
  checkBasedOn,
  checkReleaseShape,
  checkUsageBatch,
  checkVersionOrder,
  nameTaken,
  newestFirst,
  notFound,
  now,
  publishAsRelease,
  releaseAction,
  retireAsRelease,
  sha256,
  signingKeyExists,
  STATUS_ACTION,
  summarizeUsage,
  type UsageClientRow,
} from './rules.js';
import type {
  AuditEvent,
  ClaimedWebhookDelivery,
  ExtensionKeyRecord,
  ExtensionKeyScope,
  ExtensionRecord,
  ExtensionStatus,
  ExtensionVersionRecord,
  NewExtension,
  NewExtensionKey,
  NewOperation,
  NewRelease,
  NewSigningKey,
  NewSupergraph,
  NewVersion,
  NewWebhook,
  RegisteredOperationRecord,
  RegistryStore,
  ReleaseRecord,
  StoredSigningKey,
  SupergraphRecord,
  WebhookDeliveryRecord,
  WebhookDeliveryStatus,
  WebhookRecord,
  UsageBatch,
  UsageQuery,
  UsageSummary,
} from './types.js';

export interface SqliteRegistryOptions {
  /** Path of the registry file, or ':memory:' (unit tests only: nothing survives close). */
  file: string;
}

type Members = SupergraphRecord['members'];
type SupergraphInput = NewSupergraph;

// Row shapes exactly as SQLite returns them (snake_case, JSON as text).
interface ExtensionRow {
  name: string;
  owner: string;
  description: string;
  status: ExtensionStatus;
  active_version: string | null;
  tenants: string | null;
  created_at: string;
  updated_at: string;
}
interface VersionRow {
  extension: string;
  version: string;
  manifest: string;
  sdl: string;
  published_by: string;
  published_at: string;
  supergraph_id: number;
  report: string | null;
}
interface SupergraphRow {
  id: number;
  sdl: string;
  api_sdl: string;
  hash: string;
  members: string;
  created_at: string;
}
interface OperationRow {
  name: string;
  document: string;
  hash: string;
  normalized_hash: string;
  client: string | null;
  registered_by: string;
  registered_at: string;
  updated_at: string;
}
interface ReleaseRow {
  id: number;
  supergraph_id: number;
  actor: string;
  reason: string | null;
  created_at: string;
}
interface ReleaseMemberRow {
  release_id: number;
  extension: string;
  version: string | null;
  change: 'publish' | 'retire';
}
interface ExtensionKeyRow {
  id: string;
  prefix: string;
  hash: string;
  extension: string;
  scopes: string;
  description: string;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
}
interface WebhookRow {
  id: number;
  url: string;
  events: string;
  secret: string;
  description: string;
  created_by: string;
  created_at: string;
  deleted_at: string | null;
}
interface WebhookDeliveryRow {
  id: number;
  webhook_id: number;
  event_id: string;
  event: string;
  body: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  locked_until: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}
interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  extension: string | null;
  details: string;
}

function toExtension(row: ExtensionRow): ExtensionRecord {
  return {
    name: row.name,
    owner: row.owner,
    description: row.description,
    status: row.status,
    activeVersion: row.active_version ?? undefined,
    tenants: row.tenants === null || row.tenants === undefined ? null : (JSON.parse(row.tenants) as string[]),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toVersion(row: VersionRow): ExtensionVersionRecord {
  return {
    extension: row.extension,
    version: row.version,
    manifest: JSON.parse(row.manifest) as ExtensionManifest,
    sdl: row.sdl,
    publishedBy: row.published_by,
    publishedAt: row.published_at,
    supergraphId: row.supergraph_id,
    ...(row.report === null || row.report === undefined ? {} : { report: JSON.parse(row.report) as Record<string, unknown> }),
  };
}

function toOperation(row: OperationRow): RegisteredOperationRecord {
  return {
    name: row.name,
    document: row.document,
    hash: row.hash,
    normalizedHash: row.normalized_hash,
    client: row.client ?? undefined,
    registeredBy: row.registered_by,
    registeredAt: row.registered_at,
    updatedAt: row.updated_at,
  };
}

function toSupergraph(row: SupergraphRow): SupergraphRecord {
  return {
    id: row.id,
    sdl: row.sdl,
    apiSdl: row.api_sdl,
    hash: row.hash,
    members: JSON.parse(row.members) as Members,
    createdAt: row.created_at,
  };
}

function toExtensionKey(row: ExtensionKeyRow): ExtensionKeyRecord {
  return {
    id: row.id,
    prefix: row.prefix,
    extension: row.extension,
    scopes: JSON.parse(row.scopes) as ExtensionKeyScope[],
    description: row.description,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at ?? undefined,
    lastUsedAt: row.last_used_at ?? undefined,
    revokedAt: row.revoked_at ?? undefined,
    revokedBy: row.revoked_by ?? undefined,
  };
}

function toWebhook(row: WebhookRow): WebhookRecord {
  return { id: row.id, url: row.url, events: JSON.parse(row.events) as string[], description: row.description, createdBy: row.created_by, createdAt: row.created_at };
}

function toDelivery(row: WebhookDeliveryRow): WebhookDeliveryRecord {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    event: row.event,
    body: row.body,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at ?? undefined,
    lastStatusCode: row.last_status_code ?? undefined,
    lastError: row.last_error ?? undefined,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at ?? undefined,
  };
}

function keyNotFound(id: string): GraftError {
  return new GraftError(GraftErrorCode.NOT_FOUND, `There is no extension key "${id}": graft keys list shows the ids.`, { details: { key: id } });
}

function toAudit(row: AuditRow): AuditEvent {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    extension: row.extension ?? undefined,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

function toRelease(row: ReleaseRow, members: ReleaseMemberRow[]): ReleaseRecord {
  return {
    id: row.id,
    supergraphId: row.supergraph_id,
    actor: row.actor,
    reason: row.reason ?? undefined,
    members: members.filter((m) => m.change === 'publish').map((m) => ({ extension: m.extension, version: m.version as string })),
    retired: members.filter((m) => m.change === 'retire').map((m) => m.extension),
    createdAt: row.created_at,
  };
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export class SqliteRegistryStore implements RegistryStore {
  readonly file: string;
  private readonly db: SqliteDatabase;
  // Prepared once: preparing is the expensive part of a better-sqlite3 query.
  private readonly sql: ReturnType<typeof prepareStatements>;

  constructor(db: SqliteDatabase) {
    this.db = db;
    this.file = db.name;
    applyMigrations(db);
    this.sql = prepareStatements(db);
  }

  async createExtension(input: NewExtension, actor: string): Promise<ExtensionRecord> {
    const create = this.db.transaction((): ExtensionRow => {
      if (this.sql.getExtension.get(input.name) !== undefined) throw nameTaken(input.name);
      const at = now();
      const row: ExtensionRow = {
        name: input.name,
        owner: input.owner,
        description: input.description,
        status: 'active',
        active_version: null,
        tenants: null,
        created_at: at,
        updated_at: at,
      };
      this.sql.insertExtension.run(row);
      this.audit(at, actor, 'register', input.name, { owner: input.owner, description: input.description });
      return row;
    });
    try {
      return toExtension(create.immediate());
    } catch (error) {
      // Another process may have registered the name between our check and insert.
      if (isUniqueViolation(error)) throw nameTaken(input.name, error);
      throw error;
    }
  }

  async getExtension(name: string): Promise<ExtensionRecord | undefined> {
    const row = this.sql.getExtension.get(name) as ExtensionRow | undefined;
    return row === undefined ? undefined : toExtension(row);
  }

  async listExtensions(): Promise<ExtensionRecord[]> {
    return (this.sql.listExtensions.all() as ExtensionRow[]).map(toExtension);
  }

  async applyRelease(input: NewRelease): Promise<{ release: ReleaseRecord; versions: ExtensionVersionRecord[]; supergraph: SupergraphRecord; extensions: ExtensionRecord[] }> {
    checkReleaseShape(input);
    const retire = input.retire ?? [];
    // Serialise outside the transaction: a manifest that cannot become JSON fails
    // before anything is written.
    const members = input.members.map((member) => ({
      member,
      manifestJson: JSON.stringify(member.manifest),
      reportJson: member.report === undefined ? null : JSON.stringify(member.report),
    }));

    const release = this.db.transaction(() => {
      // Every refusal first, so nothing is written unless all of it can be.
      this.checkBasedOn(input.supergraph.basedOn);
      for (const { member } of members) {
        const known = this.sql.getExtension.get(member.extension) !== undefined;
        if (member.register) {
          if (known) throw nameTaken(member.extension);
        } else {
          this.checkPublishable(member.extension, member.version);
        }
      }
      for (const name of retire) {
        const row = this.sql.getExtension.get(name) as ExtensionRow | undefined;
        if (row === undefined) throw notFound(name);
        if (row.status === 'retired') throw alreadyRetired(name);
      }

      const at = now();
      const supergraph = this.insertSupergraph(input.supergraph, at);
      const versions: ExtensionVersionRecord[] = [];
      for (const { member, manifestJson, reportJson } of members) {
        if (member.register) {
          this.sql.insertExtension.run({
            name: member.extension,
            owner: member.register.owner,
            description: member.register.description,
            status: 'active',
            active_version: null,
            created_at: at,
            updated_at: at,
          });
        }
        const versionRow: VersionRow = {
          extension: member.extension,
          version: member.version,
          manifest: manifestJson,
          sdl: member.sdl,
          published_by: input.actor,
          published_at: at,
          supergraph_id: supergraph.id,
          report: reportJson,
        };
        this.sql.insertVersion.run(versionRow);
        for (const [path, source] of Object.entries(member.directiveModules ?? {})) {
          this.sql.insertDirectiveModule.run({ extension: member.extension, version: member.version, path, source, sha256: sha256(source) });
        }
        this.sql.activateVersion.run({ name: member.extension, version: member.version, at });
        versions.push(this.withDirectiveModules(toVersion(versionRow)));
      }
      for (const name of retire) this.sql.setStatus.run({ name, status: 'retired', at });

      const releaseId = Number(
        this.sql.insertRelease.run({ supergraph_id: supergraph.id, actor: input.actor, reason: input.reason ?? null, created_at: at }).lastInsertRowid,
      );
      const memberRows: ReleaseMemberRow[] = [
        ...input.members.map((m): ReleaseMemberRow => ({ release_id: releaseId, extension: m.extension, version: m.version, change: 'publish' })),
        ...retire.map((name): ReleaseMemberRow => ({ release_id: releaseId, extension: name, version: null, change: 'retire' })),
      ];
      memberRows.forEach((row, position) => this.sql.insertReleaseMember.run({ ...row, position }));

      const record = toRelease({ id: releaseId, supergraph_id: supergraph.id, actor: input.actor, reason: input.reason ?? null, created_at: at }, memberRows);
      const involved = [...record.members.map((m) => m.extension), ...record.retired];
      const registered = input.members.filter((m) => m.register).map((m) => ({ extension: m.extension, owner: m.register!.owner, description: m.register!.description }));
      const action = releaseAction(input);
      this.sql.insertAudit.run({
        at,
        actor: input.actor,
        action,
        extension: involved.length === 1 ? involved[0] : null,
        release_id: releaseId,
        details: JSON.stringify({
          release: releaseId,
          ...(action === 'publish' ? { version: record.members[0]!.version } : {}),
          ...(action === 'retire' ? { to: 'retired' } : {}),
          versions: record.members,
          retired: record.retired,
          ...(registered.length > 0 ? { registered } : {}),
          supergraphId: supergraph.id,
          hash: supergraph.hash,
          ...(input.reason === undefined ? {} : { reason: input.reason }),
          ...input.auditDetails,
        }),
      });
      const extensions = involved.map((name) => toExtension(this.sql.getExtension.get(name) as ExtensionRow));
      return { release: record, versions, supergraph, extensions };
    });
    // IMMEDIATE: take the write lock before reading the stored versions, so the
    // "greater than every stored version" check cannot race another writer.
    return release.immediate();
  }

  async listReleases(options: { extension?: string; limit?: number } = {}): Promise<ReleaseRecord[]> {
    checkAuditLimit(options.limit);
    const limit = options.limit ?? -1; // SQLite: a negative LIMIT means no limit
    const rows = (
      options.extension === undefined ? this.sql.listReleases.all({ limit }) : this.sql.listReleasesFor.all({ extension: options.extension, limit })
    ) as ReleaseRow[];
    return rows.map((row) => toRelease(row, this.sql.listReleaseMembers.all(row.id) as ReleaseMemberRow[]));
  }

  async publishVersion(input: NewVersion): Promise<{ version: ExtensionVersionRecord; supergraph: SupergraphRecord }> {
    return publishAsRelease(this, input);
  }

  async getVersion(extension: string, version: string): Promise<ExtensionVersionRecord | undefined> {
    const row = this.sql.getVersion.get(extension, version) as VersionRow | undefined;
    return row === undefined ? undefined : this.withDirectiveModules(toVersion(row));
  }

  async listVersions(extension: string): Promise<ExtensionVersionRecord[]> {
    const rows = this.sql.listVersions.all(extension) as VersionRow[];
    // Semver order, not string order: 1.10.0 is newer than 1.9.0.
    return newestFirst(rows).map((row) => this.withDirectiveModules(toVersion(row)));
  }

  async setStatus(name: string, status: ExtensionStatus, actor: string): Promise<ExtensionRecord> {
    const update = this.db.transaction((): ExtensionRow => {
      const before = this.sql.getExtension.get(name) as ExtensionRow | undefined;
      if (before === undefined) throw notFound(name);
      const at = now();
      this.sql.setStatus.run({ name, status, at });
      this.audit(at, actor, STATUS_ACTION[status], name, { from: before.status, to: status });
      return { ...before, status, updated_at: at };
    });
    return toExtension(update.immediate());
  }

  async retireExtension(name: string, supergraph: SupergraphInput, actor: string): Promise<{ extension: ExtensionRecord; supergraph: SupergraphRecord }> {
    return retireAsRelease(this, name, supergraph, actor);
  }

  async setTenants(name: string, tenants: string[] | null, actor: string): Promise<ExtensionRecord> {
    const update = this.db.transaction((): ExtensionRow => {
      const before = this.sql.getExtension.get(name) as ExtensionRow | undefined;
      if (before === undefined) throw notFound(name);
      const at = now();
      const value = tenants === null ? null : JSON.stringify([...new Set(tenants)].sort());
      this.sql.setTenants.run({ name, tenants: value, at });
      this.audit(at, actor, 'tenants', name, { from: before.tenants === null ? null : JSON.parse(before.tenants), to: value === null ? null : JSON.parse(value) });
      return { ...before, tenants: value, updated_at: at };
    });
    return toExtension(update.immediate());
  }

  async getActiveSupergraph(): Promise<SupergraphRecord | undefined> {
    const row = this.sql.latestSupergraph.get() as SupergraphRow | undefined;
    return row === undefined ? undefined : toSupergraph(row);
  }

  async saveSupergraph(supergraph: SupergraphInput, actor: string, action: string): Promise<SupergraphRecord> {
    const save = this.db.transaction((): SupergraphRecord => {
      this.checkBasedOn(supergraph.basedOn);
      const at = now();
      const stored = this.insertSupergraph(supergraph, at);
      this.audit(at, actor, action, undefined, { supergraphId: stored.id, hash: stored.hash, members: stored.members });
      return stored;
    });
    return save.immediate();
  }

  async listSigningKeys(): Promise<StoredSigningKey[]> {
    const rows = this.sql.listSigningKeys.all() as Array<{ kid: string; public_jwk: string; sealed_private_jwk: string; created_at: string; signs_from: string }>;
    return rows.map((row) => ({
      kid: row.kid,
      publicJwk: JSON.parse(row.public_jwk) as Record<string, unknown>,
      sealedPrivateJwk: row.sealed_private_jwk,
      createdAt: row.created_at,
      signsFrom: row.signs_from,
    }));
  }

  async addSigningKey(key: NewSigningKey, actor: string): Promise<StoredSigningKey> {
    const add = this.db.transaction((): StoredSigningKey => {
      const at = now();
      try {
        this.sql.insertSigningKey.run({ kid: key.kid, public_jwk: JSON.stringify(key.publicJwk), sealed_private_jwk: key.sealedPrivateJwk, created_at: at, signs_from: key.signsFrom });
      } catch (error) {
        if (isUniqueViolation(error)) throw signingKeyExists(key.kid, error);
        throw error;
      }
      this.audit(at, actor, 'upstream-key', undefined, { kid: key.kid, signsFrom: key.signsFrom });
      return { ...key, createdAt: at };
    });
    return add.immediate();
  }

  async lastChangeId(): Promise<number> {
    return (this.sql.lastAuditId.get() as { id: number | null }).id ?? 0;
  }

  /** Newest first; all events unless `limit` is given. */
  async listAuditEvents(options: { extension?: string; limit?: number } = {}): Promise<AuditEvent[]> {
    checkAuditLimit(options.limit);
    const limit = options.limit ?? -1; // SQLite: a negative LIMIT means no limit
    const rows =
      options.extension === undefined
        ? this.sql.listAudit.all({ limit })
        : this.sql.listAuditFor.all({ extension: options.extension, limit });
    return (rows as AuditRow[]).map(toAudit);
  }

  async listOperations(): Promise<RegisteredOperationRecord[]> {
    return (this.sql.listOperations.all() as OperationRow[]).map(toOperation);
  }

  async getOperation(name: string): Promise<RegisteredOperationRecord | undefined> {
    const row = this.sql.getOperation.get(name) as OperationRow | undefined;
    return row === undefined ? undefined : toOperation(row);
  }

  async saveOperation(input: NewOperation, actor: string): Promise<{ operation: RegisteredOperationRecord; created: boolean; changed: boolean }> {
    const save = this.db.transaction(() => {
      const before = this.sql.getOperation.get(input.name) as OperationRow | undefined;
      const client = input.client ?? null;
      if (before && before.document === input.document && before.client === client) {
        return { operation: toOperation(before), created: false, changed: false };
      }
      const at = now();
      const row: OperationRow = {
        name: input.name,
        document: input.document,
        hash: input.hash,
        normalized_hash: input.normalizedHash,
        client,
        registered_by: actor,
        registered_at: before?.registered_at ?? at,
        updated_at: at,
      };
      this.sql.upsertOperation.run(row);
      this.audit(at, actor, before ? 'operation-update' : 'operation-register', undefined, {
        operation: input.name,
        hash: input.hash,
        ...(client === null ? {} : { client }),
        ...(before ? { previousHash: before.hash } : {}),
      });
      return { operation: toOperation(row), created: before === undefined, changed: true };
    });
    return save.immediate();
  }

  async recordUsage(batch: UsageBatch): Promise<void> {
    checkUsageBatch(batch);
    if (batch.operations.length === 0 && batch.counts.length === 0) return;
    const record = this.db.transaction(() => {
      const at = now();
      for (const operation of batch.operations) {
        const inserted = this.sql.insertUsageOperation.run({ ...operation, coordinates: JSON.stringify(operation.coordinates), first_seen: at });
        if (inserted.changes === 0) continue;
        for (const coordinate of operation.coordinates) this.sql.insertUsageCoordinate.run(coordinate, operation.hash);
      }
      for (const count of batch.counts) {
        this.sql.addUsageCount.run({ bucket: count.minute, operation: count.operation, client_name: count.clientName, client_version: count.clientVersion, count: count.count });
      }
    });
    record.immediate();
  }

  async queryUsage(query: UsageQuery): Promise<UsageSummary[]> {
    const since = new Date(query.since);
    const params = {
      since: since.toISOString(),
      // An hour bucket counts when any of its hour is in the window.
      hourSince: new Date(since.getTime() - 3_600_000).toISOString(),
      coordinates: query.coordinates === undefined ? null : JSON.stringify(query.coordinates),
      exclude: JSON.stringify(query.excludeClients ?? []),
    };
    const rows = this.sql.queryUsage.all(params) as UsageClientRow[];
    const hashes = [...new Set(rows.map((r) => r.operation))];
    const operations = new Map(
      (this.sql.usageOperations.all(JSON.stringify(hashes)) as Array<{ hash: string; name: string | null; signature: string; coordinates: string }>).map((o) => [
        o.hash,
        { name: o.name, signature: o.signature, coordinates: JSON.parse(o.coordinates) as string[] },
      ]),
    );
    return summarizeUsage(rows, operations);
  }

  async compactUsage(options: { rollUpBefore: string; deleteBefore: string }): Promise<{ rolledUp: number; deleted: number }> {
    const compact = this.db.transaction(() => {
      const rollUpBefore = new Date(options.rollUpBefore).toISOString();
      this.sql.rollUpUsage.run(rollUpBefore);
      const rolledUp = this.sql.deleteRolledUpUsage.run(rollUpBefore).changes;
      const deleted = this.sql.deleteOldUsage.run(new Date(options.deleteBefore).toISOString()).changes;
      this.sql.deleteUnusedUsageOperations.run();
      return { rolledUp, deleted };
    });
    return compact.immediate();
  }

  async deleteOperation(name: string, actor: string): Promise<RegisteredOperationRecord | undefined> {
    const remove = this.db.transaction(() => {
      const before = this.sql.getOperation.get(name) as OperationRow | undefined;
      if (before === undefined) return undefined;
      this.sql.deleteOperation.run(name);
      this.audit(now(), actor, 'operation-delete', undefined, { operation: name, hash: before.hash });
      return toOperation(before);
    });
    return remove.immediate();
  }

  async createExtensionKey(input: NewExtensionKey, actor: string): Promise<ExtensionKeyRecord> {
    const create = this.db.transaction((): ExtensionKeyRow => {
      if (this.sql.getExtension.get(input.extension) === undefined) throw notFound(input.extension);
      const at = now();
      const row: ExtensionKeyRow = {
        id: input.id,
        prefix: input.prefix,
        hash: input.hash,
        extension: input.extension,
        scopes: JSON.stringify(input.scopes),
        description: input.description,
        created_by: actor,
        created_at: at,
        expires_at: input.expiresAt ?? null,
        last_used_at: null,
        revoked_at: null,
        revoked_by: null,
      };
      this.sql.insertExtensionKey.run(row);
      this.audit(at, actor, 'key-create', input.extension, { key: input.id, prefix: input.prefix, scopes: input.scopes, ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}) });
      return row;
    });
    return toExtensionKey(create.immediate());
  }

  async listExtensionKeys(options: { extension?: string } = {}): Promise<ExtensionKeyRecord[]> {
    const rows = options.extension === undefined ? this.sql.listExtensionKeys.all() : this.sql.listExtensionKeysFor.all(options.extension);
    return (rows as ExtensionKeyRow[]).map(toExtensionKey);
  }

  async findExtensionKey(id: string): Promise<(ExtensionKeyRecord & { hash: string }) | undefined> {
    const row = this.sql.getExtensionKey.get(id) as ExtensionKeyRow | undefined;
    return row === undefined ? undefined : { ...toExtensionKey(row), hash: row.hash };
  }

  async revokeExtensionKey(id: string, actor: string): Promise<ExtensionKeyRecord> {
    const revoke = this.db.transaction((): ExtensionKeyRow => {
      const before = this.sql.getExtensionKey.get(id) as ExtensionKeyRow | undefined;
      if (before === undefined) throw keyNotFound(id);
      if (before.revoked_at !== null) return before;
      const at = now();
      this.sql.revokeExtensionKey.run({ id, at, actor });
      this.audit(at, actor, 'key-revoke', before.extension, { key: id, prefix: before.prefix });
      return { ...before, revoked_at: at, revoked_by: actor };
    });
    return toExtensionKey(revoke.immediate());
  }

  async touchExtensionKey(id: string, at: string): Promise<void> {
    this.sql.touchExtensionKey.run({ id, at });
  }

  async createWebhook(input: NewWebhook, actor: string): Promise<WebhookRecord> {
    const create = this.db.transaction((): WebhookRecord => {
      const at = now();
      const events = JSON.stringify(input.events);
      const id = Number(this.sql.insertWebhook.run({ url: input.url, events, secret: input.secret, description: input.description, created_by: actor, created_at: at }).lastInsertRowid);
      this.audit(at, actor, 'webhook-create', undefined, { webhook: id, url: input.url, events: input.events });
      return { id, url: input.url, events: JSON.parse(events) as string[], description: input.description, createdBy: actor, createdAt: at };
    });
    return create.immediate();
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    return (this.sql.listWebhooks.all() as WebhookRow[]).map(toWebhook);
  }

  async deleteWebhook(id: number, actor: string): Promise<WebhookRecord> {
    const remove = this.db.transaction((): WebhookRecord => {
      const row = this.sql.getWebhook.get(id) as WebhookRow | undefined;
      if (row === undefined || row.deleted_at !== null) {
        throw new GraftError(GraftErrorCode.NOT_FOUND, `There is no webhook ${id}: GET /admin/webhooks lists them.`, { details: { webhook: id } });
      }
      const at = now();
      this.sql.deleteWebhook.run({ id, at });
      this.sql.dropPendingDeliveries.run({ id, at });
      this.audit(at, actor, 'webhook-delete', undefined, { webhook: id, url: row.url });
      return toWebhook(row);
    });
    return remove.immediate();
  }

  async enqueueWebhookEvent(input: { eventId: string; event: string; body: string; at: string }): Promise<number> {
    const enqueue = this.db.transaction((): number => {
      let queued = 0;
      for (const row of this.sql.listWebhooks.all() as WebhookRow[]) {
        if (!(JSON.parse(row.events) as string[]).includes(input.event)) continue;
        this.sql.insertDelivery.run({ webhook_id: row.id, event_id: input.eventId, event: input.event, body: input.body, at: input.at });
        queued += 1;
      }
      return queued;
    });
    return enqueue.immediate();
  }

  async claimWebhookDeliveries(at: string, limit: number, leaseMs: number): Promise<ClaimedWebhookDelivery[]> {
    const claim = this.db.transaction((): ClaimedWebhookDelivery[] => {
      const rows = this.sql.dueDeliveries.all({ at, limit }) as Array<WebhookDeliveryRow & { url: string; secret: string }>;
      const lockedUntil = new Date(Date.parse(at) + leaseMs).toISOString();
      for (const row of rows) this.sql.lockDelivery.run({ id: row.id, locked_until: lockedUntil });
      return rows.map((row) => ({ ...toDelivery(row), url: row.url, secret: row.secret }));
    });
    // IMMEDIATE: two dispatchers on one registry never claim the same delivery.
    return claim.immediate();
  }

  async recordWebhookAttempt(id: number, outcome: { at: string; delivered: boolean; statusCode?: number; error?: string; retryAt?: string }): Promise<void> {
    this.sql.recordAttempt.run({
      id,
      status: outcome.delivered ? 'delivered' : outcome.retryAt === undefined ? 'failed' : 'pending',
      next_attempt_at: outcome.delivered ? null : (outcome.retryAt ?? null),
      last_status_code: outcome.statusCode ?? null,
      last_error: outcome.error ?? null,
      delivered_at: outcome.delivered ? outcome.at : null,
    });
  }

  async listWebhookDeliveries(options: { webhookId?: number; limit?: number } = {}): Promise<WebhookDeliveryRecord[]> {
    const limit = options.limit ?? -1;
    const rows = options.webhookId === undefined ? this.sql.listDeliveries.all({ limit }) : this.sql.listDeliveriesFor.all({ webhook_id: options.webhookId, limit });
    return (rows as WebhookDeliveryRow[]).map(toDelivery);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Adds the version's directive module sources (registry schema 4), when it has any. */
  private withDirectiveModules(record: ExtensionVersionRecord): ExtensionVersionRecord {
    const rows = this.sql.listDirectiveModules.all(record.extension, record.version) as Array<{ path: string; source: string }>;
    if (rows.length === 0) return record;
    return { ...record, directiveModules: Object.fromEntries(rows.map((r) => [r.path, r.source])) };
  }

  /** Optimistic concurrency (rules.ts): IMMEDIATE holds the write lock, so no writer slips in between this read and ours. */
  private checkBasedOn(basedOn: number | null | undefined): void {
    if (basedOn === undefined) return;
    checkBasedOn(basedOn, (this.sql.latestSupergraphId.get() as { id: number | null }).id);
  }

  /** Runs inside the publish transaction: every refusal happens before any write. */
  private checkPublishable(extension: string, version: string): void {
    if (this.sql.getExtension.get(extension) === undefined) throw notFound(extension);
    const stored = (this.sql.listVersionNumbers.all(extension) as Array<{ version: string }>).map((r) => r.version);
    checkVersionOrder(extension, version, stored);
  }

  private insertSupergraph(input: SupergraphInput, at: string): SupergraphRecord {
    const hash = sha256(input.sdl);
    const members = JSON.stringify(input.members);
    const id = Number(this.sql.insertSupergraph.run({ sdl: input.sdl, apiSdl: input.apiSdl, hash, members, at }).lastInsertRowid);
    return { id, sdl: input.sdl, apiSdl: input.apiSdl, hash, members: JSON.parse(members) as Members, createdAt: at };
  }

  private audit(at: string, actor: string, action: string, extension: string | undefined, details: Record<string, unknown>): void {
    this.sql.insertAudit.run({ at, actor, action, extension: extension ?? null, release_id: null, details: JSON.stringify(details) });
  }
}

function prepareStatements(db: SqliteDatabase) {
  const prepare = (source: string): Statement => db.prepare(source);
  return {
    getExtension: prepare('SELECT * FROM extensions WHERE name = ?'),
    listExtensions: prepare('SELECT * FROM extensions ORDER BY name'),
    insertExtension: prepare(
      `INSERT INTO extensions (name, owner, description, status, active_version, created_at, updated_at)
       VALUES (@name, @owner, @description, @status, @active_version, @created_at, @updated_at)`,
    ),
    setStatus: prepare('UPDATE extensions SET status = @status, updated_at = @at WHERE name = @name'),
    setTenants: prepare('UPDATE extensions SET tenants = @tenants, updated_at = @at WHERE name = @name'),
    activateVersion: prepare('UPDATE extensions SET active_version = @version, updated_at = @at WHERE name = @name'),
    getVersion: prepare('SELECT * FROM extension_versions WHERE extension = ? AND version = ?'),
    listVersions: prepare('SELECT * FROM extension_versions WHERE extension = ?'),
    listVersionNumbers: prepare('SELECT version FROM extension_versions WHERE extension = ?'),
    insertVersion: prepare(
      `INSERT INTO extension_versions (extension, version, manifest, sdl, published_by, published_at, supergraph_id, report)
       VALUES (@extension, @version, @manifest, @sdl, @published_by, @published_at, @supergraph_id, @report)`,
    ),
    insertSupergraph: prepare(
      `INSERT INTO supergraphs (sdl, api_sdl, hash, members, created_at) VALUES (@sdl, @apiSdl, @hash, @members, @at)`,
    ),
    latestSupergraph: prepare('SELECT * FROM supergraphs ORDER BY id DESC LIMIT 1'),
    // MAX of an INTEGER PRIMARY KEY is one b-tree seek: cheap enough to poll.
    latestSupergraphId: prepare('SELECT MAX(id) AS id FROM supergraphs'),
    lastAuditId: prepare('SELECT MAX(id) AS id FROM audit_events'),
    insertDirectiveModule: prepare(
      `INSERT INTO directive_modules (extension, version, path, source, sha256) VALUES (@extension, @version, @path, @source, @sha256)`,
    ),
    listDirectiveModules: prepare('SELECT path, source FROM directive_modules WHERE extension = ? AND version = ? ORDER BY path'),
    insertAudit: prepare(
      `INSERT INTO audit_events (at, actor, action, extension, release_id, details) VALUES (@at, @actor, @action, @extension, @release_id, @details)`,
    ),
    listAudit: prepare('SELECT * FROM audit_events ORDER BY id DESC LIMIT @limit'),
    // An extension's own events, and those of the releases of several extensions it was in.
    listAuditFor: prepare(
      `SELECT * FROM audit_events WHERE extension = @extension
         OR release_id IN (SELECT release_id FROM release_members WHERE extension = @extension)
       ORDER BY id DESC LIMIT @limit`,
    ),
    insertRelease: prepare('INSERT INTO releases (supergraph_id, actor, reason, created_at) VALUES (@supergraph_id, @actor, @reason, @created_at)'),
    insertReleaseMember: prepare(
      'INSERT INTO release_members (release_id, position, extension, version, change) VALUES (@release_id, @position, @extension, @version, @change)',
    ),
    listReleases: prepare('SELECT * FROM releases ORDER BY id DESC LIMIT @limit'),
    listReleasesFor: prepare(
      `SELECT * FROM releases WHERE id IN (SELECT release_id FROM release_members WHERE extension = @extension) ORDER BY id DESC LIMIT @limit`,
    ),
    listReleaseMembers: prepare('SELECT * FROM release_members WHERE release_id = ? ORDER BY position'),
    listOperations: prepare('SELECT * FROM registered_operations ORDER BY name'),
    getOperation: prepare('SELECT * FROM registered_operations WHERE name = ?'),
    upsertOperation: prepare(
      `INSERT INTO registered_operations (name, document, hash, normalized_hash, client, registered_by, registered_at, updated_at)
       VALUES (@name, @document, @hash, @normalized_hash, @client, @registered_by, @registered_at, @updated_at)
       ON CONFLICT (name) DO UPDATE SET document = excluded.document, hash = excluded.hash, normalized_hash = excluded.normalized_hash,
         client = excluded.client, registered_by = excluded.registered_by, updated_at = excluded.updated_at`,
    ),
    deleteOperation: prepare('DELETE FROM registered_operations WHERE name = ?'),
    listSigningKeys: prepare('SELECT * FROM upstream_signing_keys ORDER BY signs_from, kid'),
    insertSigningKey: prepare(
      `INSERT INTO upstream_signing_keys (kid, public_jwk, sealed_private_jwk, created_at, signs_from) VALUES (@kid, @public_jwk, @sealed_private_jwk, @created_at, @signs_from)`,
    ),
    insertExtensionKey: prepare(
      `INSERT INTO extension_keys (id, prefix, hash, extension, scopes, description, created_by, created_at, expires_at, last_used_at, revoked_at, revoked_by)
       VALUES (@id, @prefix, @hash, @extension, @scopes, @description, @created_by, @created_at, @expires_at, @last_used_at, @revoked_at, @revoked_by)`,
    ),
    getExtensionKey: prepare('SELECT * FROM extension_keys WHERE id = ?'),
    listExtensionKeys: prepare('SELECT * FROM extension_keys ORDER BY created_at, id'),
    listExtensionKeysFor: prepare('SELECT * FROM extension_keys WHERE extension = ? ORDER BY created_at, id'),
    revokeExtensionKey: prepare('UPDATE extension_keys SET revoked_at = @at, revoked_by = @actor WHERE id = @id AND revoked_at IS NULL'),
    touchExtensionKey: prepare('UPDATE extension_keys SET last_used_at = @at WHERE id = @id'),
    insertWebhook: prepare(
      'INSERT INTO webhooks (url, events, secret, description, created_by, created_at) VALUES (@url, @events, @secret, @description, @created_by, @created_at)',
    ),
    getWebhook: prepare('SELECT * FROM webhooks WHERE id = ?'),
    listWebhooks: prepare('SELECT * FROM webhooks WHERE deleted_at IS NULL ORDER BY id'),
    deleteWebhook: prepare('UPDATE webhooks SET deleted_at = @at WHERE id = @id'),
    dropPendingDeliveries: prepare(
      `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, last_error = 'the webhook was deleted', delivered_at = NULL
       WHERE webhook_id = @id AND status = 'pending'`,
    ),
    insertDelivery: prepare(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, event, body, status, attempts, next_attempt_at, created_at)
       VALUES (@webhook_id, @event_id, @event, @body, 'pending', 0, @at, @at)`,
    ),
    // ISO 8601 UTC strings compare in time order.
    dueDeliveries: prepare(
      `SELECT d.*, w.url, w.secret FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
       WHERE d.status = 'pending' AND d.next_attempt_at <= @at AND (d.locked_until IS NULL OR d.locked_until <= @at)
       ORDER BY d.next_attempt_at, d.id LIMIT @limit`,
    ),
    lockDelivery: prepare('UPDATE webhook_deliveries SET locked_until = @locked_until WHERE id = @id'),
    recordAttempt: prepare(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, status = @status, next_attempt_at = @next_attempt_at, locked_until = NULL,
         last_status_code = @last_status_code, last_error = @last_error, delivered_at = @delivered_at
       WHERE id = @id AND status = 'pending'`,
    ),
    listDeliveries: prepare('SELECT * FROM webhook_deliveries ORDER BY id DESC LIMIT @limit'),
    listDeliveriesFor: prepare('SELECT * FROM webhook_deliveries WHERE webhook_id = @webhook_id ORDER BY id DESC LIMIT @limit'),
    insertUsageOperation: prepare(
      `INSERT INTO usage_operations (hash, name, signature, coordinates, first_seen) VALUES (@hash, @name, @signature, @coordinates, @first_seen)
       ON CONFLICT (hash) DO NOTHING`,
    ),
    insertUsageCoordinate: prepare('INSERT OR IGNORE INTO usage_coordinates (coordinate, operation) VALUES (?, ?)'),
    addUsageCount: prepare(
      `INSERT INTO usage_counts (bucket, minutes, operation, client_name, client_version, count) VALUES (@bucket, 1, @operation, @client_name, @client_version, @count)
       ON CONFLICT (bucket, minutes, operation, client_name, client_version) DO UPDATE SET count = count + excluded.count`,
    ),
    queryUsage: prepare(
      `SELECT operation, client_name, client_version, SUM(count) AS count, MAX(bucket) AS last_seen FROM usage_counts
        WHERE (bucket >= @since OR (minutes = 60 AND bucket > @hourSince))
          AND (@coordinates IS NULL OR operation IN (SELECT operation FROM usage_coordinates WHERE coordinate IN (SELECT value FROM json_each(@coordinates))))
          AND client_name NOT IN (SELECT value FROM json_each(@exclude))
        GROUP BY operation, client_name, client_version`,
    ),
    usageOperations: prepare('SELECT hash, name, signature, coordinates FROM usage_operations WHERE hash IN (SELECT value FROM json_each(?))'),
    // Buckets are ISO strings: the first 13 characters are the hour ("2026-12-08T01").
    rollUpUsage: prepare(
      `INSERT INTO usage_counts (bucket, minutes, operation, client_name, client_version, count)
       SELECT substr(bucket, 1, 13) || ':00:00.000Z', 60, operation, client_name, client_version, SUM(count) FROM usage_counts
        WHERE minutes = 1 AND bucket < ? GROUP BY substr(bucket, 1, 13), operation, client_name, client_version
       ON CONFLICT (bucket, minutes, operation, client_name, client_version) DO UPDATE SET count = count + excluded.count`,
    ),
    deleteRolledUpUsage: prepare('DELETE FROM usage_counts WHERE minutes = 1 AND bucket < ?'),
    deleteOldUsage: prepare('DELETE FROM usage_counts WHERE bucket < ?'),
    deleteUnusedUsageOperations: prepare('DELETE FROM usage_operations WHERE hash NOT IN (SELECT operation FROM usage_counts)'),
  };
}

/** The registry file of a data dir (GRAFT_DATA_DIR): the one path every gateway process opens. */
export function registryFileIn(dataDir: string): string {
  return join(dataDir, 'registry.sqlite');
}

/** How long a write waits for another connection's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) the registry file and brings its schema up to date.
 * Throws if the file was written by a newer Graft (see migrations.ts).
 */
export function openSqliteRegistry(options: SqliteRegistryOptions): SqliteRegistryStore {
  const inMemory = options.file === ':memory:';
  const file = inMemory ? options.file : resolve(options.file);
  if (!inMemory) mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    // busy_timeout first, so the pragmas and migrations below wait for another process
    // holding the file instead of failing at once. Writers from several gateway processes
    // (GRAFT_WORKERS) queue on the write lock the same way: every write transaction is
    // IMMEDIATE, so it waits here for the lock rather than failing with SQLITE_BUSY.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // WAL: readers (the gateway serving) never block the writer (a publish) or each other.
    db.pragma('journal_mode = WAL');
    // FULL rather than NORMAL: publishes are rare, so one extra fsync per commit costs
    // nothing noticeable, and in WAL mode NORMAL can lose the last commits on power loss.
    // A version reported "published" that then vanishes could be published again with
    // different content, breaking the immutability promise CI relies on.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    return new SqliteRegistryStore(db);
  } catch (error) {
    db.close();
    throw error;
  }
}
