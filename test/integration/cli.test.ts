// The `graft` command as users run it: real child processes, real HTTP, real files.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CROSS_EXTENSION_QUERY, REPO_ROOT, exampleManifest, gatewayAuthOf, startExamples, startGateway, tempDir, tokenFor, type RunningExamples, runGraft } from '../helpers/index.js';
import type { GraftServer } from '../../gateway/server/index.js';

const GRAFT = join(REPO_ROOT, 'bin', 'graft.js');

const run = runGraft;

describe('graft CLI against a running gateway', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let examples: RunningExamples;
  let server: GraftServer;
  let admin: string;

  before(async () => {
    dir = await tempDir();
    server = await startGateway(dir.path);
    examples = await startExamples(gatewayAuthOf(server));
    admin = await tokenFor(server, 'admin', ['graft:admin']);
  });
  after(async () => {
    await server?.close();
    await examples?.close();
    await dir?.remove();
  });

  async function writeManifest(name: 'crm' | 'orders' | 'inventory', changes: Record<string, unknown> = {}): Promise<string> {
    const { manifest, sdl } = await exampleManifest(name, examples[name].url, changes);
    const folder = await tempDir('graft-manifest-');
    await writeFile(join(folder.path, `${name}.graphql`), sdl);
    const path = join(folder.path, 'graft.json');
    await writeFile(path, JSON.stringify({ ...manifest, subgraph: { url: examples[name].url, schema: `./${name}.graphql` } }));
    return path;
  }

  test('graft publish registers and publishes an extension, and graft extensions list shows it', async () => {
    const published = await run(['publish', '--manifest', await writeManifest('crm'), '--registry', server.url, '--token', admin]);
    assert.equal(published.code, 0, published.stderr);
    assert.match(published.stdout, /Published crm@1\.0\.0; supergraph #1 \(crm@1\.0\.0\) is live/);

    const listed = await run(['extensions', 'list', '--json'], { GRAFT_REGISTRY_URL: server.url, GRAFT_TOKEN: admin });
    assert.equal(listed.code, 0, listed.stderr);
    const extensions = JSON.parse(listed.stdout) as Array<{ name: string; activeVersion: string }>;
    assert.deepEqual(extensions.map((e) => [e.name, e.activeVersion]), [['crm', '1.0.0']]);
  });

  test('graft publish of a version that is not greater exits 1 with the registry code', async () => {
    const result = await run(['publish', '--manifest', await writeManifest('crm'), '--registry', server.url, '--token', admin]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /VERSION_EXISTS/);
  });

  test('graft publish of an invalid manifest exits 2 before calling the registry', async () => {
    const result = await run(['publish', '--manifest', await writeManifest('crm', { version: 'one' }), '--registry', server.url, '--token', admin]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /MANIFEST_INVALID/);
  });

  test('graft publish without a token exits 2 and says how to get one', async () => {
    const result = await run(['publish', '--manifest', await writeManifest('crm'), '--registry', server.url], { GRAFT_TOKEN: '' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /graft token/);
  });

  test('graft token prints a dev JWT the gateway accepts, and is refused when NODE_ENV=production', async () => {
    const minted = await run(['token', '--sub', 'alice', '--scopes', 'crm:read orders:read'], { GRAFT_DATA_DIR: dir.path });
    assert.equal(minted.code, 0, minted.stderr);
    const token = minted.stdout.trim();
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(payload['sub'], 'alice');
    assert.equal(payload['scope'], 'crm:read orders:read');
    const response = await fetch(`${server.url}/admin/extensions`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200, 'signed by the same dev issuer as the gateway');

    const refused = await run(['token', '--sub', 'alice'], { NODE_ENV: 'production' });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /DEV_MODE_ONLY/);
  });
});

test('graft compose --check passes on the committed schema artefacts', async () => {
  const result = await run(['compose', '--check']);
  assert.equal(result.code, 0, result.stderr);
});

test('graft start runs the gateway and the examples, prints a working token, and stops cleanly on SIGTERM', async () => {
  const dir = await tempDir();
  const portBase = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [GRAFT, 'start'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: '0', GRAFT_DATA_DIR: dir.path, EXAMPLES_PORT_BASE: String(portBase), GRAFT_LOG_LEVEL: 'warn' },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  try {
    const started = Date.now();
    while (!/Dev token[^\n]*\n\s+(\S+)/.test(stdout)) {
      assert.ok(Date.now() - started < 60_000, `graft start did not print its banner: ${stdout} ${stderr}`);
      assert.equal(child.exitCode, null, `graft start exited early: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const url = /Graft is running at (\S+)/.exec(stdout)![1]!;
    const token = /Dev token[^\n]*\n\s+(\S+)/.exec(stdout)![1]!;
    assert.match(stdout, /Registered the example extensions: crm@1\.0\.0, orders@1\.0\.0, inventory@1\.0\.0/);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: CROSS_EXTENSION_QUERY }),
    });
    const body = (await response.json()) as { data?: { customers: unknown[] }; errors?: unknown };
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data?.customers.length, 2);
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    await dir.remove();
  }
});
