// Pins the embedded registry's guarantees on real SQLite files: one-transaction
// publishes, semver order, immutability enforced by the database itself, survival
// across restarts, refusal of files from a newer Graft, and several processes on one file
// (optimistic concurrency, the busy timeout, the change counter).
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import type { ExtensionManifest } from '../manifest/index.js';
import { applyMigrations, MIGRATIONS } from './migrations.js';
import { LATEST_SCHEMA_VERSION, observeRegistryWrites, openSqliteRegistry, type NewVersion, type SqliteRegistryStore } from './index.js';

let dir: string;
let file: string;
const opened: SqliteRegistryStore[] = [];

function open(path = file): SqliteRegistryStore {
  const store = openSqliteRegistry({ file: path });
  opened.push(store);
  return store;
}

function manifest(name: string, version: string): ExtensionManifest {
  return { name, version, owner: 'team-a', subgraph: { url: 'https://a.example/graphql', schema: './schema.graphql' } };
}

function newVersion(extension: string, version: string, publishedBy = 'alice'): NewVersion {
  const sdl = `type Query { ${extension.replaceAll('-', '_')}: String }`;
  return {
    extension,
    version,
    manifest: manifest(extension, version),
    sdl,
    publishedBy,
    supergraph: { sdl: `# supergraph ${extension}@${version}\n${sdl}`, apiSdl: sdl, members: [{ extension, version }] },
  };
}

/** Counts rows with a separate raw connection, so the store's own code is not trusted. */
function countRows(path = file): Record<string, number> {
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

async function rejectsWith(promise: Promise<unknown>, code: GraftErrorCode, messagePart?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof GraftError, `expected a GraftError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (messagePart) assert.match(error.message, messagePart);
    return true;
  });
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

describe('extensions', () => {
  test('a registered extension can be read back and listed, with no active version yet', async () => {
    const store = open();
    const created = await store.createExtension({ name: 'orders', owner: 'team-a', description: 'Orders' }, 'alice');
    await store.createExtension({ name: 'billing', owner: 'team-b', description: 'Billing' }, 'bob');

    assert.equal(created.status, 'active');
    assert.equal(created.activeVersion, undefined);
    assert.ok(!Number.isNaN(Date.parse(created.createdAt)));
    assert.equal(created.createdAt, created.updatedAt);
    assert.deepEqual(await store.getExtension('orders'), created);
    assert.equal(await store.getExtension('nope'), undefined);
    assert.deepEqual((await store.listExtensions()).map((e) => e.name), ['billing', 'orders']);

    const [register] = await store.listAuditEvents({ extension: 'orders' });
    assert.equal(register?.action, 'register');
    assert.equal(register?.actor, 'alice');
  });

  test('registering a taken name is refused with EXTENSION_NAME_TAKEN and changes nothing', async () => {
    const store = open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    const before = countRows();
    await rejectsWith(
      store.createExtension({ name: 'orders', owner: 'team-z', description: '' }, 'mallory'),
      GraftErrorCode.EXTENSION_NAME_TAKEN,
      /pick another name.*publish a new version/,
    );
    assert.deepEqual(countRows(), before);
    assert.equal((await store.getExtension('orders'))?.owner, 'team-a');
  });

  test('setStatus changes the status and records pause / resume / retire audit events', async () => {
    const store = open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    const paused = await store.setStatus('orders', 'paused', 'ops');
    assert.equal(paused.status, 'paused');
    assert.deepEqual(await store.getExtension('orders'), paused);
    await store.setStatus('orders', 'active', 'ops');
    await store.setStatus('orders', 'retired', 'ops');

    const events = await store.listAuditEvents({ extension: 'orders' });
    assert.deepEqual(
      events.map((e) => [e.action, e.actor, e.details['from'], e.details['to']]),
      [
        ['retire', 'ops', 'active', 'retired'],
        ['resume', 'ops', 'paused', 'active'],
        ['pause', 'ops', 'active', 'paused'],
        ['register', 'alice', undefined, undefined],
      ],
    );
    assert.equal((await store.listAuditEvents({ extension: 'orders', limit: 1 })).length, 1);
  });

  test('setStatus on an unknown extension is refused with EXTENSION_NOT_FOUND', async () => {
    const store = open();
    await rejectsWith(store.setStatus('ghost', 'paused', 'ops'), GraftErrorCode.EXTENSION_NOT_FOUND, /register it/);
    assert.equal(countRows().audit_events, 0);
  });
});

describe('publishing versions', () => {
  test('publish stores the version, its supergraph, the active version and a publish audit event', async () => {
    const store = open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    const input = newVersion('orders', '1.0.0');
    const { version, supergraph } = await store.publishVersion(input);

    assert.equal(supergraph.hash, createHash('sha256').update(input.supergraph.sdl).digest('hex'));
    assert.deepEqual(supergraph.members, [{ extension: 'orders', version: '1.0.0' }]);
    assert.equal(version.supergraphId, supergraph.id);
    assert.deepEqual(version.manifest, input.manifest);
    assert.deepEqual(await store.getVersion('orders', '1.0.0'), version);
    assert.deepEqual(await store.getActiveSupergraph(), supergraph);

    const extension = await store.getExtension('orders');
    assert.equal(extension?.activeVersion, '1.0.0');
    assert.equal(extension?.updatedAt, version.publishedAt);

    const [publish] = await store.listAuditEvents({ limit: 1 });
    assert.equal(publish?.action, 'publish');
    assert.equal(publish?.actor, 'alice');
    assert.equal(publish?.extension, 'orders');
    // A publish is a release of one: its event names the release and lists its one version.
    assert.deepEqual(publish?.details, {
      release: 1,
      version: '1.0.0',
      versions: [{ extension: 'orders', version: '1.0.0' }],
      retired: [],
      supergraphId: supergraph.id,
      hash: supergraph.hash,
    });
  });

  test('republishing a stored version is refused with VERSION_EXISTS', async () => {
    const store = open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    await store.publishVersion(newVersion('orders', '1.0.0'));
    await rejectsWith(store.publishVersion(newVersion('orders', '1.0.0')), GraftErrorCode.VERSION_EXISTS, /bump the version/);
  });

  test('versions must be semver-greater than every stored version, not string-greater (1.2.0 after 1.10.0 is refused)', async () => {
    const store = open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    await store.publishVersion(newVersion('orders', '1.9.0'));
    await store.publishVersion(newVersion('orders', '1.10.0')); // string order would call this older
    await rejectsWith(
      store.publishVersion(newVersion('orders', '1.2.0')),
      GraftErrorCode.VERSION_NOT_GREATER,
      /latest published version 1\.10\.0.*above 1\.10\.0/,
    );
    await rejectsWith(store.publishVersion(newVersion('orders', '1.10.0-rc.1')), GraftErrorCode.VERSION_NOT_GREATER);
    assert.equal((await store.getExtension('orders'))?.activeVersion, '1.10.0');
  });

  test('listVersions returns newest first in semver order', async () => {
    const store = open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    for (const v of ['0.9.0', '1.0.0-beta.1', '1.0.0', '1.2.0', '1.10.0']) await store.publishVersion(newVersion('orders', v));
    assert.deepEqual(
      (await store.listVersions('orders')).map((v) => v.version),
      ['1.10.0', '1.2.0', '1.0.0', '1.0.0-beta.1', '0.9.0'],
    );
    assert.deepEqual(await store.listVersions('ghost'), []);
  });

  test('publishing to an unknown extension is refused with EXTENSION_NOT_FOUND and stores nothing', async () => {
    const store = open();
    await rejectsWith(store.publishVersion(newVersion('ghost', '1.0.0')), GraftErrorCode.EXTENSION_NOT_FOUND, /register it/);
    assert.deepEqual(countRows(), { extensions: 0, extension_versions: 0, supergraphs: 0, audit_events: 0 });
  });

  test('a version that is not canonical semver, or disagrees with its manifest, is refused before anything is stored', async () => {
    const store = open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    const before = countRows();
    await rejectsWith(store.publishVersion({ ...newVersion('orders', 'v1.0.0') }), GraftErrorCode.VERSION_INVALID, /e\.g\. 1\.2\.0/);
    await rejectsWith(
      store.publishVersion({ ...newVersion('orders', '1.0.0'), manifest: manifest('orders', '2.0.0') }),
      GraftErrorCode.VERSION_INVALID,
    );
    await rejectsWith(
      store.publishVersion({ ...newVersion('orders', '1.0.0'), manifest: manifest('billing', '1.0.0') }),
      GraftErrorCode.NAME_MISMATCH,
    );
    assert.deepEqual(countRows(), before);
  });

  test('refused publishes leave every table unchanged', async () => {
    const store = open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    await store.publishVersion(newVersion('orders', '2.0.0'));
    const before = countRows();
    const extensionBefore = await store.getExtension('orders');
    const supergraphBefore = await store.getActiveSupergraph();

    await rejectsWith(store.publishVersion(newVersion('orders', '2.0.0')), GraftErrorCode.VERSION_EXISTS);
    await rejectsWith(store.publishVersion(newVersion('orders', '1.5.0')), GraftErrorCode.VERSION_NOT_GREATER);

    assert.deepEqual(countRows(), before);
    assert.deepEqual(await store.getExtension('orders'), extensionBefore);
    assert.deepEqual(await store.getActiveSupergraph(), supergraphBefore);
  });

  test('a publish that fails after its first writes is rolled back entirely (one transaction)', async () => {
    const store = open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    await store.publishVersion(newVersion('orders', '1.0.0'));
    const before = countRows();

    // Make the LAST write of a publish (the audit event) fail, after the supergraph,
    // version and active-version writes have already run inside the transaction.
    const raw = new Database(file);
    raw.exec(`CREATE TRIGGER test_fail_publish_audit BEFORE INSERT ON audit_events WHEN NEW.action = 'publish'
              BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    await assert.rejects(store.publishVersion(newVersion('orders', '1.1.0')), /injected failure/);
    raw.exec('DROP TRIGGER test_fail_publish_audit');
    raw.close();

    assert.deepEqual(countRows(), before);
    assert.equal((await store.getExtension('orders'))?.activeVersion, '1.0.0');
    assert.equal(await store.getVersion('orders', '1.1.0'), undefined);
    // And the store is still usable: the same version can now be published.
    await store.publishVersion(newVersion('orders', '1.1.0'));
    assert.equal((await store.getExtension('orders'))?.activeVersion, '1.1.0');
  });

  test('published versions, supergraphs and audit events cannot be updated or deleted, even with raw SQL', async () => {
    const store = open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    await store.publishVersion(newVersion('orders', '1.0.0'));
    await store.close();

    const raw = new Database(file);
    raw.pragma('foreign_keys = ON');
    const attempts = [
      `UPDATE extension_versions SET sdl = 'type Query { evil: String }'`,
      `UPDATE extension_versions SET version = '1.0.1'`,
      `DELETE FROM extension_versions`,
      `UPDATE supergraphs SET sdl = 'evil'`,
      `DELETE FROM supergraphs`,
      `UPDATE audit_events SET actor = 'someone-else'`,
      `DELETE FROM audit_events`,
    ];
    for (const sql of attempts) {
      assert.throws(() => raw.exec(sql), /immutable|append-only/, sql);
    }
    const row = raw.prepare(`SELECT sdl FROM extension_versions WHERE extension = 'orders'`).get() as { sdl: string };
    raw.close();
    assert.equal(row.sdl, newVersion('orders', '1.0.0').sdl);
  });

  test('saveSupergraph stores a newer supergraph that becomes the active one, with an audit event', async () => {
    const store = open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    const { supergraph: first } = await store.publishVersion(newVersion('orders', '1.0.0'));
    const saved = await store.saveSupergraph({ sdl: 'type Query { x: Int }', apiSdl: 'type Query { x: Int }', members: [] }, 'ops', 'recompose');
    assert.ok(saved.id > first.id);
    assert.deepEqual(await store.getActiveSupergraph(), saved);
    const [event] = await store.listAuditEvents({ limit: 1 });
    assert.equal(event?.action, 'recompose');
    assert.equal(event?.extension, undefined);
    assert.equal(event?.details['supergraphId'], saved.id);
  });
});

describe('durability', () => {
  test('everything stored survives closing and reopening the file (restart)', async () => {
    const first = open();
    await first.createExtension({ name: 'orders', owner: 'team-a', description: 'Orders' }, 'alice');
    const { version, supergraph } = await first.publishVersion(newVersion('orders', '1.0.0'));
    await first.setStatus('orders', 'paused', 'ops');
    const extension = await first.getExtension('orders');
    const audit = await first.listAuditEvents();
    await first.close();

    const second = open();
    assert.deepEqual(await second.getExtension('orders'), extension);
    assert.deepEqual(await second.getVersion('orders', '1.0.0'), version);
    assert.deepEqual(await second.getActiveSupergraph(), supergraph);
    assert.deepEqual(await second.listAuditEvents(), audit);
    // The semver rule still holds against versions stored before the restart.
    await rejectsWith(second.publishVersion(newVersion('orders', '0.9.0')), GraftErrorCode.VERSION_NOT_GREATER);
  });

  test('a second store on the same file sees the first one\'s writes (WAL, two connections)', async () => {
    const writer = open();
    const reader = open();
    await writer.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    await writer.publishVersion(newVersion('orders', '1.0.0'));
    assert.equal((await reader.getExtension('orders'))?.activeVersion, '1.0.0');
    await rejectsWith(reader.publishVersion(newVersion('orders', '1.0.0')), GraftErrorCode.VERSION_EXISTS);
  });
});

describe('several processes on one registry file (GRAFT_WORKERS)', () => {
  const retireInput = (basedOn: number | null) => ({ sdl: 'type Query { x: Int }', apiSdl: 'type Query { x: Int }', members: [], basedOn });

  test('a publish composed against the active supergraph is stored; one composed against an older one is refused with REGISTRY_CONFLICT and stores nothing', async () => {
    // Two stores on one file: two gateway processes, each with its own connection.
    const first = open();
    const second = open();
    await first.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    await first.createExtension({ name: 'billing', owner: 'team-b', description: '' }, 'bob');
    const { supergraph: base } = await first.publishVersion(newVersion('orders', '1.0.0'));

    // Both processes compose against #base; the first to write wins.
    const winner = await first.publishVersion({ ...newVersion('orders', '1.1.0'), supergraph: { ...newVersion('orders', '1.1.0').supergraph, basedOn: base.id } });
    const before = countRows();
    await assert.rejects(
      second.publishVersion({ ...newVersion('billing', '1.0.0'), supergraph: { ...newVersion('billing', '1.0.0').supergraph, basedOn: base.id } }),
      (error: unknown) => {
        assert.ok(error instanceof GraftError);
        assert.equal(error.code, GraftErrorCode.REGISTRY_CONFLICT);
        assert.equal(error.httpStatus, 409);
        assert.match(error.message, /send the request again/);
        assert.deepEqual(error.details, { basedOnSupergraphId: base.id, activeSupergraphId: winner.supergraph.id });
        return true;
      },
    );
    assert.deepEqual(countRows(), before, 'the refused publish wrote nothing, not even an audit event');
    assert.equal((await second.getExtension('billing'))?.activeVersion, undefined);

    // Composed again against the supergraph that is active now, it is stored.
    const retried = await second.publishVersion({ ...newVersion('billing', '1.0.0'), supergraph: { ...newVersion('billing', '1.0.0').supergraph, basedOn: winner.supergraph.id } });
    assert.equal((await first.getActiveSupergraph())?.id, retried.supergraph.id);
  });

  test('a first publish composed against an empty registry conflicts once another process stored a supergraph', async () => {
    const first = open();
    const second = open();
    await first.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    await first.createExtension({ name: 'billing', owner: 'team-b', description: '' }, 'bob');
    await first.publishVersion({ ...newVersion('orders', '1.0.0'), supergraph: { ...newVersion('orders', '1.0.0').supergraph, basedOn: null } });
    await rejectsWith(
      second.publishVersion({ ...newVersion('billing', '1.0.0'), supergraph: { ...newVersion('billing', '1.0.0').supergraph, basedOn: null } }),
      GraftErrorCode.REGISTRY_CONFLICT,
      /an empty registry/,
    );
  });

  test('retire and saveSupergraph check the supergraph they were composed against too', async () => {
    const store = open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    const { supergraph: first } = await store.publishVersion(newVersion('orders', '1.0.0'));
    const { supergraph: second } = await store.publishVersion(newVersion('orders', '1.1.0'));
    const before = countRows();

    await rejectsWith(store.retireExtension('orders', retireInput(first.id), 'ops'), GraftErrorCode.REGISTRY_CONFLICT);
    await rejectsWith(store.saveSupergraph(retireInput(first.id), 'ops', 'recompose'), GraftErrorCode.REGISTRY_CONFLICT);
    assert.deepEqual(countRows(), before);
    assert.equal((await store.getExtension('orders'))?.status, 'active');

    const retired = await store.retireExtension('orders', retireInput(second.id), 'ops');
    assert.equal(retired.extension.status, 'retired');
  });

  test('without basedOn nothing is checked (one process, tools that write on purpose)', async () => {
    const store = open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    await store.publishVersion(newVersion('orders', '1.0.0'));
    await store.publishVersion(newVersion('orders', '1.1.0'));
    assert.equal((await store.getExtension('orders'))?.activeVersion, '1.1.0');
  });

  test('lastChangeId moves with every committed write, not with reads or refused writes', async () => {
    const store = open();
    const reader = open();
    assert.equal(await store.lastChangeId(), 0, 'an empty registry');
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    const afterRegister = await reader.lastChangeId();
    assert.ok(afterRegister > 0);
    await store.publishVersion(newVersion('orders', '1.0.0'));
    const afterPublish = await reader.lastChangeId();
    assert.ok(afterPublish > afterRegister);
    await store.listExtensions();
    await rejectsWith(store.publishVersion(newVersion('orders', '1.0.0')), GraftErrorCode.VERSION_EXISTS);
    assert.equal(await reader.lastChangeId(), afterPublish);
    await store.setTenants('orders', ['t1'], 'ops');
    assert.ok((await reader.lastChangeId()) > afterPublish);
  });

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

  test('observeRegistryWrites reports each committed write, and nothing for reads, refusals or writes that changed nothing', async () => {
    const writes: string[] = [];
    const store = observeRegistryWrites(open(), (write) => writes.push(write));
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    await store.publishVersion(newVersion('orders', '1.0.0'));
    await rejectsWith(store.publishVersion(newVersion('orders', '1.0.0')), GraftErrorCode.VERSION_EXISTS);
    await store.listExtensions();
    await store.getActiveSupergraph();
    await store.setStatus('orders', 'paused', 'ops');
    await store.setTenants('orders', null, 'ops');
    const operation = { name: 'Q', document: 'query Q { orders }', hash: 'a'.repeat(64), normalizedHash: 'b'.repeat(64) };
    await store.saveOperation(operation, 'ops');
    await store.saveOperation(operation, 'ops'); // unchanged
    await store.deleteOperation('Q', 'ops');
    await store.deleteOperation('Q', 'ops'); // nothing to delete
    assert.deepEqual(writes, ['createExtension', 'publishVersion', 'setStatus', 'setTenants', 'saveOperation', 'deleteOperation']);
  });
});
