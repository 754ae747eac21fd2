// Registry schema 3: change reports stored with versions (immutable like them), and
// registered operations with their audit trail.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { applyMigrations, MIGRATIONS } from './migrations.js';
import { openSqliteRegistry, type NewVersion, type SqliteRegistryStore } from './index.js';

let dir: string;
const opened: SqliteRegistryStore[] = [];
const open = (file: string) => {
  const store = openSqliteRegistry({ file });
  opened.push(store);
  return store;
};

function newVersion(version: string, extra: Partial<NewVersion> = {}): NewVersion {
  const sdl = 'type Query { orders: Int }';
  return {
    extension: 'orders',
    version,
    manifest: { name: 'orders', version, owner: 'team-a', subgraph: { url: 'https://a.example/graphql', schema: './s.graphql' } },
    sdl,
    publishedBy: 'alice',
    supergraph: { sdl: `# ${version}\n${sdl}`, apiSdl: sdl, members: [{ extension: 'orders', version }] },
    ...extra,
  };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'graft-registry-v3-'));
});
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('change reports', () => {
  test('a report is stored with its version, read back, and as immutable as the version', async () => {
    const file = join(dir, 'r.db');
    const store = open(file);
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    const report = { reportVersion: 1, verdict: 'safe', changes: [] };
    const { version } = await store.publishVersion(newVersion('1.0.0', { report, auditDetails: { verdict: 'safe', forced: { reason: 'r' } } }));
    assert.deepEqual(version.report, report);
    assert.deepEqual((await store.getVersion('orders', '1.0.0'))?.report, report);
    const [event] = await store.listAuditEvents({ limit: 1 });
    assert.deepEqual(event?.details['forced'], { reason: 'r' });
    assert.equal(event?.details['version'], '1.0.0');

    const raw = new Database(file);
    try {
      assert.throws(() => raw.prepare(`UPDATE extension_versions SET report = '{}'`).run(), /immutable/);
    } finally {
      raw.close();
    }
  });

  test('a schema-2 file is migrated; a version stored without a report reads back without one', async () => {
    const file = join(dir, 'old.db');
    const raw = new Database(file);
    applyMigrations(raw, MIGRATIONS.filter((m) => m.version <= 2));
    raw.close();
    const before = open(file);
    const check = new Database(file, { readonly: true });
    assert.ok((check.prepare('PRAGMA table_info(extension_versions)').all() as Array<{ name: string }>).some((c) => c.name === 'report'));
    check.close();
    await before.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    await before.publishVersion(newVersion('1.0.0'));
    assert.equal((await before.getVersion('orders', '1.0.0'))?.report, undefined);
    assert.deepEqual((await before.publishVersion(newVersion('1.1.0', { report: { reportVersion: 1 } }))).version.report, { reportVersion: 1 });
  });
});

describe('registered operations', () => {
  const operation = (document: string) => ({ name: 'Orders', document, hash: 'a'.repeat(64), normalizedHash: 'b'.repeat(64), client: 'shop' });

  test('save creates, replaces and skips unchanged documents; delete removes; each change is audited', async () => {
    const store = open(join(dir, 'o.db'));
    const first = await store.saveOperation(operation('query Orders { orders }'), 'admin');
    assert.deepEqual([first.created, first.changed], [true, true]);
    assert.equal(first.operation.client, 'shop');
    const same = await store.saveOperation(operation('query Orders { orders }'), 'someone-else');
    assert.deepEqual([same.created, same.changed, same.operation.registeredBy], [false, false, 'admin']);
    const replaced = await store.saveOperation({ ...operation('query Orders { orders }\n'), hash: 'c'.repeat(64) }, 'ops');
    assert.deepEqual([replaced.created, replaced.changed, replaced.operation.registeredAt], [false, true, first.operation.registeredAt]);
    assert.deepEqual((await store.listOperations()).map((o) => [o.name, o.hash]), [['Orders', 'c'.repeat(64)]]);

    assert.equal((await store.deleteOperation('Orders', 'ops'))?.name, 'Orders');
    assert.equal(await store.deleteOperation('Orders', 'ops'), undefined);
    assert.equal(await store.getOperation('Orders'), undefined);
    assert.deepEqual(
      (await store.listAuditEvents()).map((e) => [e.action, e.actor, e.details['operation']]),
      [
        ['operation-delete', 'ops', 'Orders'],
        ['operation-update', 'ops', 'Orders'],
        ['operation-register', 'admin', 'Orders'],
      ],
    );
  });
});
