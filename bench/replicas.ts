// Replicas on PostgreSQL (issue 15), on 127.0.0.1 only, with The Guild's four subgraphs:
//   1. release-to-served latency: three Graft processes on one PostgreSQL registry (a
//      throwaway cluster, test/helpers/postgres.ts), 20 releases through replica 1; for each
//      replica, the time from the publish's answer (the commit) until its /health serves
//      the new supergraph. Replica 1 swaps before it answers, so its figure is ~0.
//   2. throughput of one Graft on PostgreSQL against one on SQLite, on the Guild's nested
//      query (the request path must not touch the database: the two should be within noise).
// Reuses the gateways bench's pieces (bench/contenders/graft.ts, bench/lib).
//
//   npm run bench:replicas    BENCH_RELEASES=20 BENCH_DURATION=10 BENCH_ROUNDS=3 BENCH_CONNECTIONS=50
// Writes bench/results/replicas.json.
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestPostgres } from '../test/helpers/index.js';
import { startGraft, startGraftSibling, type StartedGraft } from './contenders/graft.js';
import { NESTED_QUERY, SUBGRAPHS } from './guild/index.js';
import { alternate, load, median, spawnReady, table, writeResult, type ReadyProcess } from './lib/index.js';

const RELEASES = Number(process.env['BENCH_RELEASES'] ?? 20);
const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 50);

const log = (line: string): void => void process.stdout.write(`${line}\n`);

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function servedId(url: string): Promise<number | undefined> {
  const health = (await (await fetch(`${url}/health`)).json()) as { supergraph: { id: number } | null };
  return health.supergraph?.id;
}

/** Polls every replica's /health (every 2 ms) until it serves `id`; the ms each took from `since`. */
async function timeToServe(urls: string[], id: number, since: number): Promise<number[]> {
  return Promise.all(
    urls.map(async (url) => {
      const deadline = since + 30_000;
      while (Date.now() < deadline) {
        if ((await servedId(url)) === id) return Date.now() - since;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      throw new Error(`${url} did not serve supergraph #${id} within 30 s`);
    }),
  );
}

async function releaseLatency(graft: StartedGraft, replicas: string[], reviewsUrl: string): Promise<number[][]> {
  const headers = { authorization: `Bearer ${graft.adminToken}`, 'content-type': 'application/json' };
  const reviews = SUBGRAPHS.find((s) => s.name === 'reviews')!;
  const perReplica: number[][] = replicas.map(() => []);
  // As bench/contenders/graft.ts published it, one patch version up per release.
  const manifest = { name: 'reviews', owner: 'bench', subgraph: { url: reviewsUrl, schema: './reviews.graphql' }, grants: ['reviews:read'], limits: { timeoutMs: 5000 } };
  for (let release = 1; release <= RELEASES; release += 1) {
    const version = `1.0.${release}`;
    const published = await fetch(`${graft.url}/admin/extensions/reviews/versions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ manifest: { ...manifest, version }, sdl: reviews.sdl }),
    });
    const committedAt = Date.now();
    if (published.status !== 201) throw new Error(`release ${release}: HTTP ${published.status} ${await published.text()}`);
    const { supergraph } = (await published.json()) as { supergraph: { id: number } };
    const times = await timeToServe(replicas, supergraph.id, committedAt);
    times.forEach((ms, index) => perReplica[index]!.push(ms));
  }
  return perReplica;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'graft-bench-replicas-'));
  const processes: ReadyProcess[] = [];
  const postgres = await startTestPostgres();
  try {
    const subgraphs = await spawnReady('bench/guild/server.ts', { PORT: '0' });
    processes.push(subgraphs);
    const subgraphUrls = subgraphs.ready['urls'] as Record<string, string>;

    // 1. Three replicas on one PostgreSQL registry.
    const registryUrl = await postgres.createDatabase();
    const pgGraft = await startGraft({ workDir: join(work, 'pg'), subgraphUrls, env: { GRAFT_REGISTRY_URL: registryUrl, GRAFT_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') } });
    processes.push(pgGraft.process);
    const siblings = await Promise.all([1, 2].map(() => startGraftSibling(pgGraft, {})));
    processes.push(...siblings);
    const replicas = [pgGraft.url, ...siblings.map((s) => String(s.ready['url']))];
    log(`3 replicas on PostgreSQL up; ${RELEASES} releases through replica 1`);
    const latencies = await releaseLatency(pgGraft, replicas, subgraphUrls['reviews']!);
    const latency = latencies.map((values, index) => ({
      replica: index + 1,
      p50Ms: Number(percentile(values, 50).toFixed(1)),
      p99Ms: Number(percentile(values, 99).toFixed(1)),
      maxMs: Number(Math.max(...values).toFixed(1)),
    }));
    log(table([['replica', 'p50 ms', 'p99 ms', 'max ms'], ...latency.map((l) => [String(l.replica), String(l.p50Ms), String(l.p99Ms), String(l.maxMs)])]));

    // 2. One replica on PostgreSQL against one on SQLite (the siblings stop first: one serving process each).
    await Promise.all(siblings.map((s) => s.stop()));
    const sqliteGraft = await startGraft({ workDir: join(work, 'sqlite'), subgraphUrls });
    processes.push(sqliteGraft.process);
    const body = JSON.stringify({ query: NESTED_QUERY });
    const targets = { postgres: pgGraft, sqlite: sqliteGraft } as const;
    const results = await alternate(['postgres', 'sqlite'] as const, ROUNDS, (contender) =>
      load(`${targets[contender].url}/graphql`, { body, headers: { authorization: `Bearer ${targets[contender].userToken}` }, durationSeconds: DURATION, connections: CONNECTIONS }),
    );
    const throughput = Object.fromEntries(
      Object.entries(results).map(([name, runs]) => [
        name,
        { requestsPerSecondMedian: Number(median(runs.map((r) => r.requestsPerSecond)).toFixed(1)), runs: runs.map((r) => ({ rps: r.requestsPerSecond, p99Ms: r.latencyP99Ms, errors: r.errors + r.non2xx })) },
      ]),
    );
    log(table([['registry', 'req/s (median)'], ...Object.entries(throughput).map(([name, t]) => [name, String(t.requestsPerSecondMedian)])]));

    const path = await writeResult('replicas', {
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, loadAverage: loadavg() },
      settings: { releases: RELEASES, durationSeconds: DURATION, rounds: ROUNDS, connections: CONNECTIONS, query: 'guild nested' },
      releaseToServed: { measuredFrom: 'the publish answer (commit) to the replica /health serving it', replicas: latency },
      throughput,
    });
    log(`written to ${path}`);
  } finally {
    for (const process of processes.reverse()) await process.stop().catch(() => undefined);
    await postgres.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
