// The embedded registry on real SQLite files: the RegistryStore contract (store-contract.ts,
// run on PostgreSQL too), and what only SQLite has: migrations of a file, refusal of files
// from a newer Graft, WAL, :memory:, and the busy timeout between processes on one file.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { applyMigrations, MIGRATIONS } from './migrations.js';
import { LATEST_SCHEMA_VERSION, openSqliteRegistry, type SqliteRegistryStore } from './index.js';
import { registryStoreContract, type ContractTables } from './store-contract.js';

let dir: string;
let file: string;
const opened: SqliteRegistryStore[] = [];

function open(path = file): SqliteRegistryStore {
  const store = openSqliteRegistry({ file: path });
  opened.push(store);
  return store;
}

/** Counts rows with a separate raw connection, so the store's own code is not trusted. */
function countRows(path = file): ContractTables {
  const raw = new Database(path, { readonly: true });
  try {
    const count = (table: string): number => (raw.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      extensions: count('extensions'),
      extension_versions: count('extension_versions'),
      supergraphs: count('supergraphs'),
      audit_events: count('audit_events'),
    };
  } finally {
    raw.close();
  }
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'graft-registry-'));
  file = join(dir, 'nested', 'registry.db');
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('opening and migrations', () => {
  test('creates the missing parent directory and applies every migration exactly once', () => {
    open();
    assert.ok(existsSync(file));
    const raw = new Database(file, { readonly: true });
    const rows = raw.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    raw.close();
    assert.deepEqual(rows, MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    assert.equal(LATEST_SCHEMA_VERSION, MIGRATIONS.at(-1)?.version);
  });

  test('reopening an already-migrated file applies nothing and keeps the migration records', async () => {
    const first = open();
    await first.close();
    const raw = new Database(file);
    const before = raw.prepare('SELECT * FROM schema_migrations ORDER BY version').all();
    assert.deepEqual(applyMigrations(raw), [], 'no migration is pending');
    raw.close();

    open();
    const again = new Database(file, { readonly: true });
    assert.deepEqual(again.prepare('SELECT * FROM schema_migrations ORDER BY version').all(), before);
    again.close();
  });

  test('a migration that fails leaves neither its tables nor its record behind', () => {
    const raw = new Database(join(dir, 'failing.db'));
    const failing = [{ version: 1, name: 'broken', up: 'CREATE TABLE half (id INTEGER); SELECT * FROM no_such_table;' }];
    assert.throws(() => applyMigrations(raw, failing), /no_such_table/);
    const tables = raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'half'`).all();
    const records = raw.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number };
    raw.close();
    assert.deepEqual(tables, []);
    assert.equal(records.n, 0);
  });

  test('a file migrated by a newer Graft is refused with a message saying what to do', async () => {
    await open().close();
    const raw = new Database(file);
    raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      LATEST_SCHEMA_VERSION + 1,
      'from the future',
      new Date().toISOString(),
    );
    raw.close();
    assert.throws(
      () => openSqliteRegistry({ file }),
      (error: unknown) =>
        error instanceof GraftError &&
        error.code === GraftErrorCode.REGISTRY_SCHEMA_TOO_NEW &&
        error.message.includes(`schema version ${LATEST_SCHEMA_VERSION + 1}`) &&
        /newer Graft/.test(error.message) &&
        /backup/.test(error.message) &&
        error.details?.['fileSchemaVersion'] === LATEST_SCHEMA_VERSION + 1,
    );
  });

  test('the file is in WAL mode with foreign keys enforced', () => {
    open();
    const raw = new Database(file, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal', 'WAL is persistent in the file');
    raw.close();
    assert.ok(existsSync(`${file}-wal`), 'the store holds a WAL file while open');
  });

  test(':memory: works for unit tests', async () => {
    const store = open(':memory:');
    await store.createExtension({ name: 'mem', owner: 'o', description: '' }, 'alice');
    assert.equal((await store.listExtensions()).length, 1);
  });
});


registryStoreContract('SQLite', {
  // The contract's suites run their own beforeEach/afterEach: the file's hooks above make the temp dir.
  setUp: async () => undefined,
  tearDown: async () => undefined,
  open: async () => open(),
  countRows: async () => countRows(),
  exec: async (sql) => {
    const raw = new Database(file);
    try {
      raw.pragma('foreign_keys = ON');
      raw.exec(sql);
    } finally {
      raw.close();
    }
  },
  failAuditInsert: async (action) => {
    const raw = new Database(file);
    raw.exec(`CREATE TRIGGER test_fail_audit BEFORE INSERT ON audit_events WHEN NEW.action = '${action}'
              BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    raw.close();
    return async () => {
      const again = new Database(file);
      again.exec('DROP TRIGGER test_fail_audit');
      again.close();
    };
  },
});

describe('several processes on one registry file (GRAFT_WORKERS)', () => {
  test('a write waits for another process holding the write lock (busy timeout) instead of failing with SQLITE_BUSY', async () => {
    const store = open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    // Another process takes the write lock, says so, holds it a moment and commits.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const Database = require('better-sqlite3');
         const db = new Database(process.argv[1]);
         db.exec('BEGIN IMMEDIATE');
         db.prepare("UPDATE extensions SET description = 'held' WHERE name = 'orders'").run();
         process.stdout.write('locked\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
         db.exec('COMMIT');
         db.close();`,
        file,
      ],
      { cwd: fileURLToPath(new URL('../../', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolve) => holder.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
      holder.once('exit', (code) => reject(new Error(`the lock holder exited with ${code} before locking`)));
    });
    // better-sqlite3 blocks this thread until the holder commits (or the timeout passes).
    const paused = await store.setStatus('orders', 'paused', 'ops');
    assert.equal(paused.status, 'paused');
    assert.equal(paused.description, 'held', 'the write ran after the other process committed');
    assert.equal(await exited, 0);
  });
});
