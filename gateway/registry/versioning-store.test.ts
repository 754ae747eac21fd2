// Registry schema 3 on SQLite: a schema-2 file is migrated. (Reports and registered
// operations themselves are pinned by the store contract, store-contract.ts.)
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
