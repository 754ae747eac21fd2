// `graft migrate --from <sqlite file> --to postgres://...`: copies a SQLite registry with its
// whole history (every version, supergraph, release, audit event, registered operation,
// shared signing key, extension key, webhook and webhook delivery, with their ids) into a PostgreSQL registry, in ONE transaction: the
// target ends up with all of it or none of it. Rows are copied as they are, not replayed
// through the store, so ids, timestamps and the change counter stay what they were.
import Database from 'better-sqlite3';
import pg from 'pg';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { openSqliteRegistry } from './sqlite-store.js';
import { CHANGE_CHANNEL, describePostgresUrl, isConnectionError, openPostgresRegistry } from './postgres-store.js';

/** Tables in the order their foreign keys allow, with the columns that hold JSON. */
const TABLES: ReadonlyArray<{ name: string; json: readonly string[]; identity?: boolean }> = [
  { name: 'supergraphs', json: ['members'], identity: true },
  { name: 'extensions', json: ['tenants'] },
  { name: 'extension_versions', json: ['manifest', 'report'] },
  { name: 'directive_modules', json: [] },
  { name: 'releases', json: [], identity: true },
  { name: 'release_members', json: [] },
  { name: 'audit_events', json: ['details'], identity: true },
  { name: 'registered_operations', json: [] },
  { name: 'upstream_signing_keys', json: ['public_jwk'] },
  { name: 'extension_keys', json: ['scopes'] },
  { name: 'webhooks', json: ['events'], identity: true },
  { name: 'webhook_deliveries', json: [], identity: true },
  { name: 'usage_operations', json: ['coordinates'] },
  { name: 'usage_coordinates', json: [] },
  { name: 'usage_counts', json: [] },
];

/**
 * The SQLite file's tables that TABLES does not copy. A migration that adds a table must add
 * it to TABLES and DROP_ALL: until then the copy is refused rather than leaving history behind.
 */
function uncopiedTables(file: string): string[] {
  const copied = new Set([...TABLES.map((t) => t.name), 'schema_migrations']);
  const source = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = source.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>;
    return tables.map((t) => t.name).filter((name) => !copied.has(name));
  } finally {
    source.close();
  }
}

/** Every object the migrations create, dropped by --force (immutable rows cannot be deleted one by one). */
const DROP_ALL = `
  DROP TABLE IF EXISTS usage_counts, usage_coordinates, usage_operations, webhook_deliveries, webhooks, extension_keys, upstream_signing_keys, release_members, releases, registered_operations,
    directive_modules, audit_events, extension_versions, extensions, supergraphs, schema_migrations CASCADE;
  DROP FUNCTION IF EXISTS graft_refuse_change() CASCADE;
  DROP FUNCTION IF EXISTS graft_extension_key_guard() CASCADE;
`;

export interface CopyReport {
  /** Rows copied, by table. */
  rows: Record<string, number>;
  /** The change counter (newest audit id) of both registries after the copy. */
  changeId: number;
}

export async function copySqliteRegistryToPostgres(options: { from: string; to: string; force?: boolean }): Promise<CopyReport> {
  // Brings the file to the newest schema first, as any Graft opening it would.
  await openSqliteRegistry({ file: options.from }).close();
  const where = describePostgresUrl(options.to);
  const unknown = uncopiedTables(options.from);
  if (unknown.length > 0) {
    throw new GraftError(
      GraftErrorCode.INTERNAL_SERVER_ERROR,
      `graft migrate does not know how to copy ${unknown.join(', ')} of ${options.from}: nothing was copied. This is a bug in this Graft version; report it.`,
      { details: { uncopiedTables: unknown } },
    );
  }
  if (options.force) await withClient(options.to, where, (client) => client.query(DROP_ALL));
  // Creates (or checks) the target's schema: the same migrations, under the advisory lock.
  await (await openPostgresRegistry({ url: options.to, poolMax: 1 })).close();

  const source = new Database(options.from, { readonly: true, fileMustExist: true });
  try {
    return await withClient(options.to, where, async (client) => {
      await client.query('BEGIN');
      try {
        const nonEmpty: string[] = [];
        for (const { name } of TABLES) {
          if ((await client.query(`SELECT 1 FROM ${name} LIMIT 1`)).rowCount) nonEmpty.push(name);
        }
        if (nonEmpty.length > 0) {
          throw new GraftError(
            GraftErrorCode.BAD_REQUEST,
            `The registry at ${where} is not empty (${nonEmpty.join(', ')} hold rows): nothing was copied. Copy into an empty database, ` +
              'or pass --force to DROP its Graft tables and replace them with the copy.',
            { details: { nonEmptyTables: nonEmpty } },
          );
        }
        const rows: Record<string, number> = {};
        let deferredActive: Array<{ name: string; active_version: string }> = [];
        for (const table of TABLES) {
          const data = source.prepare(`SELECT * FROM ${table.name}`).all() as Array<Record<string, unknown>>;
          rows[table.name] = data.length;
          if (table.name === 'extensions') {
            // active_version points at a version row copied next: set once those exist.
            deferredActive = data.flatMap((row) => (row['active_version'] ? [{ name: String(row['name']), active_version: String(row['active_version']) }] : []));
          }
          for (const row of data) {
            const columns = Object.keys(row);
            const values = columns.map((column) => (table.name === 'extensions' && column === 'active_version' ? null : row[column]));
            const placeholders = columns.map((column, index) => `$${index + 1}${table.json.includes(column) ? '::jsonb' : ''}`);
            await client.query(`INSERT INTO ${table.name} (${columns.join(', ')}) VALUES (${placeholders.join(', ')})`, values);
          }
          if (table.name === 'extension_versions') {
            for (const { name, active_version } of deferredActive) {
              await client.query('UPDATE extensions SET active_version = $2 WHERE name = $1', [name, active_version]);
            }
          }
          if (table.identity) {
            // The next id continues after the copied ones.
            await client.query(`SELECT setval(pg_get_serial_sequence('${table.name}', 'id'), GREATEST((SELECT MAX(id) FROM ${table.name}), 1), (SELECT MAX(id) FROM ${table.name}) IS NOT NULL)`);
          }
        }
        const changeId = Number((await client.query<{ id: string | null }>('SELECT MAX(id) AS id FROM audit_events')).rows[0]?.id ?? 0);
        // Replicas already running on the target re-read it.
        await client.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, String(changeId)]);
        await client.query('COMMIT');
        return { rows, changeId };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  } finally {
    source.close();
  }
}

async function withClient<T>(url: string, where: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new GraftError(GraftErrorCode.REGISTRY_UNAVAILABLE, `The registry database (PostgreSQL at ${where}) cannot be reached: ${(error as Error).message}.`, {
      cause: error,
      details: { registry: where, reason: (error as Error).message },
    });
  }
  try {
    return await work(client);
  } catch (error) {
    if (isConnectionError(error) && !(error instanceof GraftError)) {
      throw new GraftError(GraftErrorCode.REGISTRY_UNAVAILABLE, `The registry database (PostgreSQL at ${where}) went away during the copy: nothing was copied.`, {
        cause: error,
        details: { registry: where, during: 'copy' },
      });
    }
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
