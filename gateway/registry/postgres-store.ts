// The registry on PostgreSQL (node-postgres), for gateway replicas on several hosts sharing
// one registry (DESIGN.md, direction 5). Same contract and invariants as the SQLite store:
// immutable versions, supergraphs and audit rows (triggers), one transaction per write, the
// optimistic basedOn check, the change counter (the newest audit id).
//
// Writers take turns: every write transaction first takes one transaction-level advisory
// lock, as SQLite's BEGIN IMMEDIATE does. Writes are rare (publishes); in exchange the
// semver and basedOn checks cannot race, and audit ids commit in increasing order, so the
// change counter (MAX(id)) never skips a change a poller already passed.
//
// Every audit row also sends NOTIFY graft_registry in its transaction (delivered at commit
// only): the nudge the other replicas LISTEN for (watchChanges).
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import type { ExtensionManifest } from '../manifest/index.js';
import { ADVISORY_LOCKS, applyPostgresMigrations } from './postgres-migrations.js';
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
  ExtensionRecord,
  ExtensionStatus,
  ExtensionVersionRecord,
  NewExtension,
  NewOperation,
  NewRelease,
  NewSigningKey,
  NewSupergraph,
  NewVersion,
  RegisteredOperationRecord,
  RegistryChangeFeed,
  RegistryLeadership,
  RegistryStore,
  ReleaseRecord,
  StoredSigningKey,
  SupergraphRecord,
  ClaimedWebhookDelivery,
  ExtensionKeyRecord,
  ExtensionKeyScope,
  NewExtensionKey,
  NewWebhook,
  WebhookDeliveryRecord,
  WebhookDeliveryStatus,
  WebhookRecord,
  UsageBatch,
  UsageQuery,
  UsageSummary,
} from './types.js';

/** The channel of the change nudges. */
export const CHANGE_CHANNEL = 'graft_registry';

export interface PostgresRegistryOptions {
  /** postgres:// or postgresql:// URL; libpq-style parameters (sslmode, sslrootcert, ...) are honoured. */
  url: string;
  /** Most connections of the pool (GRAFT_PG_POOL_MAX, default 10). The watcher and the leader lock use one more each. */
  poolMax?: number;
  /** Server-side limit of one statement (GRAFT_PG_STATEMENT_TIMEOUT_MS, default 10 000). */
  statementTimeoutMs?: number;
  /** Longest wait for a connection (GRAFT_PG_CONNECT_TIMEOUT_MS, default 5 000). */
  connectTimeoutMs?: number;
  /** A PEM file of the CA that signs the server's certificate (GRAFT_PG_SSL_CA); verifies it. */
  sslCaFile?: string;
  /** Errors of idle connections (the pool replaces them); default: ignored. */
  onIdleError?: (error: Error) => void;
}

type Queryable = Pick<pg.ClientBase, 'query'>;

interface ExtensionRow {
  name: string;
  owner: string;
  description: string;
  status: ExtensionStatus;
  active_version: string | null;
  tenants: string[] | null;
  created_at: Date;
  updated_at: Date;
}
interface VersionRow {
  extension: string;
  version: string;
  manifest: ExtensionManifest;
  sdl: string;
  published_by: string;
  published_at: Date;
  supergraph_id: string;
  report: Record<string, unknown> | null;
}
interface SupergraphRow {
  id: string;
  sdl: string;
  api_sdl: string;
  hash: string;
  members: SupergraphRecord['members'];
  created_at: Date;
}
interface OperationRow {
  name: string;
  document: string;
  hash: string;
  normalized_hash: string;
  client: string | null;
  registered_by: string;
  registered_at: Date;
  updated_at: Date;
}
interface ReleaseRow {
  id: string;
  supergraph_id: string;
  actor: string;
  reason: string | null;
  created_at: Date;
  /** Aggregated by listReleases, in position order. */
  members: Array<{ extension: string; version: string | null; change: 'publish' | 'retire' }>;
}
interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  action: string;
  extension: string | null;
  details: Record<string, unknown>;
}

const iso = (value: Date): string => value.toISOString();
const isoOrUndefined = (value: Date | null): string | undefined => (value === null ? undefined : value.toISOString());

interface ExtensionKeyRow {
  id: string;
  prefix: string;
  hash: string;
  extension: string;
  scopes: ExtensionKeyScope[];
  description: string;
  created_by: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}

function toExtensionKey(row: ExtensionKeyRow): ExtensionKeyRecord {
  return {
    id: row.id,
    prefix: row.prefix,
    extension: row.extension,
    scopes: row.scopes,
    description: row.description,
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    expiresAt: isoOrUndefined(row.expires_at),
    lastUsedAt: isoOrUndefined(row.last_used_at),
    revokedAt: isoOrUndefined(row.revoked_at),
    revokedBy: row.revoked_by ?? undefined,
  };
}

interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  secret: string;
  description: string;
  created_by: string;
  created_at: Date;
  deleted_at: Date | null;
}

const toWebhook = (row: WebhookRow): WebhookRecord => ({ id: Number(row.id), url: row.url, events: row.events, description: row.description, createdBy: row.created_by, createdAt: iso(row.created_at) });

interface WebhookDeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event: string;
  body: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

function toDelivery(row: WebhookDeliveryRow): WebhookDeliveryRecord {
  return {
    id: Number(row.id),
    webhookId: Number(row.webhook_id),
    eventId: row.event_id,
    event: row.event,
    body: row.body,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: isoOrUndefined(row.next_attempt_at),
    lastStatusCode: row.last_status_code ?? undefined,
    lastError: row.last_error ?? undefined,
    createdAt: iso(row.created_at),
    deliveredAt: isoOrUndefined(row.delivered_at),
  };
}

function toExtension(row: ExtensionRow): ExtensionRecord {
  return {
    name: row.name,
    owner: row.owner,
    description: row.description,
    status: row.status,
    activeVersion: row.active_version ?? undefined,
    tenants: row.tenants,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

function toVersion(row: VersionRow): ExtensionVersionRecord {
  return {
    extension: row.extension,
    version: row.version,
    manifest: row.manifest,
    sdl: row.sdl,
    publishedBy: row.published_by,
    publishedAt: iso(row.published_at),
    supergraphId: Number(row.supergraph_id),
    ...(row.report === null ? {} : { report: row.report }),
  };
}

function toSupergraph(row: SupergraphRow): SupergraphRecord {
  return { id: Number(row.id), sdl: row.sdl, apiSdl: row.api_sdl, hash: row.hash, members: row.members, createdAt: iso(row.created_at) };
}

function toOperation(row: OperationRow): RegisteredOperationRecord {
  return {
    name: row.name,
    document: row.document,
    hash: row.hash,
    normalizedHash: row.normalized_hash,
    client: row.client ?? undefined,
    registeredBy: row.registered_by,
    registeredAt: iso(row.registered_at),
    updatedAt: iso(row.updated_at),
  };
}

function toRelease(row: ReleaseRow): ReleaseRecord {
  return {
    id: Number(row.id),
    supergraphId: Number(row.supergraph_id),
    actor: row.actor,
    reason: row.reason ?? undefined,
    members: row.members.filter((m) => m.change === 'publish').map((m) => ({ extension: m.extension, version: m.version as string })),
    retired: row.members.filter((m) => m.change === 'retire').map((m) => m.extension),
    createdAt: iso(row.created_at),
  };
}

function toAudit(row: AuditRow): AuditEvent {
  return { id: Number(row.id), at: iso(row.at), actor: row.actor, action: row.action, extension: row.extension ?? undefined, details: row.details };
}

/** Network errors and PostgreSQL's connection-level SQLSTATEs: the database, not the request, is the problem. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
// admin/crash shutdown, cannot connect now, statement timeout, too many connections, no such database.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57014', '53300', '3D000']);
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|connection error|Client was closed|terminating connection/i;

export function isConnectionError(error: unknown): boolean {
  if (error instanceof GraftError) return error.code === GraftErrorCode.REGISTRY_UNAVAILABLE;
  const code = (error as { code?: unknown } | null)?.code;
  // Class 08: connection exceptions; class 28: the credentials were refused.
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08') || code.startsWith('28'))) return true;
  return error instanceof Error && UNAVAILABLE_MESSAGES.test(error.message);
}

/** Where the registry is, for messages: host, port and database, never the password. */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'the configured URL';
  }
}

function unavailable(where: string, cause: unknown): GraftError {
  const reason = cause instanceof Error ? cause.message || (cause as { code?: string }).code || 'connection failed' : String(cause);
  return new GraftError(
    GraftErrorCode.REGISTRY_UNAVAILABLE,
    `The registry database (PostgreSQL at ${where}) cannot be reached: ${reason}. The gateway keeps serving its last good ` +
      `supergraph; nothing was changed. Try again once the database is back (a version stored just before it went away answers VERSION_EXISTS).`,
    { cause, details: { registry: where, reason } },
  );
}

/** libpq-style TLS from the URL (sslmode, sslrootcert) or GRAFT_PG_SSL_CA: node-postgres's ssl option. */
function poolConfig(options: PostgresRegistryOptions): pg.PoolConfig {
  const config: pg.PoolConfig = {
    connectionString: options.url,
    max: options.poolMax ?? 10,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    keepAlive: true,
    application_name: 'graft',
  };
  if (options.sslCaFile) config.ssl = { ca: readFileSync(options.sslCaFile, 'utf8'), rejectUnauthorized: true };
  return config;
}

export class PostgresRegistryStore implements RegistryStore {
  /** host:port/database, for messages and logs. */
  readonly where: string;
  readonly #pool: pg.Pool;
  readonly #clientConfig: pg.ClientConfig;
  readonly #closers = new Set<() => Promise<void>>();
  #closed = false;

  private constructor(pool: pg.Pool, clientConfig: pg.ClientConfig, where: string) {
    this.#pool = pool;
    this.#clientConfig = clientConfig;
    this.where = where;
  }

  /** Connects, applies pending migrations (advisory lock), and refuses a database newer than this code. */
  static async open(options: PostgresRegistryOptions): Promise<PostgresRegistryStore> {
    const where = describePostgresUrl(options.url);
    const config = poolConfig(options);
    const pool = new pg.Pool(config);
    // An idle connection the server closed (restart, outage) must never crash the gateway.
    pool.on('error', (error) => options.onIdleError?.(error));
    const store = new PostgresRegistryStore(pool, config, where);
    try {
      const client = await pool.connect().catch((error: unknown) => {
        throw unavailable(where, error);
      });
      try {
        await applyPostgresMigrations(client, where);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw isConnectionError(error) && !(error instanceof GraftError) ? unavailable(where, error) : error;
    }
    return store;
  }

  async #read<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.#pool.query<T>(sql, params)).rows;
    } catch (error) {
      throw isConnectionError(error) ? unavailable(this.where, error) : error;
    }
  }

  /** One write transaction, holding the registry's write lock; rolled back whole on any error. */
  async #write<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw unavailable(this.where, error);
    }
    let broken: Error | undefined;
    // A checked-out connection that breaks also emits 'error' (besides failing the query):
    // unheard, it would crash the process.
    const onError = (error: Error): void => void (broken = error);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.write]);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (isConnectionError(error)) {
        broken = error as Error;
        throw unavailable(this.where, error);
      }
      await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError as Error));
      throw error;
    } finally {
      client.off('error', onError);
      // A connection that broke is destroyed, not handed to the next caller.
      client.release(broken);
    }
  }

  async createExtension(input: NewExtension, actor: string): Promise<ExtensionRecord> {
    return this.#write(async (tx) => {
      if ((await tx.query('SELECT 1 FROM extensions WHERE name = $1', [input.name])).rowCount) throw nameTaken(input.name);
      const at = now();
      await tx.query(
        `INSERT INTO extensions (name, owner, description, status, created_at, updated_at) VALUES ($1, $2, $3, 'active', $4, $4)`,
        [input.name, input.owner, input.description, at],
      );
      await this.#audit(tx, at, actor, 'register', input.name, { owner: input.owner, description: input.description });
      return { name: input.name, owner: input.owner, description: input.description, status: 'active' as const, activeVersion: undefined, tenants: null, createdAt: at, updatedAt: at };
    });
  }

  async getExtension(name: string): Promise<ExtensionRecord | undefined> {
    const [row] = await this.#read<ExtensionRow>('SELECT * FROM extensions WHERE name = $1', [name]);
    return row === undefined ? undefined : toExtension(row);
  }

  async listExtensions(): Promise<ExtensionRecord[]> {
    return (await this.#read<ExtensionRow>('SELECT * FROM extensions ORDER BY name COLLATE "C"')).map(toExtension);
  }

  async applyRelease(input: NewRelease): Promise<{ release: ReleaseRecord; versions: ExtensionVersionRecord[]; supergraph: SupergraphRecord; extensions: ExtensionRecord[] }> {
    checkReleaseShape(input);
    const retire = input.retire ?? [];
    // Serialise before the transaction: a manifest that cannot become JSON fails before anything is written.
    const members = input.members.map((member) => ({
      member,
      manifestJson: JSON.stringify(member.manifest),
      reportJson: member.report === undefined ? null : JSON.stringify(member.report),
    }));
    return this.#write(async (tx) => {
      // Every refusal first, so nothing is written unless all of it can be.
      await this.#checkBasedOn(tx, input.supergraph.basedOn);
      for (const { member } of members) {
        const known = Boolean((await tx.query('SELECT 1 FROM extensions WHERE name = $1', [member.extension])).rowCount);
        if (member.register) {
          if (known) throw nameTaken(member.extension);
          continue;
        }
        if (!known) throw notFound(member.extension);
        const stored = (await tx.query<{ version: string }>('SELECT version FROM extension_versions WHERE extension = $1', [member.extension])).rows;
        checkVersionOrder(member.extension, member.version, stored.map((r) => r.version));
      }
      for (const name of retire) {
        if ((await this.#extensionIn(tx, name)).status === 'retired') throw alreadyRetired(name);
      }

      const at = now();
      const supergraph = await this.#insertSupergraph(tx, input.supergraph, at);
      const versions: ExtensionVersionRecord[] = [];
      for (const { member, manifestJson, reportJson } of members) {
        if (member.register) {
          await tx.query(
            `INSERT INTO extensions (name, owner, description, status, created_at, updated_at) VALUES ($1, $2, $3, 'active', $4, $4)`,
            [member.extension, member.register.owner, member.register.description, at],
          );
        }
        await tx.query(
          `INSERT INTO extension_versions (extension, version, manifest, sdl, published_by, published_at, supergraph_id, report)
           VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8::jsonb)`,
          [member.extension, member.version, manifestJson, member.sdl, input.actor, at, supergraph.id, reportJson],
        );
        for (const [path, source] of Object.entries(member.directiveModules ?? {})) {
          await tx.query('INSERT INTO directive_modules (extension, version, path, source, sha256) VALUES ($1, $2, $3, $4, $5)', [
            member.extension,
            member.version,
            path,
            source,
            sha256(source),
          ]);
        }
        await tx.query('UPDATE extensions SET active_version = $2, updated_at = $3 WHERE name = $1', [member.extension, member.version, at]);
        versions.push({
          extension: member.extension,
          version: member.version,
          manifest: JSON.parse(manifestJson) as ExtensionManifest,
          sdl: member.sdl,
          publishedBy: input.actor,
          publishedAt: at,
          supergraphId: supergraph.id,
          ...(reportJson === null ? {} : { report: JSON.parse(reportJson) as Record<string, unknown> }),
          ...(member.directiveModules && Object.keys(member.directiveModules).length > 0 ? { directiveModules: { ...member.directiveModules } } : {}),
        });
      }
      for (const name of retire) await tx.query(`UPDATE extensions SET status = 'retired', updated_at = $2 WHERE name = $1`, [name, at]);

      const { rows } = await tx.query<{ id: string }>('INSERT INTO releases (supergraph_id, actor, reason, created_at) VALUES ($1, $2, $3, $4) RETURNING id', [
        supergraph.id,
        input.actor,
        input.reason ?? null,
        at,
      ]);
      const releaseId = Number(rows[0]?.id);
      const changes = [
        ...input.members.map((m) => ({ extension: m.extension, version: m.version as string | null, change: 'publish' as const })),
        ...retire.map((name) => ({ extension: name, version: null, change: 'retire' as const })),
      ];
      for (const [position, change] of changes.entries()) {
        await tx.query('INSERT INTO release_members (release_id, position, extension, version, change) VALUES ($1, $2, $3, $4, $5)', [
          releaseId,
          position,
          change.extension,
          change.version,
          change.change,
        ]);
      }
      const release = toRelease({ id: String(releaseId), supergraph_id: String(supergraph.id), actor: input.actor, reason: input.reason ?? null, created_at: new Date(at), members: changes });
      const involved = [...release.members.map((m) => m.extension), ...release.retired];
      const registered = input.members.flatMap((m) => (m.register ? [{ extension: m.extension, owner: m.register.owner, description: m.register.description }] : []));
      const action = releaseAction(input);
      await this.#audit(
        tx,
        at,
        input.actor,
        action,
        involved.length === 1 ? involved[0] : undefined,
        {
          release: releaseId,
          ...(action === 'publish' ? { version: release.members[0]?.version } : {}),
          ...(action === 'retire' ? { to: 'retired' } : {}),
          versions: release.members,
          retired: release.retired,
          ...(registered.length > 0 ? { registered } : {}),
          supergraphId: supergraph.id,
          hash: supergraph.hash,
          ...(input.reason === undefined ? {} : { reason: input.reason }),
          ...input.auditDetails,
        },
        releaseId,
      );
      const extensions: ExtensionRecord[] = [];
      for (const name of involved) extensions.push(await this.#extensionIn(tx, name));
      return { release, versions, supergraph, extensions };
    });
  }

  async listReleases(options: { extension?: string; limit?: number } = {}): Promise<ReleaseRecord[]> {
    checkAuditLimit(options.limit);
    const rows = await this.#read<ReleaseRow>(
      `SELECT r.*, (SELECT json_agg(json_build_object('extension', m.extension, 'version', m.version, 'change', m.change) ORDER BY m.position)
                    FROM release_members m WHERE m.release_id = r.id) AS members
         FROM releases r
        WHERE $1::text IS NULL OR r.id IN (SELECT release_id FROM release_members WHERE extension = $1)
        ORDER BY r.id DESC LIMIT $2`,
      [options.extension ?? null, options.limit ?? null],
    );
    return rows.map(toRelease);
  }

  async publishVersion(input: NewVersion): Promise<{ version: ExtensionVersionRecord; supergraph: SupergraphRecord }> {
    return publishAsRelease(this, input);
  }

  async getVersion(extension: string, version: string): Promise<ExtensionVersionRecord | undefined> {
    const [row] = await this.#read<VersionRow>('SELECT * FROM extension_versions WHERE extension = $1 AND version = $2', [extension, version]);
    return row === undefined ? undefined : this.#withDirectiveModules(toVersion(row));
  }

  async listVersions(extension: string): Promise<ExtensionVersionRecord[]> {
    const rows = await this.#read<VersionRow>('SELECT * FROM extension_versions WHERE extension = $1', [extension]);
    return Promise.all(newestFirst(rows).map((row) => this.#withDirectiveModules(toVersion(row))));
  }

  async setStatus(name: string, status: ExtensionStatus, actor: string): Promise<ExtensionRecord> {
    return this.#write(async (tx) => {
      const before = await this.#extensionIn(tx, name);
      const at = now();
      await tx.query('UPDATE extensions SET status = $2, updated_at = $3 WHERE name = $1', [name, status, at]);
      await this.#audit(tx, at, actor, STATUS_ACTION[status], name, { from: before.status, to: status });
      return { ...before, status, updatedAt: at };
    });
  }

  async retireExtension(name: string, supergraph: NewSupergraph, actor: string): Promise<{ extension: ExtensionRecord; supergraph: SupergraphRecord }> {
    return retireAsRelease(this, name, supergraph, actor);
  }

  async setTenants(name: string, tenants: string[] | null, actor: string): Promise<ExtensionRecord> {
    return this.#write(async (tx) => {
      const before = await this.#extensionIn(tx, name);
      const at = now();
      const value = tenants === null ? null : [...new Set(tenants)].sort();
      await tx.query('UPDATE extensions SET tenants = $2::jsonb, updated_at = $3 WHERE name = $1', [name, value === null ? null : JSON.stringify(value), at]);
      await this.#audit(tx, at, actor, 'tenants', name, { from: before.tenants, to: value });
      return { ...before, tenants: value, updatedAt: at };
    });
  }

  async getActiveSupergraph(): Promise<SupergraphRecord | undefined> {
    const [row] = await this.#read<SupergraphRow>('SELECT * FROM supergraphs ORDER BY id DESC LIMIT 1');
    return row === undefined ? undefined : toSupergraph(row);
  }

  async saveSupergraph(supergraph: NewSupergraph, actor: string, action: string): Promise<SupergraphRecord> {
    return this.#write(async (tx) => {
      await this.#checkBasedOn(tx, supergraph.basedOn);
      const at = now();
      const stored = await this.#insertSupergraph(tx, supergraph, at);
      await this.#audit(tx, at, actor, action, undefined, { supergraphId: stored.id, hash: stored.hash, members: stored.members });
      return stored;
    });
  }

  async listSigningKeys(): Promise<StoredSigningKey[]> {
    const rows = await this.#read<{ kid: string; public_jwk: Record<string, unknown>; sealed_private_jwk: string; created_at: Date; signs_from: Date }>(
      'SELECT * FROM upstream_signing_keys ORDER BY signs_from, kid COLLATE "C"',
    );
    return rows.map((row) => ({ kid: row.kid, publicJwk: row.public_jwk, sealedPrivateJwk: row.sealed_private_jwk, createdAt: iso(row.created_at), signsFrom: iso(row.signs_from) }));
  }

  async addSigningKey(key: NewSigningKey, actor: string): Promise<StoredSigningKey> {
    return this.#write(async (tx) => {
      if ((await tx.query('SELECT 1 FROM upstream_signing_keys WHERE kid = $1', [key.kid])).rowCount) throw signingKeyExists(key.kid);
      const at = now();
      await tx.query('INSERT INTO upstream_signing_keys (kid, public_jwk, sealed_private_jwk, created_at, signs_from) VALUES ($1, $2::jsonb, $3, $4, $5)', [
        key.kid,
        JSON.stringify(key.publicJwk),
        key.sealedPrivateJwk,
        at,
        key.signsFrom,
      ]);
      await this.#audit(tx, at, actor, 'upstream-key', undefined, { kid: key.kid, signsFrom: key.signsFrom });
      return { ...key, createdAt: at };
    });
  }

  async createExtensionKey(input: NewExtensionKey, actor: string): Promise<ExtensionKeyRecord> {
    return this.#write(async (tx) => {
      await this.#extensionIn(tx, input.extension);
      const at = now();
      const { rows } = await tx.query<ExtensionKeyRow>(
        `INSERT INTO extension_keys (id, prefix, hash, extension, scopes, description, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9) RETURNING *`,
        [input.id, input.prefix, input.hash, input.extension, JSON.stringify(input.scopes), input.description, actor, at, input.expiresAt ?? null],
      );
      await this.#audit(tx, at, actor, 'key-create', input.extension, { key: input.id, prefix: input.prefix, scopes: input.scopes, ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}) });
      return toExtensionKey(rows[0]!);
    });
  }

  async listExtensionKeys(options: { extension?: string } = {}): Promise<ExtensionKeyRecord[]> {
    const rows =
      options.extension === undefined
        ? await this.#read<ExtensionKeyRow>('SELECT * FROM extension_keys ORDER BY created_at, id COLLATE "C"')
        : await this.#read<ExtensionKeyRow>('SELECT * FROM extension_keys WHERE extension = $1 ORDER BY created_at, id COLLATE "C"', [options.extension]);
    return rows.map(toExtensionKey);
  }

  async findExtensionKey(id: string): Promise<(ExtensionKeyRecord & { hash: string }) | undefined> {
    const [row] = await this.#read<ExtensionKeyRow>('SELECT * FROM extension_keys WHERE id = $1', [id]);
    return row === undefined ? undefined : { ...toExtensionKey(row), hash: row.hash };
  }

  async revokeExtensionKey(id: string, actor: string): Promise<ExtensionKeyRecord> {
    return this.#write(async (tx) => {
      const [before] = (await tx.query<ExtensionKeyRow>('SELECT * FROM extension_keys WHERE id = $1', [id])).rows;
      if (before === undefined) throw new GraftError(GraftErrorCode.NOT_FOUND, `There is no extension key "${id}": graft keys list shows the ids.`, { details: { key: id } });
      if (before.revoked_at !== null) return toExtensionKey(before);
      const at = now();
      const { rows } = await tx.query<ExtensionKeyRow>('UPDATE extension_keys SET revoked_at = $2, revoked_by = $3 WHERE id = $1 RETURNING *', [id, at, actor]);
      await this.#audit(tx, at, actor, 'key-revoke', before.extension, { key: id, prefix: before.prefix });
      return toExtensionKey(rows[0]!);
    });
  }

  async touchExtensionKey(id: string, at: string): Promise<void> {
    await this.#read('UPDATE extension_keys SET last_used_at = $2 WHERE id = $1', [id, at]);
  }

  async createWebhook(input: NewWebhook, actor: string): Promise<WebhookRecord> {
    return this.#write(async (tx) => {
      const at = now();
      const { rows } = await tx.query<WebhookRow>(
        'INSERT INTO webhooks (url, events, secret, description, created_by, created_at) VALUES ($1, $2::jsonb, $3, $4, $5, $6) RETURNING *',
        [input.url, JSON.stringify(input.events), input.secret, input.description, actor, at],
      );
      const webhook = toWebhook(rows[0]!);
      await this.#audit(tx, at, actor, 'webhook-create', undefined, { webhook: webhook.id, url: input.url, events: input.events });
      return webhook;
    });
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    return (await this.#read<WebhookRow>('SELECT * FROM webhooks WHERE deleted_at IS NULL ORDER BY id')).map(toWebhook);
  }

  async deleteWebhook(id: number, actor: string): Promise<WebhookRecord> {
    return this.#write(async (tx) => {
      const [row] = (await tx.query<WebhookRow>('SELECT * FROM webhooks WHERE id = $1 AND deleted_at IS NULL', [id])).rows;
      if (row === undefined) throw new GraftError(GraftErrorCode.NOT_FOUND, `There is no webhook ${id}: GET /admin/webhooks lists them.`, { details: { webhook: id } });
      const at = now();
      await tx.query('UPDATE webhooks SET deleted_at = $2 WHERE id = $1', [id, at]);
      await tx.query(
        `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, last_error = 'the webhook was deleted' WHERE webhook_id = $1 AND status = 'pending'`,
        [id],
      );
      await this.#audit(tx, at, actor, 'webhook-delete', undefined, { webhook: id, url: row.url });
      return toWebhook(row);
    });
  }

  async enqueueWebhookEvent(input: { eventId: string; event: string; body: string; at: string }): Promise<number> {
    // One statement: a delivery for every endpoint that wants the event. Not a registry change (no audit row).
    const rows = await this.#read<{ id: string }>(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, event, body, status, attempts, next_attempt_at, created_at)
       SELECT id, $1, $2, $3, 'pending', 0, $4, $4 FROM webhooks WHERE deleted_at IS NULL AND events ? $2 ORDER BY id RETURNING id`,
      [input.eventId, input.event, input.body, input.at],
    );
    return rows.length;
  }

  async claimWebhookDeliveries(at: string, limit: number, leaseMs: number): Promise<ClaimedWebhookDelivery[]> {
    // SKIP LOCKED: replicas claiming together each get other deliveries, none waits.
    const rows = await this.#read<WebhookDeliveryRow & { url: string; secret: string }>(
      `WITH due AS (
         SELECT id FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)
         ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       UPDATE webhook_deliveries d SET locked_until = $1::timestamptz + make_interval(secs => $3::double precision / 1000)
       FROM due, webhooks w WHERE d.id = due.id AND w.id = d.webhook_id
       RETURNING d.*, w.url, w.secret`,
      [at, limit, leaseMs],
    );
    return rows.sort((a, b) => Number(a.id) - Number(b.id)).map((row) => ({ ...toDelivery(row), url: row.url, secret: row.secret }));
  }

  async recordWebhookAttempt(id: number, outcome: { at: string; delivered: boolean; statusCode?: number; error?: string; retryAt?: string }): Promise<void> {
    await this.#read(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, status = $2, next_attempt_at = $3, locked_until = NULL,
         last_status_code = $4, last_error = $5, delivered_at = $6
       WHERE id = $1 AND status = 'pending'`,
      [
        id,
        outcome.delivered ? 'delivered' : outcome.retryAt === undefined ? 'failed' : 'pending',
        outcome.delivered ? null : (outcome.retryAt ?? null),
        outcome.statusCode ?? null,
        outcome.error ?? null,
        outcome.delivered ? outcome.at : null,
      ],
    );
  }

  async listWebhookDeliveries(options: { webhookId?: number; limit?: number } = {}): Promise<WebhookDeliveryRecord[]> {
    const rows =
      options.webhookId === undefined
        ? await this.#read<WebhookDeliveryRow>('SELECT * FROM webhook_deliveries ORDER BY id DESC LIMIT $1', [options.limit ?? null])
        : await this.#read<WebhookDeliveryRow>('SELECT * FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2', [options.webhookId, options.limit ?? null]);
    return rows.map(toDelivery);
  }

  async lastChangeId(): Promise<number> {
    const [row] = await this.#read<{ id: string | null }>('SELECT MAX(id) AS id FROM audit_events');
    return Number(row?.id ?? 0);
  }

  /** Newest first; all events unless `limit` is given. */
  async listAuditEvents(options: { extension?: string; limit?: number } = {}): Promise<AuditEvent[]> {
    checkAuditLimit(options.limit);
    const rows =
      options.extension === undefined
        ? await this.#read<AuditRow>('SELECT * FROM audit_events ORDER BY id DESC LIMIT $1', [options.limit ?? null])
        : // An extension's own events, and those of the releases of several extensions it was in.
          await this.#read<AuditRow>(
            `SELECT * FROM audit_events WHERE extension = $1 OR release_id IN (SELECT release_id FROM release_members WHERE extension = $1)
              ORDER BY id DESC LIMIT $2`,
            [options.extension, options.limit ?? null],
          );
    return rows.map(toAudit);
  }

  async recordUsage(batch: UsageBatch): Promise<void> {
    checkUsageBatch(batch);
    if (batch.operations.length === 0 && batch.counts.length === 0) return;
    // One statement per table whatever the batch size (arrays, unnest). Under the write
    // lock like every write: compaction must not interleave with an insert of old minutes.
    await this.#write(async (tx) => {
      const { operations, counts } = batch;
      if (operations.length > 0) {
        const inserted = await tx.query<{ hash: string }>(
          `INSERT INTO usage_operations (hash, name, signature, coordinates, first_seen)
           SELECT h, n, s, c::jsonb, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(h, n, s, c)
           ON CONFLICT (hash) DO NOTHING RETURNING hash`,
          [operations.map((o) => o.hash), operations.map((o) => o.name), operations.map((o) => o.signature), operations.map((o) => JSON.stringify(o.coordinates))],
        );
        if (inserted.rows.length > 0) {
          await tx.query(
            `INSERT INTO usage_coordinates (coordinate, operation)
             SELECT jsonb_array_elements_text(coordinates), hash FROM usage_operations WHERE hash = ANY($1::text[]) ON CONFLICT DO NOTHING`,
            [inserted.rows.map((r) => r.hash)],
          );
        }
      }
      if (counts.length > 0) {
        await tx.query(
          `INSERT INTO usage_counts (bucket, minutes, operation, client_name, client_version, count)
           SELECT b, 1, o, n, v, SUM(c) FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS t(b, o, n, v, c)
            GROUP BY b, o, n, v
           ON CONFLICT (bucket, minutes, operation, client_name, client_version) DO UPDATE SET count = usage_counts.count + excluded.count`,
          [counts.map((c) => c.minute), counts.map((c) => c.operation), counts.map((c) => c.clientName), counts.map((c) => c.clientVersion), counts.map((c) => c.count)],
        );
      }
    });
  }

  async queryUsage(query: UsageQuery): Promise<UsageSummary[]> {
    const rows = await this.#read<{ operation: string; client_name: string; client_version: string; count: string; last_seen: Date }>(
      `SELECT operation, client_name, client_version, SUM(count) AS count, MAX(bucket) AS last_seen FROM usage_counts
        WHERE (bucket >= $1::timestamptz OR (minutes = 60 AND bucket > $1::timestamptz - interval '1 hour'))
          AND ($2::text[] IS NULL OR operation IN (SELECT operation FROM usage_coordinates WHERE coordinate = ANY($2::text[])))
          AND NOT (client_name = ANY($3::text[]))
        GROUP BY operation, client_name, client_version`,
      [new Date(query.since).toISOString(), query.coordinates ?? null, query.excludeClients ?? []],
    );
    const hashes = [...new Set(rows.map((r) => r.operation))];
    const operations = new Map(
      (await this.#read<{ hash: string; name: string | null; signature: string; coordinates: string[] }>('SELECT hash, name, signature, coordinates FROM usage_operations WHERE hash = ANY($1::text[])', [hashes])).map(
        (o) => [o.hash, { name: o.name, signature: o.signature, coordinates: o.coordinates }],
      ),
    );
    const summed: UsageClientRow[] = rows.map((r) => ({ ...r, count: Number(r.count), last_seen: r.last_seen.toISOString() }));
    return summarizeUsage(summed, operations);
  }

  async compactUsage(options: { rollUpBefore: string; deleteBefore: string }): Promise<{ rolledUp: number; deleted: number }> {
    return this.#write(async (tx) => {
      const rollUpBefore = new Date(options.rollUpBefore).toISOString();
      // Hours of UTC, whatever the session's time zone (some zones are off by half an hour).
      await tx.query(
        `INSERT INTO usage_counts (bucket, minutes, operation, client_name, client_version, count)
         SELECT date_trunc('hour', bucket AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', 60, operation, client_name, client_version, SUM(count) FROM usage_counts
          WHERE minutes = 1 AND bucket < $1::timestamptz GROUP BY 1, operation, client_name, client_version
         ON CONFLICT (bucket, minutes, operation, client_name, client_version) DO UPDATE SET count = usage_counts.count + excluded.count`,
        [rollUpBefore],
      );
      const rolledUp = (await tx.query('DELETE FROM usage_counts WHERE minutes = 1 AND bucket < $1::timestamptz', [rollUpBefore])).rowCount ?? 0;
      const deleted = (await tx.query('DELETE FROM usage_counts WHERE bucket < $1::timestamptz', [new Date(options.deleteBefore).toISOString()])).rowCount ?? 0;
      await tx.query('DELETE FROM usage_operations o WHERE NOT EXISTS (SELECT 1 FROM usage_counts c WHERE c.operation = o.hash)');
      return { rolledUp, deleted };
    });
  }

  async listOperations(): Promise<RegisteredOperationRecord[]> {
    return (await this.#read<OperationRow>('SELECT * FROM registered_operations ORDER BY name COLLATE "C"')).map(toOperation);
  }

  async getOperation(name: string): Promise<RegisteredOperationRecord | undefined> {
    const [row] = await this.#read<OperationRow>('SELECT * FROM registered_operations WHERE name = $1', [name]);
    return row === undefined ? undefined : toOperation(row);
  }

  async saveOperation(input: NewOperation, actor: string): Promise<{ operation: RegisteredOperationRecord; created: boolean; changed: boolean }> {
    return this.#write(async (tx) => {
      const [before] = (await tx.query<OperationRow>('SELECT * FROM registered_operations WHERE name = $1', [input.name])).rows;
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
        registered_at: before?.registered_at ?? new Date(at),
        updated_at: new Date(at),
      };
      await tx.query(
        `INSERT INTO registered_operations (name, document, hash, normalized_hash, client, registered_by, registered_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (name) DO UPDATE SET document = excluded.document, hash = excluded.hash, normalized_hash = excluded.normalized_hash,
           client = excluded.client, registered_by = excluded.registered_by, updated_at = excluded.updated_at`,
        [row.name, row.document, row.hash, row.normalized_hash, row.client, row.registered_by, row.registered_at, row.updated_at],
      );
      await this.#audit(tx, at, actor, before ? 'operation-update' : 'operation-register', undefined, {
        operation: input.name,
        hash: input.hash,
        ...(client === null ? {} : { client }),
        ...(before ? { previousHash: before.hash } : {}),
      });
      return { operation: toOperation(row), created: before === undefined, changed: true };
    });
  }

  async deleteOperation(name: string, actor: string): Promise<RegisteredOperationRecord | undefined> {
    return this.#write(async (tx) => {
      const [before] = (await tx.query<OperationRow>('DELETE FROM registered_operations WHERE name = $1 RETURNING *', [name])).rows;
      if (before === undefined) return undefined;
      await this.#audit(tx, now(), actor, 'operation-delete', undefined, { operation: name, hash: before.hash });
      return toOperation(before);
    });
  }

  /**
   * The nudge (LISTEN graft_registry) on a dedicated connection: `onChange` runs after every
   * change another process committed, and once after each (re)connection, since nudges sent
   * while it was away are lost. The connection is re-opened with backoff while the database
   * is down; `onState` tells whether it is connected. Pollers stay the safety net.
   */
  watchChanges(onChange: () => void, onState?: (connected: boolean, error?: Error) => void): RegistryChangeFeed {
    return this.#dedicatedSession({
      name: 'watch',
      onConnect: async (client) => {
        client.on('notification', (message) => {
          if (message.channel === CHANGE_CHANNEL) onChange();
        });
        await client.query(`LISTEN ${CHANGE_CHANNEL}`);
        onChange();
      },
      ...(onState ? { onState } : {}),
    });
  }

  /**
   * Competes for the leader lock (a session-level advisory lock on a dedicated connection):
   * `onChange(true)` once this process holds it, `onChange(false)` when the connection that
   * held it broke (the database then releases it, and another replica takes it). A process
   * that dies loses it with its connection. Non-leaders retry every `retryMs`.
   */
  competeForLeadership(onChange: (leader: boolean) => void, options: { retryMs?: number } = {}): RegistryLeadership {
    const retryMs = options.retryMs ?? 2_000;
    let leader = false;
    let timer: NodeJS.Timeout | undefined;
    const set = (value: boolean): void => {
      if (value === leader) return;
      leader = value;
      onChange(value);
    };
    const session = this.#dedicatedSession({
      name: 'leader',
      onConnect: async (client) => {
        const attempt = async (): Promise<void> => {
          timer = undefined;
          try {
            if (!leader) {
              const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [ADVISORY_LOCKS.leader]);
              if (rows[0]?.locked) set(true);
            } else {
              // A leader checks its connection too: a break must end its leadership at once.
              await client.query('SELECT 1');
            }
          } catch {
            return; // the session reconnects (and calls onState(false), which ends leadership)
          }
          if (!session.closed) {
            timer = setTimeout(() => void attempt(), retryMs);
            timer.unref();
          }
        };
        await attempt();
      },
      onState: (connected) => {
        if (connected) return;
        if (timer) clearTimeout(timer);
        timer = undefined;
        set(false);
      },
    });
    return {
      get leader() {
        return leader;
      },
      close: async () => {
        if (timer) clearTimeout(timer);
        await session.close();
        set(false);
      },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const close of [...this.#closers]) await close();
    await this.#pool.end();
  }

  /** A connection of its own, re-opened with backoff (0.25 s doubling to 5 s) whenever it breaks. */
  #dedicatedSession(options: {
    name: string;
    onConnect: (client: pg.Client) => Promise<void>;
    onState?: (connected: boolean, error?: Error) => void;
  }): { readonly closed: boolean; close(): Promise<void> } {
    let client: pg.Client | undefined;
    let retry: NodeJS.Timeout | undefined;
    let delay = 250;
    let closed = false;
    let connected = false;
    const state = (value: boolean, error?: Error): void => {
      if (value === connected && value) return;
      connected = value;
      options.onState?.(value, error);
    };
    const lost = (current: pg.Client, error?: Error): void => {
      if (client !== current) return;
      client = undefined;
      current.removeAllListeners();
      current.on('error', () => undefined);
      void current.end().catch(() => undefined);
      state(false, error);
      if (closed) return;
      retry = setTimeout(() => void open(), delay);
      retry.unref();
      delay = Math.min(delay * 2, 5_000);
    };
    const open = async (): Promise<void> => {
      retry = undefined;
      if (closed) return;
      const current = new pg.Client(this.#clientConfig);
      client = current;
      current.on('error', (error) => lost(current, error));
      current.on('end', () => lost(current));
      try {
        await current.connect();
        if (closed) return void (await current.end().catch(() => undefined));
        await options.onConnect(current);
        delay = 250;
        state(true);
      } catch (error) {
        lost(current, error as Error);
      }
    };
    const session = {
      get closed() {
        return closed;
      },
      close: async (): Promise<void> => {
        closed = true;
        this.#closers.delete(session.close);
        if (retry) clearTimeout(retry);
        const current = client;
        client = undefined;
        if (current) {
          current.removeAllListeners();
          current.on('error', () => undefined);
          await current.end().catch(() => undefined);
        }
      },
    };
    this.#closers.add(session.close);
    void open();
    return session;
  }

  async #extensionIn(tx: Queryable, name: string): Promise<ExtensionRecord> {
    const [row] = (await tx.query<ExtensionRow>('SELECT * FROM extensions WHERE name = $1', [name])).rows;
    if (row === undefined) throw notFound(name);
    return toExtension(row);
  }

  async #checkBasedOn(tx: Queryable, basedOn: number | null | undefined): Promise<void> {
    if (basedOn === undefined) return;
    const [row] = (await tx.query<{ id: string | null }>('SELECT MAX(id) AS id FROM supergraphs')).rows;
    checkBasedOn(basedOn, row?.id === null || row?.id === undefined ? null : Number(row.id));
  }

  async #insertSupergraph(tx: Queryable, input: NewSupergraph, at: string): Promise<SupergraphRecord> {
    const hash = sha256(input.sdl);
    const members = JSON.stringify(input.members);
    const { rows } = await tx.query<{ id: string }>(
      'INSERT INTO supergraphs (sdl, api_sdl, hash, members, created_at) VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING id',
      [input.sdl, input.apiSdl, hash, members, at],
    );
    return { id: Number(rows[0]?.id), sdl: input.sdl, apiSdl: input.apiSdl, hash, members: JSON.parse(members) as SupergraphRecord['members'], createdAt: at };
  }

  /** Every write records one audit event, and with it the nudge (sent by PostgreSQL at commit only). */
  async #audit(
    tx: Queryable,
    at: string,
    actor: string,
    action: string,
    extension: string | undefined,
    details: Record<string, unknown>,
    releaseId: number | null = null,
  ): Promise<void> {
    const { rows } = await tx.query<{ id: string }>(
      'INSERT INTO audit_events (at, actor, action, extension, details, release_id) VALUES ($1, $2, $3, $4, $5::jsonb, $6) RETURNING id',
      [at, actor, action, extension ?? null, JSON.stringify(details), releaseId],
    );
    await tx.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, String(rows[0]?.id ?? '')]);
  }

  async #withDirectiveModules(record: ExtensionVersionRecord): Promise<ExtensionVersionRecord> {
    const rows = await this.#read<{ path: string; source: string }>(
      'SELECT path, source FROM directive_modules WHERE extension = $1 AND version = $2 ORDER BY path COLLATE "C"',
      [record.extension, record.version],
    );
    if (rows.length === 0) return record;
    return { ...record, directiveModules: Object.fromEntries(rows.map((r) => [r.path, r.source])) };
  }
}

export function openPostgresRegistry(options: PostgresRegistryOptions): Promise<PostgresRegistryStore> {
  return PostgresRegistryStore.open(options);
}
