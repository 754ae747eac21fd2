// Multi-process mode as operators run it: `graft start --no-examples` with GRAFT_WORKERS=2,
// a real primary and two real worker processes on one port (PORT=0: node:cluster gives
// every worker the same port), a real SQLite registry in a temp dir, real JWTs from the dev
// issuer the primary created, the example extensions in this process.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Agent } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JSONWebKeySet } from 'jose';
import { loadOrCreateDevIssuer, signDevToken, type DevIssuer } from '../../gateway/auth/index.js';
import { Agent as KeepAliveAgent } from 'node:http';
import { CROSS_EXTENSION_QUERY, REPO_ROOT, call, eventually, exampleManifest, startExamples, tempDir, type Answer, type RunningExamples } from '../helpers/index.js';

const GRAFT = join(REPO_ROOT, 'bin', 'graft.js');
const USER_SCOPES = ['crm:read', 'crm:pii', 'orders:read', 'inventory:read'];

interface WorkerHealth {
  status: string;
  supergraph: { id: number } | null;
  worker: { id: number; pid: number; leader: boolean };
}

/** /health of every worker, by worker number, polled until all `count` have answered. */
function healthOfEveryWorker(url: string, count = 2, accept: (health: WorkerHealth) => boolean = () => true): Promise<Map<number, WorkerHealth>> {
  const seen = new Map<number, WorkerHealth>();
  return eventually(`/health from ${count} workers`, async () => {
    const { body } = await call<WorkerHealth>(`${url}/health`, { timeoutMs: 3000 });
    if (accept(body)) seen.set(body.worker.id, body);
    return seen.size === count ? seen : undefined;
  });
}

/** A keep-alive connection held by the given worker (new connections until one lands there). */
async function connectionTo(url: string, worker: number): Promise<Agent> {
  return eventually(`a connection to worker ${worker}`, async () => {
    const agent = new KeepAliveAgent({ keepAlive: true, maxSockets: 1 });
    const { body } = await call<WorkerHealth>(`${url}/health`, { agent });
    if (body.worker.id === worker) return agent;
    agent.destroy();
    return undefined;
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('graft start with GRAFT_WORKERS=2', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let primary: ChildProcess;
  let exited: Promise<number | null>;
  let output = '';
  let url: string;
  let issuer: DevIssuer;
  let admin: string;
  let user: string;
  let examples: RunningExamples;
  const agents: Agent[] = [];

  async function publishVia(name: 'crm' | 'orders' | 'inventory', agent?: Agent): Promise<Answer> {
    const { manifest, sdl } = await exampleManifest(name, examples[name].url);
    return call(`${url}/admin/extensions/${name}/versions`, { token: admin, body: { manifest, sdl }, ...(agent ? { agent } : {}) });
  }

  async function register(name: string): Promise<void> {
    const registered = await call(`${url}/admin/extensions`, { token: admin, body: { name, owner: 'examples' } });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
  }

  before(async () => {
    dir = await tempDir('graft-workers-');
    primary = spawn(process.execPath, [GRAFT, 'start', '--no-examples'], {
      cwd: REPO_ROOT,
      // --no-examples registers no operations unless told where they are.
      env: { ...process.env, GRAFT_WORKERS: '2', PORT: '0', GRAFT_DATA_DIR: dir.path, GRAFT_LOG_LEVEL: 'warn', GRAFT_OPERATIONS_DIR: join(REPO_ROOT, 'schema', 'operations') },
    });
    exited = new Promise((resolve) => primary.once('exit', resolve));
    primary.stdout!.on('data', (chunk) => (output += chunk));
    primary.stderr!.on('data', (chunk) => (output += chunk));
    url = await eventually(
      'the start banner',
      async () => {
        assert.equal(primary.exitCode, null, `graft start exited early: ${output}`);
        const running = /Graft is running at (\S+)\/graphql/.exec(output);
        return running && /Workers: 2 processes/.test(output) ? running[1] : undefined;
      },
      60_000,
    );
    // The primary created the dev issuer's key before forking: every worker verifies with it.
    issuer = await loadOrCreateDevIssuer(dir.path);
    admin = await signDevToken(issuer, { subject: 'admin', scopes: ['graft:admin'], ttlSeconds: 600 });
    user = await signDevToken(issuer, { subject: 'alice', scopes: USER_SCOPES, ttlSeconds: 600 });
    const jwks = (await call<JSONWebKeySet>(`${url}/.well-known/jwks.json`)).body;
    examples = await startExamples({ jwks, issuer: 'graft-gateway' });
  });

  after(async () => {
    for (const agent of agents) agent.destroy();
    if (primary && primary.exitCode === null && primary.signalCode === null) {
      primary.kill('SIGKILL'); // its workers exit with it (their IPC channel closes)
      await exited;
    }
    await examples?.close();
    await dir?.remove();
  });

  test('two worker processes answer on one port, each naming itself in /health and x-graft-worker', async () => {
    const workers = await healthOfEveryWorker(url);
    const pids = [...workers.values()].map((h) => h.worker.pid);
    assert.equal(new Set(pids).size, 2, 'two distinct processes');
    assert.ok(!pids.includes(primary.pid!), 'the primary serves no request');
    assert.deepEqual([...workers.values()].filter((h) => h.worker.leader).map((h) => h.worker.id), [1], 'worker 1 leads');
    assert.ok(pids.every(isAlive));

    const answered = await call(`${url}/graphql`, { token: user, body: { query: '{ __typename }' } });
    assert.equal(answered.status, 503, 'nothing published yet');
    assert.equal(answered.body.errors[0].extensions.code, 'NO_SUPERGRAPH');
    assert.match(String(answered.headers['x-graft-worker']), /^[12]$/);
  });

  test('a publish through the admin API of one worker is served by every worker', async () => {
    await register('crm');
    const published = await publishVia('crm');
    assert.equal(published.status, 201, JSON.stringify(published.body));
    const id = published.body.supergraph.id as number;

    await healthOfEveryWorker(url, 2, (health) => health.supergraph?.id === id);
    const servedBy = new Set<string>();
    await eventually('an answer from each worker', async () => {
      const answer = await call(`${url}/graphql`, { token: user, body: { query: '{ customers(first: 1) { id name } }' } });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body.data, { customers: [{ id: 'c1', name: answer.body.data.customers[0].name }] });
      servedBy.add(String(answer.headers['x-graft-worker']));
      return servedBy.size === 2 ? true : undefined;
    });

    // The leader alone registered the operations folder (schema/operations) at start, and
    // every worker serves the registered operations.
    const audit = await call(`${url}/admin/audit`, { token: admin });
    const registrations = (audit.body.events as Array<{ action: string; details: { operation?: string } }>).filter((e) => e.action === 'operation-register');
    assert.ok(registrations.length > 0);
    assert.equal(new Set(registrations.map((e) => e.details.operation)).size, registrations.length, 'each operation registered once');
    const listed = new Map<string, string[]>();
    await eventually('the registered operations from each worker', async () => {
      const answer = await call(`${url}/admin/operations`, { token: admin });
      listed.set(String(answer.headers['x-graft-worker']), (answer.body.operations as Array<{ name: string }>).map((o) => o.name));
      return listed.size === 2 ? true : undefined;
    });
    assert.deepEqual(listed.get('1'), listed.get('2'));
    assert.equal(listed.get('1')?.length, registrations.length);
  });

  test('two publishes at once through two workers both end up in the active supergraph (no lost update)', async () => {
    await register('orders');
    await register('inventory');
    const [one, two] = await Promise.all([connectionTo(url, 1), connectionTo(url, 2)]);
    agents.push(one, two);
    const [orders, inventory] = await Promise.all([publishVia('orders', one), publishVia('inventory', two)]);
    assert.equal(orders.status, 201, JSON.stringify(orders.body));
    assert.equal(inventory.status, 201, JSON.stringify(inventory.body));
    assert.equal(orders.headers['x-graft-worker'], '1');
    assert.equal(inventory.headers['x-graft-worker'], '2');

    const active = await call(`${url}/admin/supergraph`, { token: admin });
    const members = (active.body.members as Array<{ extension: string; version: string }>).map((m) => `${m.extension}@${m.version}`).sort();
    assert.deepEqual(members, ['crm@1.0.0', 'inventory@1.0.0', 'orders@1.0.0']);
    const latest = Math.max(orders.body.supergraph.id, inventory.body.supergraph.id);
    assert.equal(active.body.id, latest);

    await healthOfEveryWorker(url, 2, (health) => health.supergraph?.id === latest);
    for (const agent of [one, two]) {
      const answer = await call(`${url}/graphql`, { token: user, body: { query: CROSS_EXTENSION_QUERY }, agent });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body.errors));
      assert.equal(answer.body.data.customers.length, 2);
    }
  });

  test('a killed worker is replaced, serves the current supergraph, and the gateway keeps answering', async () => {
    const before = await healthOfEveryWorker(url);
    const victim = before.get(2)!;
    const survivor = before.get(1)!;
    process.kill(victim.worker.pid, 'SIGKILL');

    // Until the replacement listens, worker 1 answers every connection the primary hands out.
    const replacement = await eventually('worker 2 replaced', async () => {
      const { status, body } = await call<WorkerHealth>(`${url}/health`, { timeoutMs: 3000 });
      assert.equal(status, 200);
      if (body.worker.id === 1) assert.equal(body.worker.pid, survivor.worker.pid);
      return body.worker.id === 2 && body.worker.pid !== victim.worker.pid ? body : undefined;
    });
    assert.ok(!isAlive(victim.worker.pid));
    assert.equal(replacement.worker.leader, false);
    assert.equal(replacement.supergraph?.id, survivor.supergraph?.id, 'it loaded the active supergraph from the registry');

    const servedBy = new Set<string>();
    await eventually('answers from both workers', async () => {
      const answer = await call(`${url}/graphql`, { token: user, body: { query: CROSS_EXTENSION_QUERY } });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body.errors));
      servedBy.add(String(answer.headers['x-graft-worker']));
      return servedBy.size === 2 ? true : undefined;
    });
  });

  test('SIGTERM stops the primary and every worker cleanly', async () => {
    const workers = await healthOfEveryWorker(url);
    const pids = [...workers.values()].map((h) => h.worker.pid);
    for (const agent of agents.splice(0)) agent.destroy();
    primary.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(30_000, 'still running', { ref: false })]);
    assert.equal(code, 0, output.slice(-2000));
    assert.deepEqual(pids.filter(isAlive), [], 'no worker outlives the primary');
    await assert.rejects(call(`${url}/health`, { timeoutMs: 3000 }), 'nothing listens any more');
  });
});

test('GRAFT_WORKERS that is not a whole number of processes from 1 stops graft start with exit code 2, naming the variable', async () => {
  const dir = await tempDir('graft-workers-config-');
  const run = (value: string) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [GRAFT, 'start', '--no-examples'], {
        cwd: REPO_ROOT,
        env: { ...process.env, GRAFT_WORKERS: value, PORT: '0', GRAFT_DATA_DIR: join(dir.path, value) },
      });
      // Bounded: a gateway that started anyway is stopped, and the exit code says so.
      const stop = setTimeout(() => child.kill('SIGKILL'), 30_000);
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.once('exit', (code) => {
        clearTimeout(stop);
        resolve({ code, stderr });
      });
    });
  try {
    const [zero, letters] = await Promise.all([run('0'), run('abc')]);
    for (const [result, value] of [[zero, '0'], [letters, 'abc']] as const) {
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /GRAFT_WORKERS must be a whole number/);
      assert.ok(result.stderr.includes(`"${value}"`), result.stderr);
    }
  } finally {
    await dir.remove();
  }
});
