// Gateway replicas as operators run them on several hosts: three real `graft start
// --no-examples` processes, each on its own port and data dir, sharing one real PostgreSQL
// registry (a throwaway cluster, test/helpers/postgres.ts), the example extensions in this
// process. The replicas share the dev issuer's key file (the users' identity provider, in
// production), and one upstream key set through the registry (GRAFT_KEY_ENCRYPTION_KEY): the
// extensions know only replica a's JWKS, yet verify the tokens of every replica.
//
// Pins: a publish through one replica is served by all; a publish under load fails no
// request; with PostgreSQL down every replica keeps serving, publishes answer 503
// REGISTRY_UNAVAILABLE, /health and /metrics show the registry down, and all recovers
// without a restart once it is back; one leader, and a new one when it dies; a bad
// GRAFT_REGISTRY_URL stops graft start with one line and exit code 2.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { JSONWebKeySet } from 'jose';
import { loadOrCreateDevIssuer, signDevToken } from '../../gateway/auth/index.js';
import {
  CROSS_EXTENSION_QUERY,
  REPO_ROOT,
  call,
  eventually,
  exampleManifest,
  postgresAvailability,
  startExamples,
  startTestPostgres,
  tempDir,
  type Answer,
  type RunningExamples,
  type TestPostgres,
} from '../helpers/index.js';

const GRAFT = join(REPO_ROOT, 'bin', 'graft.js');
const USER_SCOPES = ['crm:read', 'crm:pii', 'orders:read', 'inventory:read'];
const KEY_ENCRYPTION_KEY = randomBytes(32).toString('base64');
const { skip } = postgresAvailability();

interface Replica {
  name: string;
  process: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

interface ReplicaHealth {
  status: string;
  supergraph: { id: number } | null;
  registry: { state: 'up' | 'down'; since: string; error?: string };
  leader: boolean;
}

async function startReplica(name: string, env: Record<string, string>): Promise<Replica> {
  const child = spawn(process.execPath, [GRAFT, 'start', '--no-examples'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: '0', GRAFT_LOG_LEVEL: 'warn', ...env },
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await eventually(
    `replica ${name}'s start banner`,
    async () => {
      assert.equal(child.exitCode, null, `replica ${name} exited early: ${output}`);
      return /Graft is running at (\S+)\/graphql/.exec(output)?.[1];
    },
    60_000,
  );
  return { name, process: child, url, output: () => output, exited };
}

async function stopReplica(replica: Replica): Promise<void> {
  if (replica.process.exitCode !== null || replica.process.signalCode !== null) return;
  replica.process.kill('SIGKILL');
  await replica.exited;
}

describe('three replicas on one PostgreSQL registry', { skip: skip ?? false }, () => {
  let postgres: TestPostgres;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let registryUrl: string;
  let replicas: Replica[] = [];
  let examples: RunningExamples;
  let admin: string;
  let user: string;

  const health = async (replica: Replica): Promise<ReplicaHealth> => (await call<ReplicaHealth>(`${replica.url}/health`, { timeoutMs: 5000 })).body;
  const query = (replica: Replica, text = CROSS_EXTENSION_QUERY): Promise<Answer> => call(`${replica.url}/graphql`, { token: user, body: { query: text } });
  const publish = async (replica: Replica, name: 'crm' | 'orders' | 'inventory', version = '1.0.0'): Promise<Answer> => {
    const { manifest, sdl } = await exampleManifest(name, examples[name].url, { version });
    // A generous deadline: what the load test pins is that a release fails no request, not
    // how fast the example extensions answer on a busy 2-core machine.
    manifest['limits'] = { ...(manifest['limits'] as Record<string, unknown>), timeoutMs: 15_000 };
    return call(`${replica.url}/admin/extensions/${name}/versions`, { token: admin, body: { manifest, sdl } });
  };
  const servedEverywhere = (id: number, among = replicas) =>
    Promise.all(among.map((replica) => eventually(`replica ${replica.name} serving supergraph #${id}`, async () => ((await health(replica)).supergraph?.id === id ? true : undefined))));

  before(async () => {
    postgres = await startTestPostgres();
    registryUrl = await postgres.createDatabase();
    dir = await tempDir('graft-replicas-');
    const dataDir = (name: string) => join(dir.path, name);
    // Fast leader hand-over and health rounds: the defaults are for production.
    const env = (name: string) => ({
      GRAFT_REGISTRY_URL: registryUrl,
      GRAFT_DATA_DIR: dataDir(name),
      GRAFT_PG_CONNECT_TIMEOUT_MS: '2000',
      GRAFT_KEY_ENCRYPTION_KEY: KEY_ENCRYPTION_KEY,
    });
    const first = await startReplica('a', env('a'));
    for (const name of ['b', 'c']) {
      await mkdir(dataDir(name), { recursive: true });
      await copyFile(join(dataDir('a'), 'dev-issuer.jwk.json'), join(dataDir(name), 'dev-issuer.jwk.json'));
    }
    replicas = [first, ...(await Promise.all(['b', 'c'].map((name) => startReplica(name, env(name)))))];
    const issuer = await loadOrCreateDevIssuer(dataDir('a'));
    admin = await signDevToken(issuer, { subject: 'admin', scopes: ['graft:admin'], ttlSeconds: 600 });
    user = await signDevToken(issuer, { subject: 'alice', scopes: USER_SCOPES, ttlSeconds: 600 });
    const jwks = (await call<JSONWebKeySet>(`${first.url}/.well-known/jwks.json`)).body;
    examples = await startExamples({ jwks, issuer: 'graft-gateway' });
  });

  after(async () => {
    await Promise.all(replicas.map(stopReplica));
    await examples?.close();
    await postgres?.stop();
    await dir?.remove();
  });

  test('a publish through one replica is served by every replica', async () => {
    for (const name of ['crm', 'orders', 'inventory']) {
      const registered = await call(`${replicas[0]!.url}/admin/extensions`, { token: admin, body: { name, owner: 'examples' } });
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
    }
    let id = 0;
    for (const [index, name] of (['crm', 'orders', 'inventory'] as const).entries()) {
      // Each through another replica: every one of them writes the shared registry.
      const published = await publish(replicas[index]!, name);
      assert.equal(published.status, 201, JSON.stringify(published.body));
      id = published.body.supergraph.id as number;
    }
    await servedEverywhere(id);
    for (const replica of replicas) {
      const answer = await query(replica);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.errors, undefined, `replica ${replica.name}: ${JSON.stringify(answer.body.errors)}`);
      assert.equal(answer.body.data.customers.length, 2);
    }
  });

  test('every replica publishes the one upstream key set kept in the registry', async () => {
    const sets = await Promise.all(replicas.map(async (replica) => (await call<JSONWebKeySet>(`${replica.url}/.well-known/jwks.json`)).body));
    assert.equal(sets[0]?.keys.length, 1);
    for (const set of sets) assert.deepEqual(set, sets[0]);
  });

  test('exactly one replica leads', async () => {
    const leaders = await eventually('one leader', async () => {
      const all = await Promise.all(replicas.map(health));
      const leading = all.filter((h) => h.leader).length;
      return leading === 1 ? leading : undefined;
    });
    assert.equal(leaders, 1);
  });

  test('under a bounded load on every replica, two publishes fail no request', async () => {
    let stop = false;
    const outcomes = { ok: 0, failed: [] as string[] };
    // Two clients per replica, each at most 150 requests, until both publishes are served everywhere.
    const clients = replicas.flatMap((replica) =>
      Array.from({ length: 2 }, async () => {
        for (let sent = 0; sent < 150 && !stop; sent += 1) {
          const answer = await query(replica).catch((error: unknown) => ({ status: 0, body: { errors: [{ message: String(error) }] } }) as Answer);
          if (answer.status === 200 && answer.body.errors === undefined && answer.body.data?.customers?.length === 2) outcomes.ok += 1;
          else outcomes.failed.push(`${replica.name}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
        }
      }),
    );
    const first = await publish(replicas[1]!, 'crm', '1.0.1');
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const second = await publish(replicas[2]!, 'orders', '1.0.1');
    assert.equal(second.status, 201, JSON.stringify(second.body));
    await servedEverywhere(second.body.supergraph.id as number);
    stop = true;
    await Promise.all(clients);
    assert.deepEqual(outcomes.failed, []);
    assert.ok(outcomes.ok > 0);
  });

  test('PostgreSQL down: every replica keeps serving, publishes answer 503 REGISTRY_UNAVAILABLE, /health and /metrics say so; back: all recovers without a restart', async () => {
    const servedBefore = (await health(replicas[0]!)).supergraph?.id;
    postgres.stopServer('fast');
    try {
      for (const replica of replicas) {
        const down = await eventually(`replica ${replica.name} seeing the registry down`, async () => {
          const seen = await health(replica);
          return seen.registry.state === 'down' ? seen : undefined;
        });
        assert.equal(down.status, 'ok', 'it still serves');
        assert.equal(down.supergraph?.id, servedBefore, 'its last good supergraph');
        const answer = await query(replica);
        assert.equal(answer.status, 200);
        assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body.errors));
        const metrics = await fetch(`${replica.url}/metrics`).then((r) => r.text());
        assert.match(metrics, /^graft_registry_up 0$/m);
      }
      const refused = await publish(replicas[0]!, 'inventory', '1.0.1');
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.code, 'REGISTRY_UNAVAILABLE');
      assert.match(refused.body.message, /cannot be reached.*last good supergraph/);
    } finally {
      postgres.startServer();
    }
    for (const replica of replicas) {
      await eventually(`replica ${replica.name} seeing the registry back`, async () => ((await health(replica)).registry.state === 'up' ? true : undefined), 30_000);
      const metrics = await fetch(`${replica.url}/metrics`).then((r) => r.text());
      assert.match(metrics, /^graft_registry_up 1$/m);
    }
    const published = await publish(replicas[0]!, 'inventory', '1.0.1');
    assert.equal(published.status, 201, JSON.stringify(published.body));
    await servedEverywhere(published.body.supergraph.id as number);
  });

  test('when the leader dies another replica takes over', async () => {
    const all = await Promise.all(replicas.map(async (replica) => ({ replica, health: await health(replica) })));
    const leader = all.find((entry) => entry.health.leader)?.replica;
    assert.ok(leader, 'a leader');
    await stopReplica(leader);
    const survivors = replicas.filter((replica) => replica !== leader);
    const next = await eventually(
      'a new leader',
      async () => {
        const leading = [];
        for (const replica of survivors) if ((await health(replica)).leader) leading.push(replica.name);
        return leading.length === 1 ? leading[0] : undefined;
      },
      15_000,
    );
    assert.notEqual(next, leader.name);
    for (const replica of survivors) assert.equal((await query(replica)).status, 200);
  });
});

test('an unreachable GRAFT_REGISTRY_URL stops graft start with one line on stderr and exit code 2', async () => {
  const dir = await tempDir('graft-replica-bad-url-');
  try {
    const child = spawn(process.execPath, [GRAFT, 'start', '--no-examples'], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: '0', GRAFT_DATA_DIR: dir.path, GRAFT_REGISTRY_URL: 'postgres://graft:secret@127.0.0.1:1/registry', GRAFT_PG_CONNECT_TIMEOUT_MS: '2000' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // Bounded: a gateway that started anyway is stopped, and the exit code says so.
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(kill);
    assert.equal(code, 2, stderr);
    // bin/graft.js may first say it rebuilds a stale dist/: that line is its, not the refusal's.
    const lines = stderr.trim().split('\n').filter((line) => !line.startsWith('graft: dist/'));
    assert.equal(lines.length, 1, stderr);
    assert.match(stderr, /REGISTRY_UNAVAILABLE.*127\.0\.0\.1:1\/registry cannot be reached/);
    assert.doesNotMatch(stderr, /secret/);
  } finally {
    await dir.remove();
  }
});
