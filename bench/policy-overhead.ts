// Policy overhead: the same query through Graft with the edge policy on (authorization,
// cost, query limits) and off, in one run, alternating. Goal: on/off throughput >= 0.95.
//   npm run bench:policy            (BENCH_DURATION=10 BENCH_ROUNDS=3 BENCH_CONNECTIONS=32)
// Both gateways mint upstream tokens (the examples require them): what differs is the edge
// policy alone.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateDevIssuer, signDevToken } from '../gateway/auth/index.js';
import { GRAFT_NODE_FLAGS } from '../gateway/config/index.js';
import { loadDirectiveSources } from '../gateway/directives/index.js';
import { REPO_ROOT, alternate, load, median, spawnReady, table, writeResult, type ReadyProcess } from './lib/index.js';

const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const QUERY = '{ customers(first: 2) { id name email orders { id total status items { quantity product { name price stock } } } } }';

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'graft-bench-'));
  const processes: ReadyProcess[] = [];
  try {
    const issuer = await loadOrCreateDevIssuer(dataDir);
    const admin = await signDevToken(issuer, { subject: 'bench-admin', scopes: ['graft:admin'], ttlSeconds: 3600 });
    const user = await signDevToken(issuer, {
      subject: 'bench-user',
      scopes: ['crm:read', 'crm:pii', 'orders:read', 'inventory:read'],
      ttlSeconds: 3600,
    });
    const env = { GRAFT_DATA_DIR: dataDir, PORT: '0' };
    const on = await spawnReady('bench/gateway-process.ts', env, 60_000, GRAFT_NODE_FLAGS);
    processes.push(on);
    const onUrl = String(on.ready['url']);
    for (const name of ['privacy', 'crm', 'orders', 'inventory']) {
      const example = await spawnReady(`subgraphs/${name}/server.ts`, {
        PORT: '0',
        GRAFT_GATEWAY_JWKS_URL: `${onUrl}/.well-known/jwks.json`,
        GRAFT_GATEWAY_ISSUER: 'graft-gateway',
      });
      processes.push(example);
      const manifest = JSON.parse(await readFile(join(REPO_ROOT, 'subgraphs', name, 'graft.json'), 'utf8')) as Record<string, any>;
      const sdl = await readFile(join(REPO_ROOT, 'subgraphs', name, `${name}.graphql`), 'utf8');
      manifest['subgraph'] = { ...manifest['subgraph'], url: String(example.ready['url']) };
      const manifestPath = join(REPO_ROOT, 'subgraphs', name, 'graft.json');
      const directiveModules = manifest['directives'] ? await loadDirectiveSources(manifestPath, manifest as never) : undefined;
      const headers = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
      await fetch(`${onUrl}/admin/extensions`, { method: 'POST', headers, body: JSON.stringify({ name, owner: 'bench' }) });
      const published = await fetch(`${onUrl}/admin/extensions/${name}/versions`, { method: 'POST', headers, body: JSON.stringify({ manifest, sdl, ...(directiveModules ? { directiveModules } : {}) }) });
      if (published.status !== 201) throw new Error(`publish ${name}: ${await published.text()}`);
    }
    // Same data dir: same registry, same upstream signing key, so the examples accept both.
    const off = await spawnReady('bench/gateway-process.ts', { ...env, BENCH_EDGE_POLICY: 'off' }, 60_000, GRAFT_NODE_FLAGS);
    processes.push(off);
    const urls = { 'policy on': `${onUrl}/graphql`, 'policy off': `${String(off.ready['url'])}/graphql` } as const;

    const body = JSON.stringify({ query: QUERY });
    const headers = { authorization: `Bearer ${user}` };
    const answers = await Promise.all(
      Object.values(urls).map(async (url) => {
        const response = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
        return response.text();
      }),
    );
    if (answers[0] !== answers[1] || answers[0]!.includes('"errors"')) throw new Error(`the gateways answer differently or with errors:\n${answers.join('\n')}`);

    for (const url of Object.values(urls)) await load(url, { body, headers, durationSeconds: 2, connections: CONNECTIONS }); // warm-up
    const results = await alternate(['policy on', 'policy off'] as const, ROUNDS, (contender) =>
      load(urls[contender], { body, headers, durationSeconds: DURATION, connections: CONNECTIONS }),
    );
    const summary = Object.fromEntries(
      Object.entries(results).map(([name, runs]) => [
        name,
        {
          requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
          latencyP99Ms: median(runs.map((r) => r.latencyP99Ms)),
          failed: runs.reduce((n, r) => n + r.errors + r.non2xx, 0),
          runs,
        },
      ]),
    ) as Record<'policy on' | 'policy off', { requestsPerSecond: number; latencyP99Ms: number; failed: number; runs: unknown[] }>;
    const ratio = summary['policy on'].requestsPerSecond / summary['policy off'].requestsPerSecond;
    process.stdout.write(
      `\n${table([
        ['contender', 'req/s (median)', 'p99 ms', 'failed'],
        ...(['policy on', 'policy off'] as const).map((n) => [n, summary[n].requestsPerSecond.toFixed(0), summary[n].latencyP99Ms.toFixed(1), String(summary[n].failed)]),
      ])}\n\npolicy on / off throughput: ${ratio.toFixed(3)} (goal >= 0.95)\n`,
    );
    const path = await writeResult('policy-overhead', {
      date: new Date().toISOString(),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      query: QUERY,
      settings: { durationSeconds: DURATION, rounds: ROUNDS, connections: CONNECTIONS },
      ratio,
      summary,
    });
    process.stdout.write(`written ${path}\n`);
  } finally {
    await Promise.all(processes.reverse().map((p) => p.stop()));
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
