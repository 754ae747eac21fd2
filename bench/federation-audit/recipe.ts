// Graft's gateway recipe for the federation-gateway-audit: the runner execs `run.sh <suite>`
// (which execs this file) once per suite and stops it with SIGTERM when the suite is done.
//
// 1. `graft start --no-examples` with default settings, a fresh data dir, on a free port;
// 2. every subgraph of the suite (GET /<suite>/subgraphs on the audit's server) published as
//    ONE release (POST /admin/releases) with a dev admin token;
// 3. only then a pass-through on the port gateway.json names, so the runner's health wait
//    and its queries reach a Graft that has the suite loaded. The pass-through forwards bytes
//    unchanged (gateway.json's health URL is Graft's /readiness through it) and records each
//    GraphQL answer, so the harness can tell a pass that came from an error answer.
//
// What it learns goes to <outDir>/<suite>.{load.json,tests.json,answers.jsonl,pid}.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateDevIssuer, signDevToken } from '../../gateway/auth/index.js';
import { REPO_ROOT, freePort } from '../lib/index.js';
import { extensionNames, releaseBody, type AuditSubgraph, type RecordedAnswer, type SuiteLoad } from './index.js';

export interface RecipeConfig {
  /** Port of the audit's server (`serve`): subgraphs, tests. */
  auditPort: number;
  /** Port of the pass-through: gateway.json's graphql and health URLs. */
  tapPort: number;
  /** Where the recipe writes what it learns about each suite. */
  outDir: string;
}

export const RECIPE_CONFIG_FILE = 'graft-audit.json';

const suite = process.argv[2];
if (!suite || !/^[a-z0-9-]+$/.test(suite)) {
  process.stderr.write('usage: recipe.ts <suite-id>\n');
  process.exit(2);
}
const config = JSON.parse(await readFile(RECIPE_CONFIG_FILE, 'utf8')) as RecipeConfig;
const out = (ext: string) => join(config.outDir, `${suite}.${ext}`);
const log = (message: string) => process.stdout.write(`[graft recipe ${suite}] ${message}\n`);

let graft: ChildProcess | undefined;
let dataDir: string | undefined;
let tap: ReturnType<typeof createServer> | undefined;
let stopping = false;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    tap?.closeAllConnections();
    tap?.close();
    const child = graft;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(forced);
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
  process.exit(code);
}
process.once('SIGTERM', () => void stop(0));
process.once('SIGINT', () => void stop(0));
// The runner pipes our stdio: when it goes away, so do we (and Graft with us).
process.stdin.once('end', () => void stop(0));
process.stdin.resume();

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (graft && graft.exitCode !== null) throw new Error(`Graft exited (code ${graft.exitCode}) before ${what}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Default settings: nothing of the caller's GRAFT_* or NODE_ENV leaks into the gateway. */
function defaultEnv(port: number, dir: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('GRAFT_') && key !== 'NODE_ENV'));
  return {
    ...env,
    HOST: '127.0.0.1',
    PORT: String(port),
    GRAFT_DATA_DIR: dir,
    // The example app's persisted operations belong to the examples, not to this graph.
    GRAFT_OPERATIONS_DIR: '',
    // The audit's subgraphs listen on localhost. Loopback is allowed outside production
    // already (gateway/netpolicy); said explicitly so the recipe does not hang on that default.
    GRAFT_NET_ALLOW_LOOPBACK: 'true',
  };
}

async function publish(graftUrl: string, token: string, subgraphs: AuditSubgraph[]): Promise<SuiteLoad> {
  const names = extensionNames(subgraphs);
  const renamed = Object.fromEntries([...names].filter(([from, to]) => from !== to));
  const response = await fetch(`${graftUrl}/admin/releases`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(releaseBody(suite!, subgraphs)),
  });
  const body = (await response.json().catch(() => null)) as Record<string, any> | null;
  if (response.ok) {
    const supergraph = body?.['supergraph'] as { id?: number; members?: Array<{ extension: string; version: string }> } | undefined;
    const members = (supergraph?.members ?? []).map((m) => `${m.extension}@${m.version}`).join(', ');
    return { suite: suite!, loaded: true, detail: `release #${body?.['release']?.['id'] ?? '?'}: supergraph #${supergraph?.id ?? '?'} (${members})`, renamed };
  }
  // A refused release lists every finding of every member, each naming its extension.
  const findings = ((body?.['details']?.['findings'] ?? []) as Array<{ code?: string; extension?: string; message?: string }>)
    .map((f) => `${f.extension ?? '?'}: ${f.code ?? '?'}: ${f.message ?? ''}`)
    .join(' | ');
  return {
    suite: suite!,
    loaded: false,
    detail: `release refused: HTTP ${response.status} ${String(body?.['code'] ?? '')}: ${String(body?.['message'] ?? '')}${findings ? ` (${findings})` : ''}`,
    renamed,
  };
}

function startTap(graftPort: number): Promise<void> {
  tap = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const requestBody = Buffer.concat(chunks);
      const path = req.url ?? '/';
      const headers: IncomingHttpHeaders = { ...req.headers, host: `127.0.0.1:${graftPort}` };
      const upstream = httpRequest({ host: '127.0.0.1', port: graftPort, method: req.method, path, headers }, (answer) => {
        const answerChunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => answerChunks.push(chunk));
        answer.on('end', () => {
          const answerBody = Buffer.concat(answerChunks);
          if (req.method === 'POST' && path.startsWith('/graphql')) record(requestBody, answer.statusCode ?? 0, answerBody);
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(answerBody);
        });
      });
      upstream.on('error', (error) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`pass-through: Graft did not answer (${error.message})`);
      });
      upstream.end(requestBody);
    });
  });
  return new Promise((resolve, reject) => {
    tap!.once('error', reject);
    tap!.listen(config.tapPort, '127.0.0.1', () => resolve());
  });
}

function record(requestBody: Buffer, status: number, answerBody: Buffer): void {
  let query = '';
  let operationName: string | null = null;
  try {
    const parsed = JSON.parse(requestBody.toString('utf8')) as { query?: string; operationName?: string };
    query = parsed.query ?? '';
    operationName = parsed.operationName ?? null;
  } catch {
    // not JSON: recorded with an empty query
  }
  let body: RecordedAnswer['body'] = null;
  try {
    body = JSON.parse(answerBody.toString('utf8')) as RecordedAnswer['body'];
  } catch {
    // not JSON: recorded as no body
  }
  const answer: RecordedAnswer = { query, operationName, status, body };
  appendFileSync(out('answers.jsonl'), `${JSON.stringify(answer)}\n`);
}

try {
  dataDir = await mkdtemp(join(tmpdir(), 'graft-audit-data-'));
  // The dev issuer's key first, so the admin token and Graft share it.
  const issuer = await loadOrCreateDevIssuer(dataDir);
  const token = await signDevToken(issuer, { subject: 'federation-audit', scopes: ['graft:admin'], ttlSeconds: 3600 });

  const graftPort = await freePort();
  const graftUrl = `http://127.0.0.1:${graftPort}`;
  graft = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'graft.js'), 'start', '--no-examples'], {
    cwd: REPO_ROOT,
    env: defaultEnv(graftPort, dataDir),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await writeFile(out('pid'), `${graft.pid}\n`);
  graft.once('exit', (code, signal) => {
    if (!stopping) {
      log(`Graft exited unexpectedly (code ${code}, signal ${signal})`);
      void stop(1);
    }
  });
  await waitFor('Graft listening', 120_000, async () => (await fetch(`${graftUrl}/health`)).ok);

  const auditUrl = `http://127.0.0.1:${config.auditPort}/${suite}`;
  const [subgraphs, tests] = await Promise.all([getJson<AuditSubgraph[]>(`${auditUrl}/subgraphs`), getJson<unknown[]>(`${auditUrl}/tests`)]);
  await writeFile(out('tests.json'), JSON.stringify(tests));

  const load = await publish(graftUrl, token, subgraphs);
  await writeFile(out('load.json'), JSON.stringify(load));
  log(load.detail);
  if (load.loaded) {
    // 503 until the supergraph is served (gateway/readiness).
    await waitFor('Graft ready', 60_000, async () => (await fetch(`${graftUrl}/readiness`)).ok);
  }
  // Open even when the suite did not load: the runner then gets Graft's own answer at once.
  await startTap(graftPort);
  log(`ready: pass-through on 127.0.0.1:${config.tapPort} to Graft on ${graftUrl}`);
} catch (error) {
  log(`failed: ${error instanceof Error ? error.message : String(error)}`);
  await writeFile(out('load.json'), JSON.stringify({ suite, loaded: false, detail: `recipe failed: ${error instanceof Error ? error.message : String(error)}`, renamed: {} } satisfies SuiteLoad)).catch(() => undefined);
  await stop(1);
}
