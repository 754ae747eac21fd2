// Anchor 2: Hive Gateway (@graphql-hive/gateway, its CLI), started the way The Guild's
// benchmark starts it (`NODE_ENV=production hive-gateway supergraph <file> --port <p> --jit`),
// with --fork 1: one serving process (fork 1 serves in the CLI's own process, no cluster).
// BENCH_HIVE_JIT=off drops --jit.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, freePort, type ReadyProcess } from '../lib/index.js';

export const HIVE_BIN = join(REPO_ROOT, 'node_modules', '@graphql-hive', 'gateway', 'dist', 'bin.js');

export async function startHive(supergraphFile: string, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ReadyProcess & { args: string[] }> {
  const port = await freePort();
  // Its own empty working directory: the CLI would otherwise load a gateway.config.* it finds.
  const cwd = await mkdtemp(join(tmpdir(), 'graft-bench-hive-'));
  const args = ['supergraph', supergraphFile, '--host', '127.0.0.1', '--port', String(port), '--fork', '1'];
  if (process.env['BENCH_HIVE_JIT'] !== 'off') args.push('--jit');
  const child = spawn(process.execPath, [HIVE_BIN, ...args], {
    cwd,
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString('utf8'));
    if (output.length > 50) output.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const stop = () =>
    new Promise<void>((resolve) => {
      const done = () => void rm(cwd, { recursive: true, force: true }).then(() => resolve());
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', done);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const response = await fetch(`${url}/readiness`);
      if (response.ok) return { child, ready: { event: 'ready', url, pid: child.pid }, stop, args };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`Hive Gateway was not ready within ${timeoutMs} ms (exit ${child.exitCode}):\n${output.join('')}`);
}
