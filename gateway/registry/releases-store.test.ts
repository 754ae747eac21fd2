// Releases on the SQLite store: the release contract (release-contract.ts, run on
// PostgreSQL too) and a writer process killed with SIGKILL mid-release.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, test } from 'node:test';
import { openSqliteRegistry, type RegistryStore } from './index.js';
import { releaseContract } from './release-contract.js';
import { usageContract } from './usage-contract.js';

const dirs: string[] = [];
const sqliteStores: RegistryStore[] = [];
afterEach(async () => {
  for (const store of sqliteStores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

releaseContract('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'graft-releases-'));
  dirs.push(dir);
  const store = openSqliteRegistry({ file: join(dir, 'registry.sqlite') });
  sqliteStores.push(store);
  return store;
});

usageContract('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'graft-usage-'));
  dirs.push(dir);
  const store = openSqliteRegistry({ file: join(dir, 'registry.sqlite') });
  sqliteStores.push(store);
  return store;
});

describe('releases (SQLite) and a killed process', () => {
  test('a process killed with SIGKILL while releasing leaves every release whole or absent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'graft-releases-kill-'));
    dirs.push(dir);
    const file = join(dir, 'registry.sqlite');
    // Releases of two large versions in a loop, each announced before it is written; the
    // kill lands wherever it lands, and what survives must be whole releases only.
    const writer = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { openSqliteRegistry } from './gateway/registry/index.ts';
         const store = openSqliteRegistry({ file: process.argv[1] });
         const big = '# ' + 'x'.repeat(4_000_000);
         const member = (extension, version, first) => ({ extension, version, sdl: 'type Query { ' + extension + ': String }\\n' + big,
           manifest: { name: extension, version, owner: 'o', subgraph: { url: 'https://' + extension + '.example/graphql', schema: './s.graphql' } },
           ...(first ? { register: { name: extension, owner: 'o', description: '' } } : {}) });
         for (let i = 0; ; i++) {
           process.stdout.write('begin ' + i + '\\n');
           const version = '1.0.' + i;
           await store.applyRelease({ members: [member('a', version, i === 0), member('b', version, i === 0)], actor: 'writer',
             supergraph: { sdl: big + i, apiSdl: 'type Query { a: String }', members: [{ extension: 'a', version }, { extension: 'b', version }] } });
         }`,
        file,
      ],
      { cwd: fileURLToPath(new URL('../../', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) => writer.once('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      writer.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('begin 3') && resolve());
      writer.once('exit', (code) => reject(new Error(`the writer exited with ${code} before its fourth release`)));
    });
    writer.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    const store = openSqliteRegistry({ file });
    sqliteStores.push(store);
    const releases = await store.listReleases();
    assert.ok(releases.length >= 3, `the first three releases were committed (${releases.length})`);
    const [a, b] = [await store.listVersions('a'), await store.listVersions('b')];
    assert.deepEqual(a.map((v) => v.version), b.map((v) => v.version), 'every version of a has its partner in b');
    assert.deepEqual(a.map((v) => v.supergraphId), releases.map((r) => r.supergraphId), 'each version belongs to a stored release');
    for (const release of releases) assert.deepEqual(release.members.map((m) => m.extension), ['a', 'b']);
    const active = await store.getActiveSupergraph();
    assert.equal(active?.id, releases[0]?.supergraphId, 'the newest release is the active graph');
    assert.deepEqual((await store.listExtensions()).map((e) => e.activeVersion), [a[0]?.version, a[0]?.version]);
    assert.equal((await store.listAuditEvents()).length, releases.length, 'one audit event per release, no more');
  });
});
