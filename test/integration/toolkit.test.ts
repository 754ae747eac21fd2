// The extension author's toolkit as authors run it: `graft init` (and `npm test` inside
// the fresh scaffold), `graft dev` reloading an edited extension, `graft simulate` against
// a fault-injecting proxy, and `graft contract-test` against healthy and broken subgraphs.
// Real child processes, real HTTP on 127.0.0.1, real files in temp dirs; every run bounded.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { validateManifest } from '../../gateway/manifest/index.js';
import type { GraftServer } from '../../gateway/server/index.js';
import {
  REPO_ROOT,
  exampleManifest,
  gatewayAuthOf,
  publish,
  startExamples,
  startGateway,
  tempDir,
  tokenFor,
  type RunningExamples,
} from '../helpers/index.js';

const GRAFT = join(REPO_ROOT, 'bin', 'graft.js');

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a child: no token from the caller's shell, no nested test-runner context. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GRAFT_TOKEN: '', npm_config_update_notifier: 'false', ...extra };
  delete env['NODE_TEST_CONTEXT'];
  return env;
}

function run(command: string, args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? REPO_ROOT, env: childEnv(options.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms:\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const graft = (args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}) => run(process.execPath, [GRAFT, ...args], options);

async function waitFor(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function gql(url: string, token: string, query: string) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) });
  return (await response.json()) as { data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

describe('graft init extension, then graft dev on the scaffold', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let scaffold: string;

  before(async () => {
    dir = await tempDir('graft-toolkit-');
    scaffold = join(dir.path, 'loyalty');
  });
  after(async () => dir?.remove());

  test('scaffolds a working extension: manifest, Federation 2.9 SDL, generated resolver types, test, README', async () => {
    const result = await graft(['init', 'extension', 'loyalty', '--dir', scaffold, '--owner', 'loyalty-team@example.com']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Created extension "loyalty"/);
    for (const file of ['graft.json', 'loyalty.graphql', 'resolvers.ts', 'data.ts', 'index.ts', 'server.ts', 'codegen.ts', 'test/loyalty.test.ts', 'README.md', 'package.json', 'generated/resolvers-types.ts']) {
      assert.ok(await exists(join(scaffold, file)), `${file} is written`);
    }
    const manifest = validateManifest(JSON.parse(await readFile(join(scaffold, 'graft.json'), 'utf8')));
    assert.equal(manifest.name, 'loyalty');
    assert.equal(manifest.owner, 'loyalty-team@example.com');
    assert.deepEqual(manifest.grants, ['loyalty:read']);
    assert.match(await readFile(join(scaffold, 'loyalty.graphql'), 'utf8'), /@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.9"/);
    const types = await readFile(join(scaffold, 'generated/resolvers-types.ts'), 'utf8');
    assert.match(types, /export type Resolvers<ContextType = ExtensionContext>/, 'typed with the SDK context');
    assert.match(types, /__resolveReference\?: ReferenceResolver/, 'federation-aware');
    const pkg = JSON.parse(await readFile(join(scaffold, 'package.json'), 'utf8')) as { devDependencies: Record<string, string>; scripts: Record<string, string> };
    assert.match(pkg.devDependencies['graft']!, /^file:/, 'depends on this checkout through a file: dependency');
    assert.equal(pkg.scripts['test'], 'node --import tsx --test test/*.test.ts');
    assert.match(await readFile(join(scaffold, 'README.md'), 'utf8'), /Five minutes to a published extension/);
  });

  test('npm test passes inside the fresh scaffold, offline, and so does its typecheck', async () => {
    const tested = await run('npm', ['test'], { cwd: scaffold, timeoutMs: 60_000 });
    assert.equal(tested.code, 0, `${tested.stdout}\n${tested.stderr}`);
    // Node 20's test runner prints TAP when its output is not a terminal ("# pass 4"), Node 23+
    // its spec reporter ("ℹ pass 4").
    assert.match(tested.stdout, /^(#|ℹ) pass 4$/m);
    assert.match(tested.stdout, /^(#|ℹ) fail 0$/m);
    const typecheck = await run('npm', ['run', 'typecheck'], { cwd: scaffold, timeoutMs: 60_000 });
    assert.equal(typecheck.code, 0, `${typecheck.stdout}\n${typecheck.stderr}`);
  });

  test('graft init refuses a folder that is not empty and a name that is not a DNS label (exit 2)', async () => {
    const taken = await graft(['init', 'extension', 'loyalty', '--dir', scaffold]);
    assert.equal(taken.code, 2);
    assert.match(taken.stderr, /exists and is not empty/);
    const badName = await graft(['init', 'extension', 'Loyalty_Club', '--dir', join(dir.path, 'other'), '--no-link', '--no-codegen']);
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /DNS label/);
  });

  test('graft dev serves the scaffold with the examples, reloads it on change without restarting the gateway, and keeps the old version on a broken change', async () => {
    const child: ChildProcess = spawn(process.execPath, [GRAFT, 'dev', '--extension', scaffold], { cwd: dir.path, env: childEnv({ PORT: '0' }) });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitFor('the graft dev banner', () => /Dev token[^\n]*\n\s+(\S+)/.test(stdout) || child.exitCode !== null, 60_000);
      assert.equal(child.exitCode, null, `graft dev exited: ${stderr}`);
      const url = /Graft dev gateway at (\S+)/.exec(stdout)![1]!;
      const token = /Dev token[^\n]*\n\s+(\S+)/.exec(stdout)![1]!;
      const dataDir = /\(data: (\S+), removed on exit\)/.exec(stdout)![1]!;
      assert.match(stdout, /loyalty@0\.1\.0-dev\.0 at http:\/\/127\.0\.0\.1:\d+\/graphql, watching/);
      assert.match(stdout, /scopes "crm:pii crm:read inventory:read loyalty:read orders:read"/);
      const health = (await (await fetch(url.replace(/\/graphql$/, '/health'))).json()) as { supergraph: { loadedAt: string } };

      const before = await gql(url, token, '{ customers(first: 2) { name loyaltyNotes { title remark } } }');
      assert.equal(before.errors, undefined, JSON.stringify(before.errors));
      assert.deepEqual(before.data?.['customers']?.[0]?.['loyaltyNotes']?.[0], { title: 'Welcome call done', remark: 'Prefers e-mail over phone.' });

      // The author adds a field to the SDL and its resolver.
      const sdlPath = join(scaffold, 'loyalty.graphql');
      const resolversPath = join(scaffold, 'resolvers.ts');
      const sdl = await readFile(sdlPath, 'utf8');
      await writeFile(sdlPath, sdl.replace('  title: String!\n', '  title: String!\n  "Pinned notes come first."\n  pinned: Boolean!\n'));
      const resolvers = await readFile(resolversPath, 'utf8');
      await writeFile(resolversPath, resolvers.replace('    customer: (note) => ({ id: note.customerId }),', "    customer: (note) => ({ id: note.customerId }),\n    pinned: (note) => note.id === 'n1',"));
      await waitFor('the reload', () => /published loyalty@0\.1\.0-dev\.1/.test(stdout), 45_000);
      assert.match(stdout, /↻ loyalty: [^\n]*changed; restarted and published loyalty@0\.1\.0-dev\.1 \(supergraph #\d+\)[^\n]*gateway not restarted/);
      assert.match(stdout, /SDL changed, regenerated generated\/resolvers-types\.ts/);
      assert.match(await readFile(join(scaffold, 'generated/resolvers-types.ts'), 'utf8'), /pinned: Scalars\['Boolean'\]\['output'\]/);
      const after = await gql(url, token, '{ customers(first: 1) { name loyaltyNotes { title pinned } } }');
      assert.equal(after.errors, undefined, JSON.stringify(after.errors));
      assert.deepEqual(after.data?.['customers']?.[0]?.['loyaltyNotes'], [
        { title: 'Welcome call done', pinned: true },
        { title: 'Asked for a volume discount', pinned: false },
      ]);
      const healthAfter = (await (await fetch(url.replace(/\/graphql$/, '/health'))).json()) as { supergraph: { loadedAt: string } };
      assert.notEqual(healthAfter.supergraph.loadedAt, health.supergraph.loadedAt, 'a new supergraph, same gateway process');

      // A syntax error: refused with the file and line, the last good version keeps serving.
      await writeFile(sdlPath, `${await readFile(sdlPath, 'utf8')}\ntype Broken {\n`);
      await waitFor('the refusal', () => /✗ loyalty: loyalty\.graphql:\d+:\d+: Syntax Error[^\n]*still serving loyalty@0\.1\.0-dev\.1/.test(stdout), 30_000);
      const still = await gql(url, token, '{ loyaltyNotes(first: 1) { pinned } }');
      assert.deepEqual(still.data, { loyaltyNotes: [{ pinned: true }] });

      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      assert.equal(await exists(dataDir), false, 'the throwaway data dir is removed');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('graft simulate', () => {
  interface Report {
    settings: { query: string };
    timeout: { ms: number; source: string };
    users: { requests: number; ok: number; failed: number; byCode: Record<string, number>; latencyMs: { p50: number; p99: number } };
    extensionSide: { requests: number; injected503: number; forwarded: number; latencyMs: { p50: number; p99: number } };
    breaker: { trips: number; state: string };
    verdict: { level: string; reasons: string[] };
  }

  test('injects latency and 503s in front of crm: the gateway retries, users see the rest, and the report says so', async () => {
    const result = await graft(['simulate', '--extension', 'crm', '--latency', '25ms', '--error-rate', '0.2', '--concurrency', '8', '--duration', '1500ms', '--requests', '400', '--seed', '42', '--json']);
    assert.ok(result.code === 0 || result.code === 1, result.stderr);
    const report = JSON.parse(result.stdout) as Report;
    assert.match(report.settings.query, /^\{ customers \{ id name email \} \}$/, 'a query built from the crm SDL');
    assert.ok(report.users.requests > 10 && report.users.requests <= 400);
    assert.ok(report.extensionSide.injected503 > 0, 'the proxy injected 503s');
    if (report.breaker.trips === 0) assert.ok(report.extensionSide.requests > report.users.requests, 'the gateway retried the 503s');
    else assert.ok((report.users.byCode['EXTENSION_CIRCUIT_OPEN'] ?? 0) > 0, 'an open breaker answers for the extension');
    assert.ok(report.extensionSide.latencyMs.p50 >= 24, 'the injected latency is seen by the gateway');
    assert.ok(report.users.latencyMs.p50 >= 24);
    for (const code of Object.keys(report.users.byCode)) assert.match(code, /^EXTENSION_(UNAVAILABLE|CIRCUIT_OPEN)$/);
    assert.deepEqual(report.timeout, { ms: 2000, source: 'manifest' });
    assert.equal(result.code, report.verdict.level === 'fail' ? 1 : 0);
  });

  test('a latency over limits.timeoutMs fails the verdict with EXTENSION_TIMEOUT (exit 1)', async () => {
    const result = await graft(['simulate', '--extension', 'inventory', '--latency', '300ms', '--timeout-ms', '100', '--concurrency', '3', '--duration', '1200ms', '--json']);
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as Report;
    assert.ok((report.users.byCode['EXTENSION_TIMEOUT'] ?? 0) > 0, JSON.stringify(report.users.byCode));
    assert.deepEqual(report.timeout, { ms: 100, source: 'option' });
    assert.equal(report.verdict.level, 'fail');
    assert.match(report.verdict.reasons[0]!, /EXTENSION_TIMEOUT.*limits\.timeoutMs 100 ms/);
  });

  test('an extension that always fails trips the breaker; the text report shows codes, percentiles and the verdict', async () => {
    const result = await graft(['simulate', '--extension', 'inventory', '--error-rate', '1', '--concurrency', '4', '--requests', '40', '--duration', '5s']);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /What users saw/);
    assert.match(result.stdout, /EXTENSION_CIRCUIT_OPEN\s+\d+/);
    assert.match(result.stdout, /latency\s+p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms/);
    assert.match(result.stdout, /circuit breaker\s+[1-9]\d* trips?, now (open|half-open)/);
    assert.match(result.stdout, /verdict: FAIL — the circuit breaker opened/);
  });

  test('bad options are usage errors (exit 2)', async () => {
    const latency = await graft(['simulate', '--extension', 'crm', '--latency', 'fast']);
    assert.equal(latency.code, 2);
    assert.match(latency.stderr, /--latency takes a duration/);
    const unknown = await graft(['simulate', '--extension', 'no-such-extension']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /neither an example extension/);
  });
});

const BROKEN_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@requiresScopes"])
type Widget @key(fields: "id") {
  id: ID!
  name: String!
  price: Float
  secret: String @requiresScopes(scopes: [["widgets:secret"]])
}
type Query { widgets: [Widget!]! }
`;

/** An extension that breaks its contract: it serves the SDL without @requiresScopes, has no __resolveReference, and a field that throws. */
const BROKEN_SERVER = `import { readFileSync } from 'node:fs';
import { defineExtension, runExtensionProcess } from ${JSON.stringify(join(REPO_ROOT, 'subgraphs', 'sdk', 'index.ts'))};
const typeDefs = readFileSync(new URL('./widgets.graphql', import.meta.url), 'utf8').replace(' @requiresScopes(scopes: [["widgets:secret"]])', '');
const widgets = [{ id: 'w1', name: 'Bolt', secret: 's1' }, { id: 'w2', name: 'Nut', secret: 's2' }];
const extension = defineExtension({
  name: 'widgets',
  typeDefs,
  resolvers: {
    Query: { widgets: () => widgets.map((w) => ({ ...w })) },
    Widget: { price: () => { throw new Error('price service down'); } },
  },
});
await runExtensionProcess(extension, { defaultPort: 0 });
`;

describe('graft contract-test', () => {
  test('--manifest mode: the crm example passes every check (exit 0)', async () => {
    const result = await graft(['contract-test', '--extension', 'crm']);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /PASS\s+drift\s+the live SDL matches the registered one/);
    assert.match(result.stdout, /PASS\s+entity\s+Customer: _entities resolves 3 samples/);
    assert.match(result.stdout, /PASS\s+access\s+Customer\.email is refused without crm:pii/);
    assert.match(result.stdout, /PASS\s+access\s+Query\.customers is refused without crm:read/);
    assert.match(result.stdout, /PASSED: \d+ passed, 0 failed/);
  });

  test('--sample reaches entities no root field lists (orders: Customer, then its Orders)', async () => {
    const result = await graft(['contract-test', '--extension', 'orders', '--manifest', join(REPO_ROOT, 'subgraphs', 'orders', 'graft.json'), '--sample', 'Customer=c1', '--json']);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const report = JSON.parse(result.stdout) as { passed: boolean; checks: Array<{ kind: string; status: string; subject: string }> };
    const passed = (kind: string, subject: string) => report.checks.some((c) => c.kind === kind && c.subject === subject && c.status === 'pass');
    assert.ok(passed('entity', 'Customer') && passed('entity', 'Order'), 'Orders are sampled from Customer.orders');
    assert.ok(passed('access', 'Order.total') && passed('access', 'Customer.orders'), 'type-level @requiresScopes on Order is enforced');
  });

  test('a subgraph that broke its contract fails with drift, a missing @key resolver, an erroring field and an unenforced scope (exit 1)', async () => {
    const folder = await tempDir('graft-contract-');
    try {
      await writeFile(join(folder.path, 'widgets.graphql'), BROKEN_SDL);
      await writeFile(join(folder.path, 'server.ts'), BROKEN_SERVER);
      await writeFile(join(folder.path, 'package.json'), '{ "type": "module" }\n');
      await writeFile(
        join(folder.path, 'graft.json'),
        JSON.stringify({ name: 'widgets', version: '1.0.0', owner: 'tests', subgraph: { url: 'http://127.0.0.1:4999/graphql', schema: './widgets.graphql' }, grants: ['widgets:secret'] }),
      );
      const result = await graft(['contract-test', '--extension', 'widgets', '--manifest', join(folder.path, 'graft.json')]);
      assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /FAIL\s+drift\s+the live SDL differs from the registered one: field Widget\.secret differs/);
      assert.match(result.stdout, /FAIL\s+entity\s+Widget: _entities failed: \{"id":"w1"\} \(from Query\.widgets\) came back null because Widget\.name failed/);
      assert.match(result.stdout, /FAIL\s+fields\s+Widget\.price errors \(Query\.widgets\): INTERNAL_SERVER_ERROR: price service down/);
      assert.match(result.stdout, /FAIL\s+access\s+Widget\.secret \(scopes widgets:secret\) was not refused with UNAUTHORIZED_FIELD_OR_TYPE/);
      assert.match(result.stdout, /FAILED: /);
    } finally {
      await folder.remove();
    }
  });

  test('usage errors exit 2: nothing to test against, or both modes at once', async () => {
    const nothing = await graft(['contract-test', '--extension', 'loyalty']);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /--manifest <graft\.json>.*--registry <url> --token <jwt>/);
    const both = await graft(['contract-test', '--extension', 'crm', '--manifest', 'graft.json', '--token', 'x']);
    assert.equal(both.code, 2);
  });

  describe('registry mode, against a running gateway', () => {
    let dir: Awaited<ReturnType<typeof tempDir>>;
    let server: GraftServer;
    let examples: RunningExamples;
    let admin: string;

    before(async () => {
      dir = await tempDir();
      server = await startGateway(dir.path);
      examples = await startExamples(gatewayAuthOf(server));
      admin = await tokenFor(server, 'admin', ['graft:admin']);
      const published = await publish(server, admin, await exampleManifest('crm', examples.crm.url));
      assert.equal(published.status, 201, JSON.stringify(published.body));
    });
    after(async () => {
      await server?.close();
      await examples?.close();
      await dir?.remove();
    });

    test('tests the active version with tokens minted by the gateway\'s own key (exit 0)', async () => {
      const result = await graft(['contract-test', '--extension', 'crm', '--registry', server.url, '--token', admin, '--data-dir', dir.path, '--json']);
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      const report = JSON.parse(result.stdout) as { passed: boolean; url: string; counts: Record<string, number> };
      assert.equal(report.passed, true);
      assert.equal(report.url, examples.crm.url, 'the URL the registry has');
      assert.ok(report.counts['pass']! >= 5);
    });

    test('a registered SDL the running subgraph does not serve is drift (exit 1)', async () => {
      const { manifest, sdl } = await exampleManifest('crm', examples.crm.url, { version: '1.1.0' });
      const drifted = sdl.replace('  name: String!\n', '  name: String!\n  "Loyalty tier."\n  tier: String\n');
      const published = await publish(server, admin, { manifest, sdl: drifted });
      assert.equal(published.status, 201, JSON.stringify(published.body));
      const result = await graft(['contract-test', '--extension', 'crm', '--registry', server.url, '--token', admin, '--data-dir', dir.path]);
      assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /FAIL\s+drift\s+the live SDL differs from the registered one: live SDL lacks field Customer\.tier/);
      const older = await graft(['contract-test', '--extension', 'crm', '--version', '1.0.0', '--registry', server.url, '--token', admin, '--data-dir', dir.path]);
      assert.equal(older.code, 0, `--version tests another registered version: ${older.stdout}\n${older.stderr}`);
    });

    test('without the gateway\'s signing key the command says where to run it (exit 2)', async () => {
      const elsewhere = await tempDir();
      try {
        const result = await graft(['contract-test', '--extension', 'crm', '--registry', server.url, '--token', admin, '--data-dir', elsewhere.path]);
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, /No gateway signing key in .*--data-dir/);
        await mkdir(join(elsewhere.path, 'other'), { recursive: true });
      } finally {
        await elsewhere.remove();
      }
    });
  });
});
