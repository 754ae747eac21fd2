// `npm run audit:federation`: The Guild's federation-gateway-audit (46 suites, 199 tests,
// MIT) against Graft with default settings, each suite published as one release.
//
// Copies the audit (FEDERATION_AUDIT_SOURCE, else shared/federation-gateway-audit in the
// nearest ancestor folder of this checkout) to a temporary folder, installs it there, adds
// Graft's gateway recipe (gateways/graft: run.sh + gateway.json, see federation-audit/recipe.ts),
// runs the audit's own runner over every suite, and writes bench/results/federation-audit.txt.
// Exit code 0 when the goals of issue 14 hold (score >= Apollo Gateway's 193, every suite
// loaded, no pass from an error answer), 1 when not, 2 when the audit could not run.
// --keep keeps the temporary folder (the runner's logs are in gateways/graft/logs).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, freePort } from './lib/index.js';
import {
  formatReport,
  goalFailures,
  judgeSuite,
  parseRunnerResults,
  summarize,
  type AuditTest,
  type RecordedAnswer,
  type SuiteLoad,
} from './federation-audit/index.js';

const RECIPE = join(REPO_ROOT, 'bench', 'federation-audit', 'recipe.ts');
const RESULT_FILE = join(REPO_ROOT, 'bench', 'results', 'federation-audit.txt');
/** The whole audit takes minutes; past this something hangs. */
const RUN_TIMEOUT_MS = 45 * 60_000;

const keep = process.argv.includes('--keep');
const started = Date.now();
const children = new Set<ChildProcess>();
let workDir: string | undefined;

function findAuditSource(): string {
  const fromEnv = process.env['FEDERATION_AUDIT_SOURCE'];
  if (fromEnv) return resolve(fromEnv);
  for (let dir = resolve(REPO_ROOT); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'federation-gateway-audit');
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error('federation-gateway-audit not found: set FEDERATION_AUDIT_SOURCE to its folder (a checkout with RUNNING-HERE.md).');
}

/** Runs a command to its end in its own process group (so cleanup can stop all of it). */
function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<number> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  children.add(child);
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      stopGroup(child);
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${options.timeoutMs / 60_000} min`));
    }, options.timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolvePromise(code ?? 1);
    });
  });
}

function stopGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

/** Stops what this run started: the runner's process group, then any Graft a recipe left behind. */
async function cleanup(): Promise<void> {
  for (const child of children) stopGroup(child);
  if (!workDir) return;
  const outDir = join(workDir, 'audit', 'gateways', 'graft', 'out');
  for (const file of existsSync(outDir) ? await readdir(outDir) : []) {
    if (!file.endsWith('.pid')) continue;
    const pid = Number((await readFile(join(outDir, file), 'utf8')).trim());
    // Only while that pid is still the Graft the recipe started (pids are reused).
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!commandLine.includes(join('bin', 'graft.js'))) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  if (keep) process.stdout.write(`kept ${workDir}\n`);
  else await rm(workDir, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function readAnswers(path: string): Promise<RecordedAnswer[]> {
  if (!existsSync(path)) return [];
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RecordedAnswer);
}

async function main(): Promise<number> {
  const source = findAuditSource();
  workDir = await mkdtemp(join(tmpdir(), 'graft-federation-audit-'));
  const auditDir = join(workDir, 'audit');
  process.stdout.write(`== federation-gateway-audit: copying ${source} to ${auditDir}\n`);
  await cp(source, auditDir, { recursive: true, filter: (path) => !/[/\\](node_modules|logs|\.git)$/.test(path) });

  process.stdout.write('== npm install --ignore-scripts (the audit and its subgraph servers)\n');
  const installCode = await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: auditDir, timeoutMs: 10 * 60_000 });
  if (installCode !== 0) throw new Error(`npm install in the audit copy failed with exit code ${installCode}`);

  // Graft's recipe, beside the audit's own gateways/apollo-gateway.
  const recipeDir = join(auditDir, 'gateways', 'graft');
  const outDir = join(recipeDir, 'out');
  await mkdir(outDir, { recursive: true });
  const auditPort = await freePort();
  const tapPort = await freePort();
  const tsx = fileURLToPath(import.meta.resolve('tsx'));
  await writeFile(
    join(recipeDir, 'run.sh'),
    `#!/bin/sh\n# Graft, started with default settings, the suite "$1" published as one release (see ${RECIPE}).\nexec "${process.execPath}" --import "${tsx}" "${RECIPE}" "$1"\n`,
  );
  await chmod(join(recipeDir, 'run.sh'), 0o755);
  await writeFile(
    join(recipeDir, 'gateway.json'),
    `${JSON.stringify(
      {
        name: 'Graft',
        repository: 'https://github.com/graft-dev/graft',
        website: 'https://graft.dev',
        graphql: `http://127.0.0.1:${tapPort}/graphql`,
        // Graft's readiness probe: 503 until a supergraph is served.
        health: `http://127.0.0.1:${tapPort}/readiness`,
      },
      null,
      2,
    )}\n`,
  );
  await writeFile(join(recipeDir, 'graft-audit.json'), JSON.stringify({ auditPort, tapPort, outDir }));

  // Node 20 lacks Promise.withResolvers, which the runner uses (RUNNING-HERE.md).
  const polyfill = join(auditDir, 'node20-polyfill.mjs');
  const nodeOptions = [process.env['NODE_OPTIONS'], typeof (Promise as { withResolvers?: unknown }).withResolvers === 'function' ? undefined : `--import ${polyfill}`]
    .filter(Boolean)
    .join(' ');
  const gateway = JSON.parse(await readFile(join(recipeDir, 'gateway.json'), 'utf8')) as { graphql: string; health: string };
  process.stdout.write(`== running every suite (audit server on 127.0.0.1:${auditPort}, Graft behind 127.0.0.1:${tapPort})\n`);
  const runnerStarted = Date.now();
  const runnerCode = await run(
    process.execPath,
    [join(auditDir, 'node_modules', 'tsx', 'dist', 'cli.mjs'), './src/cli.ts', 'test', '--cwd', './gateways/graft', '--run-script', './run.sh', '--reporter', 'dot', '--graphql', gateway.graphql, '--healthcheck', gateway.health, '--port', String(auditPort), '--write', 'results.txt'],
    // The runner's wait for a gateway to be healthy (GATEWAY_TIMEOUT, 5 s by default) covers
    // Graft's start and the release's composition, on a loaded 2-core machine too.
    { cwd: auditDir, env: { ...process.env, NODE_OPTIONS: nodeOptions, GATEWAY_TIMEOUT: '120000' }, timeoutMs: RUN_TIMEOUT_MS },
  );
  const runnerSeconds = (Date.now() - runnerStarted) / 1000;
  const resultsText = await readFile(join(recipeDir, 'results.txt'), 'utf8').catch(() => undefined);
  if (runnerCode !== 0 || resultsText === undefined) throw new Error(`the audit runner failed (exit code ${runnerCode}${resultsText === undefined ? ', no results.txt' : ''})`);

  const outcomes = parseRunnerResults(resultsText);
  const reports = [];
  for (const suite of outcomes.keys()) {
    const tests = (await readJson<AuditTest[]>(join(outDir, `${suite}.tests.json`))) ?? [];
    reports.push(
      judgeSuite({
        suite,
        outcomes: outcomes.get(suite) ?? [],
        tests,
        answers: await readAnswers(join(outDir, `${suite}.answers.jsonl`)),
        load: await readJson<SuiteLoad>(join(outDir, `${suite}.load.json`)),
      }),
    );
  }
  const summary = summarize(reports);
  const packageJson = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const report = formatReport({ reports, summary, seconds: runnerSeconds, node: process.version, graft: packageJson.version });
  await mkdir(dirname(RESULT_FILE), { recursive: true });
  await writeFile(RESULT_FILE, report);

  const failures = goalFailures(summary);
  process.stdout.write(`\n== federation-gateway-audit: ${summary.passed}/${summary.total} passed over ${summary.suites} suites (runner ${Math.round(runnerSeconds)} s, all of it ${Math.round((Date.now() - started) / 1000)} s)\n`);
  process.stdout.write(`   per suite and per test: ${RESULT_FILE}\n`);
  for (const failure of failures) process.stdout.write(`   GOAL NOT MET: ${failure}\n`);
  return failures.length === 0 ? 0 : 1;
}

let exitCode: number;
try {
  exitCode = await main();
} catch (error) {
  process.stderr.write(`audit:federation: ${error instanceof Error ? error.message : String(error)}\n`);
  exitCode = 2;
}
await cleanup();
process.exit(exitCode);
