// Start-up figures, each the median of BENCH_ROUNDS fresh processes (default 5):
//   - `npm start` (the real start: examples started, registered and published, on a fresh
//     data dir) until the README's tour query first answers with data and no error;
//   - `graft token` (a whole CLI process, until it exits);
//   - `graft check` as a CLI at 50 subgraphs (bench/check-scaling.ts's graph and run).
// Each with the CPU time its processes used (for `npm start`: until the first answer),
// which depends much less than the wall time on the load of a shared machine.
//   npm run bench:startup                (BENCH_ROUNDS=5)
// Goals on a 2-core machine: 3 s, 1 s, 3 s. Writes bench/results/startup.json.
// Runs the compiled dist/ as users do: build it first if the sources changed.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateDevIssuer, signDevToken } from '../gateway/auth/index.js';
import { freeConsecutivePorts } from '../test/helpers/index.js';
import { cliRun } from './check-scaling.js';
import { REPO_ROOT, machineFacts, median, table, writeResult } from './lib/index.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const TOUR_QUERY = '{ customers(first: 2) { id name orders { id total items { quantity product { name stock } } } } }';
const GOALS_MS = { start: 3000, token: 1000, check: 3000 } as const;

/** Fields of /proc/<pid>/stat after "pid (comm) ": [0] state, [2] pgrp, [11] utime, [12] stime, [13] cutime, [14] cstime (clock ticks of 10 ms). */
function procStat(pid: string): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  } catch {
    return undefined; // gone meanwhile
  }
}

const ticksToMs = (fields: string[], from: number, to: number) => fields.slice(from, to + 1).reduce((sum, ticks) => sum + Number(ticks) * 10, 0);

/**
 * CPU time (user + system, ms) used so far by the processes of group `pgid` and by their
 * finished children (Linux /proc). On a shared machine the wall time depends on the
 * others' load; this much less, so both are reported.
 */
function groupCpuMs(pgid: number): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    const fields = procStat(pid);
    if (fields && Number(fields[2]) === pgid) total += ticksToMs(fields, 11, 14);
  }
  return total;
}

/** CPU time (ms) of this process's finished children and theirs (spawnSync waits, so all are counted). */
function childrenCpuMs(): number {
  return ticksToMs(procStat('self')!, 13, 14);
}

interface Measure {
  wallMs: number;
  cpuMs: number;
}

function measuredSync(run: () => number | Promise<number>): Promise<Measure> {
  const cpuBefore = childrenCpuMs();
  return Promise.resolve(run()).then((wallMs) => ({ wallMs, cpuMs: childrenCpuMs() - cpuBefore }));
}

/** One `npm start` on a fresh data dir: ms until the tour query answers with data and no error. */
async function startToFirstTourAnswer(): Promise<Measure> {
  const dataDir = await mkdtemp(join(tmpdir(), 'graft-startup-bench-'));
  // The dev issuer's key, created before the start (the start loads it): the bench can sign
  // the query's token up front and ask from the first millisecond on.
  const token = await signDevToken(await loadOrCreateDevIssuer(dataDir), { subject: 'alice', scopes: ['crm:read', 'orders:read', 'inventory:read'], ttlSeconds: 600 });
  const base = await freeConsecutivePorts(5);
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, GRAFT_DATA_DIR: dataDir, PORT: String(base), EXAMPLES_PORT_BASE: String(base + 1), GRAFT_LOG_LEVEL: 'warn' },
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode} before answering`);
      if (performance.now() - started > 60_000) throw new Error('npm start did not answer the tour query within 60 s');
      try {
        const response = await fetch(`http://127.0.0.1:${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: TOUR_QUERY }),
        });
        const body = (await response.json()) as { data?: { customers?: unknown[] }; errors?: unknown[] };
        if (!body.errors && (body.data?.customers?.length ?? 0) > 0) return { wallMs: performance.now() - started, cpuMs: groupCpuMs(child.pid!) };
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      const force = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      // The whole group: npm does not wait for graft, which stops its examples itself.
      process.kill(-child.pid!, 'SIGTERM');
    });
    await rm(dataDir, { recursive: true, force: true });
  }
}

function tokenCommand(): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'graft.js'), 'token', '--sub', 'me'], { cwd: REPO_ROOT, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (result.status !== 0 || !/^ey/.test(result.stdout)) throw new Error(`graft token failed: ${result.stderr}`);
  return ms;
}

async function main(): Promise<void> {
  const built = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build.js'), '--if-stale'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build failed');
  const loadBefore = loadavg()[0]!;
  const runs = { start: [] as Measure[], token: [] as Measure[], check: [] as Measure[] };
  for (let round = 0; round < ROUNDS; round += 1) {
    runs.start.push(await startToFirstTourAnswer());
    runs.token.push(await measuredSync(tokenCommand));
    runs.check.push(await measuredSync(() => cliRun(50, 'typical')));
  }
  const figures = Object.fromEntries(
    (Object.keys(runs) as Array<keyof typeof runs>).map((name) => {
      const values = runs[name].map((m) => Math.round(m.wallMs));
      const cpu = runs[name].map((m) => Math.round(m.cpuMs));
      return [
        name,
        { medianMs: median(values), minMs: Math.min(...values), maxMs: Math.max(...values), runs: values, cpuMedianMs: median(cpu), cpuRuns: cpu, goalMs: GOALS_MS[name], met: median(values) <= GOALS_MS[name] },
      ];
    }),
  ) as Record<keyof typeof runs, { medianMs: number; minMs: number; maxMs: number; runs: number[]; cpuMedianMs: number; cpuRuns: number[]; goalMs: number; met: boolean }>;
  const labels = { start: 'npm start → first tour answer', token: 'graft token', check: 'graft check CLI, 50 subgraphs' };
  console.log(
    table([
      ['figure', 'median ms', 'min-max ms', 'CPU ms (median)', 'goal ms', ''],
      ...(Object.keys(figures) as Array<keyof typeof figures>).map((name) => {
        const f = figures[name];
        return [labels[name], String(f.medianMs), `${f.minMs}-${f.maxMs}`, String(f.cpuMedianMs), String(f.goalMs), f.met ? 'met' : 'NOT met'];
      }),
    ]),
  );
  const path = await writeResult('startup', {
    benchmark: 'startup',
    ...machineFacts(loadBefore),
    rounds: ROUNDS,
    figures: Object.fromEntries((Object.keys(figures) as Array<keyof typeof figures>).map((name) => [labels[name], figures[name]])),
  });
  console.log(`\nLoad average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after, on ${cpus().length} CPUs. Wrote ${path}`);
  if (Object.values(figures).some((f) => !f.met)) process.exitCode = 1;
}

await main();
