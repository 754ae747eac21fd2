// `graft migrate --from <sqlite file> --to postgres://...` on a real SQLite file and a real,
// throwaway PostgreSQL: the whole history arrives (versions, supergraphs, releases, audit
// events, registered operations, shared signing keys, tenants, ids and the change counter),
// the copy is a working registry, a non-empty target is refused unless --force.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openPostgresRegistry, openSqliteRegistry, type RegistryStore } from '../../gateway/registry/index.js';
import { REPO_ROOT, postgresAvailability, startTestPostgres, tempDir, type TestPostgres } from '../helpers/index.js';

const GRAFT = join(REPO_ROOT, 'bin', 'graft.js');
const { skip } = postgresAvailability();

function manifest(name: string, version: string) {
  return { name, version, owner: 'team', subgraph: { url: `https://${name}.example/graphql`, schema: './s.graphql' } };
}

function migrate(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [GRAFT, 'migrate', ...args], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Everything a registry holds, read through the interface. */
async function history(store: RegistryStore) {
  const extensions = await store.listExtensions();
  return {
    extensions,
    versions: await Promise.all(extensions.map((e) => store.listVersions(e.name))),
    supergraph: await store.getActiveSupergraph(),
    releases: await store.listReleases(),
    audit: await store.listAuditEvents(),
    operations: await store.listOperations(),
    keys: await store.listSigningKeys(),
    extensionKeys: await store.listExtensionKeys(),
    webhooks: await store.listWebhooks(),
    deliveries: await store.listWebhookDeliveries(),
    changeId: await store.lastChangeId(),
  };
}

describe('graft migrate', { skip: skip ?? false }, () => {
  let postgres: TestPostgres;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let file: string;

  before(async () => {
    postgres = await startTestPostgres();
    dir = await tempDir('graft-migrate-');
    file = join(dir.path, 'registry.sqlite');
    const store = openSqliteRegistry({ file });
    await store.createExtension({ name: 'crm', owner: 'team', description: 'CRM' }, 'alice');
    await store.publishVersion({ extension: 'crm', version: '1.0.0', manifest: manifest('crm', '1.0.0'), sdl: 'type Query { crm: String }', publishedBy: 'alice', report: { verdict: 'safe' }, directiveModules: { './m.js': 'export default 1' }, supergraph: { sdl: '# 1', apiSdl: 'type Query { crm: String }', members: [{ extension: 'crm', version: '1.0.0' }] } });
    await store.applyRelease({ members: [{ extension: 'orders', version: '0.1.0', manifest: manifest('orders', '0.1.0'), sdl: 'type Query { orders: Int }', register: { name: 'orders', owner: 'team', description: '' } }], supergraph: { sdl: '# 2', apiSdl: 'type Query { crm: String orders: Int }', members: [{ extension: 'crm', version: '1.0.0' }, { extension: 'orders', version: '0.1.0' }] }, actor: 'bob', reason: 'orders' });
    await store.setTenants('crm', ['t1'], 'ops');
    await store.setStatus('orders', 'paused', 'ops');
    await store.saveOperation({ name: 'Q', document: 'query Q { crm }', hash: 'a'.repeat(64), normalizedHash: 'b'.repeat(64), client: 'web' }, 'ops');
    await store.addSigningKey({ kid: 'k1', publicJwk: { kty: 'EC' }, sealedPrivateJwk: 'v1.sealed', signsFrom: new Date().toISOString() }, 'graft:gateway');
    // The control plane (migration 7): an extension key, a webhook and a queued delivery.
    await store.createExtensionKey({ id: '0123456789abcdef', prefix: 'graft_0123456789abcdef', hash: 'c'.repeat(64), extension: 'crm', scopes: ['check', 'publish'], description: 'CI' }, 'ops');
    await store.createWebhook({ url: 'https://hooks.example/graft', events: ['release.applied'], secret: 's'.repeat(32), description: 'chat' }, 'ops');
    await store.enqueueWebhookEvent({ eventId: 'e1', event: 'release.applied', body: '{}', at: new Date().toISOString() });
    await store.close();
  });

  after(async () => {
    await postgres?.stop();
    await dir?.remove();
  });

  test('copies the whole history, ids and change counter included, into a registry that keeps working', async () => {
    const to = await postgres.createDatabase();
    const result = await migrate(['--from', file, '--to', to]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Copied .* audit_events \d+, .*extension_keys 1, webhooks 1, webhook_deliveries 1\b/);

    const sqlite = openSqliteRegistry({ file });
    const copy = await openPostgresRegistry({ url: to });
    try {
      assert.deepEqual(await history(copy), await history(sqlite));
      // The copy continues where the file stopped: new ids follow the copied ones.
      const next = await copy.publishVersion({ extension: 'crm', version: '1.1.0', manifest: manifest('crm', '1.1.0'), sdl: 'type Query { crm: String }', publishedBy: 'alice', supergraph: { sdl: '# 3', apiSdl: 'type Query { crm: String }', members: [{ extension: 'crm', version: '1.1.0' }] } });
      assert.equal(next.supergraph.id, (await sqlite.getActiveSupergraph())!.id + 1);
      assert.equal(await copy.lastChangeId(), (await sqlite.lastChangeId()) + 1);
    } finally {
      await sqlite.close();
      await copy.close();
    }
  });

  test('a non-empty target is refused (exit 1, nothing copied) unless --force replaces it', async () => {
    const to = await postgres.createDatabase();
    const target = await openPostgresRegistry({ url: to });
    await target.createExtension({ name: 'other', owner: 'x', description: '' }, 'eve');
    await target.close();

    const refused = await migrate(['--from', file, '--to', to]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /not empty.*--force/);
    const untouched = await openPostgresRegistry({ url: to });
    assert.deepEqual((await untouched.listExtensions()).map((e) => e.name), ['other']);
    await untouched.close();

    const forced = await migrate(['--from', file, '--to', to, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    const replaced = await openPostgresRegistry({ url: to });
    assert.deepEqual((await replaced.listExtensions()).map((e) => e.name), ['crm', 'orders']);
    await replaced.close();
  });

  test('a registry with a table graft migrate does not know is refused (exit 1, nothing copied) rather than copied in part', async () => {
    const odd = join(dir.path, 'odd.sqlite');
    await copyFile(file, odd);
    const db = new Database(odd);
    db.exec('CREATE TABLE added_by_a_future_migration (id INTEGER PRIMARY KEY)');
    db.close();
    const to = await postgres.createDatabase();
    const refused = await migrate(['--from', odd, '--to', to]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /does not know how to copy added_by_a_future_migration.*nothing was copied/);
    const target = await openPostgresRegistry({ url: to });
    assert.deepEqual(await target.listExtensions(), []);
    await target.close();
  });

  test('bad usage exits 2: a missing file, a URL that is not postgres://, an unreachable database', async () => {
    const missing = await migrate(['--from', join(dir.path, 'nope.sqlite'), '--to', postgres.url]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no registry file/);
    const http = await migrate(['--from', file, '--to', 'http://127.0.0.1:4000']);
    assert.equal(http.code, 2);
    assert.match(http.stderr, /postgres:\/\//);
    const unreachable = await migrate(['--from', file, '--to', 'postgres://u:pw@127.0.0.1:1/x']);
    assert.equal(unreachable.code, 2, unreachable.stderr);
    assert.match(unreachable.stderr, /cannot be reached/);
  });
});
