// Shared benchmark plumbing: child processes that announce readiness with one JSON line,
// bounded loopback load with autocannon, and alternating rounds so that the drift of a
// shared, noisy machine hits every contender alike. Absolute numbers drift; the ratios
// measured in the same run are what the benchmarks report.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A free loopback port, for programs that cannot listen on port 0 and say which port they got. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ReadyProcess {
  child: ChildProcess;
  ready: Record<string, unknown>;
  stop(): Promise<void>;
}

/**
 * Spawns `node [nodeArgs] --import tsx <script>` and resolves with its first {"event":"ready"}
 * line. nodeArgs: flags NODE_OPTIONS refuses, e.g. --cpu-prof.
 */
export function spawnReady(script: string, env: Record<string, string>, timeoutMs = 60_000, nodeArgs: readonly string[] = []): Promise<ReadyProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(REPO_ROOT, script)], {
    cwd: REPO_ROOT,
    env: { ...process.env, GRAFT_LOG_LEVEL: 'warn', ...env, GRAFT_EXIT_WITH_PARENT: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} was not ready within ${timeoutMs} ms`)), timeoutMs);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const event = JSON.parse(line) as Record<string, unknown>;
        if (event['event'] === 'ready') {
          clearTimeout(timer);
          resolve({ child, ready: event, stop });
        }
      } catch {
        // other output
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with code ${code} before it was ready`));
    });
  });
}

export interface LoadResult {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  errors: number;
  non2xx: number;
  /** Answers whose body differed from options.expectBody (0 when none was given). */
  mismatches: number;
  requests: number;
}

/**
 * A bounded load on one loopback URL: `durationSeconds` long, `connections` at once. With
 * `expectBody`, every answer is compared with it byte for byte (a gateway that degrades to
 * partial answers or errors under load is caught, not rewarded).
 */
export async function load(
  url: string,
  options: { body: string; headers: Record<string, string>; durationSeconds: number; connections: number; expectBody?: string },
): Promise<LoadResult> {
  if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(url)) throw new Error(`load only targets loopback, not ${url}`);
  const result = await autocannon({
    url,
    method: 'POST',
    body: options.body,
    headers: { 'content-type': 'application/json', ...options.headers },
    duration: options.durationSeconds,
    connections: options.connections,
    ...(options.expectBody === undefined ? {} : { expectBody: options.expectBody }),
  });
  return {
    requestsPerSecond: result.requests.average,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    mismatches: result.mismatches ?? 0,
    requests: result.requests.total,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Runs `rounds` rounds, each contender once per round, in alternating order. */
export async function alternate<T extends string>(
  contenders: readonly T[],
  rounds: number,
  run: (contender: T, round: number) => Promise<LoadResult>,
): Promise<Record<T, LoadResult[]>> {
  const results = Object.fromEntries(contenders.map((c) => [c, [] as LoadResult[]])) as Record<T, LoadResult[]>;
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const contender of order) results[contender].push(await run(contender, round));
  }
  return results;
}

/** Where a figure was measured: the header of every bench result. */
export function machineFacts(loadBefore: number): { date: string; node: string; cpus: number; cpuModel: string; loadAverage: { before: number; after: number } } {
  return { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', loadAverage: { before: loadBefore, after: loadavg()[0]! } };
}

export async function writeResult(name: string, data: unknown): Promise<string> {
  const path = join(REPO_ROOT, 'bench', 'results', `${name}.json`);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

export function table(rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
