// `graft start` and the probes a platform runs against it, over real HTTP: /readiness
// (503 until a supergraph is served and the start-up work is done) apart from /health
// (liveness), and --no-examples (neither the examples nor their operations).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadOrCreateDevIssuer, signDevToken } from '../../gateway/auth/index.js';
import { loadConfig } from '../../gateway/config/index.js';
import { startGraftServer } from '../../gateway/server/index.js';
import { CROSS_EXTENSION_QUERY, REPO_ROOT, freeConsecutivePorts, exampleManifest, gatewayAuthOf, http, publish, startExamples, tempDir, tokenFor } from '../helpers/index.js';

interface ReadinessBody {
  status: string;
  waitingFor?: string[];
}

describe('GET /readiness apart from GET /health', () => {
  test('answers 503 naming what it waits for until a supergraph is served and the start-up work is done, then 200; /health answers 200 throughout', async () => {
    const dir = await tempDir();
    const config = loadConfig({ NODE_ENV: 'test' }, { port: 0, dataDir: dir.path, logLevel: 'silent' });
    const server = await startGraftServer({ config, startupWork: ['the example extensions to be registered'] });
    const examples = await startExamples(gatewayAuthOf(server));
    try {
      const before = await http<ReadinessBody>(`${server.url}/readiness`);
      assert.equal(before.status, 503);
      assert.deepEqual(before.body, { status: 'not-ready', waitingFor: ['a supergraph (publish an extension)', 'the example extensions to be registered'] });
      assert.equal(before.headers.get('cache-control'), 'no-store');
      assert.equal((await http(`${server.url}/health`)).status, 200, 'liveness does not wait for the first publish');

      const admin = await tokenFor(server, 'admin', ['graft:admin']);
      assert.equal((await publish(server, admin, await exampleManifest('crm', examples.crm.url))).status, 201);
      const served = await http<ReadinessBody>(`${server.url}/readiness`);
      assert.equal(served.status, 503, 'a supergraph is served, the start-up work is not done');
      assert.deepEqual(served.body.waitingFor, ['the example extensions to be registered']);

      server.readiness.done('the example extensions to be registered');
      const ready = await http<ReadinessBody>(`${server.url}/readiness`);
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { status: 'ready' });
      assert.equal((await http(`${server.url}/health`)).status, 200);
    } finally {
      await server.close();
      await examples.close();
      await dir.remove();
    }
  });
});

/** `graft start [args]` on a fresh data dir and fixed ports; the dev issuer's key is made first so tokens can be signed before it answers. */
async function graftStart(args: string[]) {
  const dir = await tempDir();
  const issuer = await loadOrCreateDevIssuer(dir.path);
  const port = await freeConsecutivePorts(5);
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'graft.js'), 'start', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), EXAMPLES_PORT_BASE: String(port + 1), GRAFT_DATA_DIR: dir.path, GRAFT_LOG_LEVEL: 'warn', GRAFT_OPERATIONS_DIR: undefined },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    output: () => ({ stdout, stderr }),
    token: (subject: string, scopes: string[]) => signDevToken(issuer, { subject, scopes, ttlSeconds: 600 }),
    /** Polls until `done` holds for an answer of `path` (connection refusals count as not yet). */
    async until<T>(path: string, done: (status: number, body: T) => boolean): Promise<Array<{ status: number; body: T }>> {
      const seen: Array<{ status: number; body: T }> = [];
      const started = Date.now();
      for (;;) {
        assert.equal(child.exitCode, null, `graft start exited: ${stderr}`);
        assert.ok(Date.now() - started < 90_000, `${path} never answered as expected; last: ${JSON.stringify(seen.at(-1))}; ${stderr}`);
        try {
          const response = await http<T>(`${url}${path}`);
          seen.push({ status: response.status, body: response.body });
          if (done(response.status, response.body)) return seen;
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      await dir.remove();
      return code;
    },
  };
}

describe('graft start', () => {
  test('once /readiness answers 200 the README tour query answers with data; before that it answers 503 with what it waits for', async () => {
    const start = await graftStart([]);
    try {
      const seen = await start.until<ReadinessBody>('/readiness', (status) => status === 200);
      for (const answer of seen.slice(0, -1)) {
        assert.equal(answer.status, 503);
        assert.equal(answer.body.status, 'not-ready');
        assert.ok((answer.body.waitingFor ?? []).length > 0);
      }
      const token = await start.token('alice', ['crm:read', 'crm:pii', 'orders:read', 'inventory:read']);
      const response = await http<{ data?: { customers: unknown[] }; errors?: unknown }>(`${start.url}/graphql`, { token, body: { query: CROSS_EXTENSION_QUERY } });
      assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
      assert.equal(response.body.data?.customers.length, 2);
    } finally {
      assert.equal(await start.stop(), 0, start.output().stderr);
    }
  });

  test('--no-examples registers neither the example extensions nor the example operations, and stays not ready until a publish', async () => {
    const start = await graftStart(['--no-examples']);
    try {
      // /health answers once the gateway listens, which is after its start-up work.
      await start.until('/health', (status) => status === 200);
      const admin = await start.token('admin', ['graft:admin']);
      const extensions = await http<{ extensions: unknown[] }>(`${start.url}/admin/extensions`, { token: admin });
      assert.equal(extensions.status, 200);
      assert.deepEqual(extensions.body.extensions, []);
      const operations = await http<{ operations: unknown[] }>(`${start.url}/admin/operations`, { token: admin });
      assert.equal(operations.status, 200);
      assert.deepEqual(operations.body.operations, []);
      const readiness = await http<ReadinessBody>(`${start.url}/readiness`);
      assert.equal(readiness.status, 503);
      assert.deepEqual(readiness.body.waitingFor, ['a supergraph (publish an extension)']);
      assert.doesNotMatch(start.output().stdout, /Registered the example extensions/);
    } finally {
      assert.equal(await start.stop(), 0, start.output().stderr);
    }
  });
});
