// Where Graft spends its CPU under the Guild scenario: starts the four subgraphs and a Graft
// gateway (policy on, as in bench/gateways.ts) under `node --cpu-prof`, loads it with the
// nested query (or PROFILE_QUERY=small), stops it so that V8 writes the profile, then
// prints self time by function (Graft's own code, gateway/**, apart), by package, and the
// inclusive time of Graft's functions.
//   node --import tsx bench/profile-graft.ts     (PROFILE_DURATION=10 PROFILE_QUERY=nested BENCH_CONNECTIONS=50)
// Writes bench/results/profile-graft.json; the raw .cpuprofile stays in a temp dir (printed),
// to open in Chrome DevTools or speedscope.
import { readdir, readFile, mkdtemp, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startGraft } from './contenders/graft.js';
import { NESTED_QUERY, SMALL_QUERY } from './guild/index.js';
import { REPO_ROOT, load, spawnReady, table, writeResult, type ReadyProcess } from './lib/index.js';

const DURATION = Number(process.env['PROFILE_DURATION'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
const QUERY_NAME = process.env['PROFILE_QUERY'] === 'small' ? 'small' : 'nested';
const QUERY = QUERY_NAME === 'small' ? SMALL_QUERY : NESTED_QUERY;
const TOP = Number(process.env['PROFILE_TOP'] ?? 25);

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** "graft" for gateway/**, the npm package for node_modules, "node" for built-ins, else the V8 pseudo-frame. */
function ownerOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node';
  const path = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const parts = path.slice(modules + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const inRepo = relative(REPO_ROOT, path);
  if (inRepo.startsWith('gateway/')) return 'graft';
  if (inRepo.startsWith('bench/') || inRepo.startsWith('subgraphs/')) return 'bench/other';
  return 'other';
}

function label(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  const path = frame.url.startsWith('file://') ? decodeURIComponent(new URL(frame.url).pathname) : frame.url;
  const modules = path.lastIndexOf('/node_modules/');
  const where = modules !== -1 ? path.slice(modules + '/node_modules/'.length) : relative(REPO_ROOT, path);
  // tsx hands V8 its transpiled TypeScript: for gateway/** the line is not the source's, the column tells functions apart.
  return frame.lineNumber === 0 ? `${name} ${where}:1:${frame.columnNumber + 1}` : `${name} ${where}:${frame.lineNumber + 1}`;
}

interface Row {
  function: string;
  owner: string;
  selfMs: number;
  selfPercent: number;
  totalMs?: number;
  totalPercent?: number;
}

/**
 * window: [from, to] in microseconds of CLOCK_MONOTONIC, the clock of both V8's profile
 * timestamps and process.hrtime on Linux: only the samples taken during the measured load
 * count (not start-up, publishing and composition, nor shutdown).
 */
function analyse(profile: CpuProfile, window?: { from: number; to: number }) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inWindow = window !== undefined && window.from >= profile.startTime && window.to <= profile.endTime + 1_000_000;
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (inWindow && (at < window.from || at > window.to)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idleUs = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((sum, n) => sum + (selfUs.get(n.id) ?? 0), 0);
  const busyUs = totalUs - idleUs;

  const self = new Map<string, { owner: string; us: number }>();
  const owners = new Map<string, number>();
  // Inclusive time: each sample counts once for every distinct function on its stack.
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') continue;
    const key = label(node.callFrame);
    const owner = ownerOf(node.callFrame.url, node.callFrame.functionName);
    const entry = self.get(key) ?? { owner, us: 0 };
    entry.us += us;
    self.set(key, entry);
    owners.set(owner, (owners.get(owner) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (ownerOf(frame.url, frame.functionName) !== 'graft') continue;
      const name = label(frame);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  const pct = (us: number) => Math.round((1000 * us) / busyUs) / 10;
  const ms = (us: number) => Math.round(us / 100) / 10;
  const selfRows: Row[] = [...self.entries()]
    .map(([fn, { owner, us }]) => ({ function: fn, owner, selfMs: ms(us), selfPercent: pct(us) }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return {
    window: inWindow ? 'the measured load only' : 'the whole process (the load window was not found in the profile)',
    wallMs: ms(profile.endTime - profile.startTime),
    sampledMs: ms(totalUs),
    busyMs: ms(busyUs),
    idlePercent: Math.round((1000 * idleUs) / totalUs) / 10,
    byOwner: [...owners.entries()].map(([owner, us]) => ({ owner, selfMs: ms(us), selfPercent: pct(us) })).sort((a, b) => b.selfMs - a.selfMs),
    topSelf: selfRows.slice(0, TOP),
    topSelfGraft: selfRows.filter((r) => r.owner === 'graft').slice(0, TOP),
    topInclusiveGraft: [...inclusive.entries()]
      .map(([fn, us]) => ({ function: fn, owner: 'graft', selfMs: ms(self.get(fn)?.us ?? 0), selfPercent: pct(self.get(fn)?.us ?? 0), totalMs: ms(us), totalPercent: pct(us) }))
      .sort((a, b) => (b.totalMs ?? 0) - (a.totalMs ?? 0))
      .slice(0, TOP),
  };
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'graft-profile-'));
  const profileDir = join(work, 'cpuprofile');
  const processes: ReadyProcess[] = [];
  try {
    const subgraphs = await spawnReady('bench/guild/server.ts', { PORT: '0' });
    processes.push(subgraphs);
    const graft = await startGraft({
      workDir: work,
      subgraphUrls: subgraphs.ready['urls'] as Record<string, string>,
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
    });
    processes.push(graft.process);
    const url = `${graft.url}/graphql`;
    const body = JSON.stringify({ query: QUERY });
    const headers = { authorization: `Bearer ${graft.userToken}` };
    const check = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
    const text = await check.text();
    if (check.status !== 200 || text.includes('"errors"')) throw new Error(`Graft answered HTTP ${check.status}: ${text.slice(0, 1000)}`);
    await load(url, { body, headers, durationSeconds: 2, connections: CONNECTIONS }); // warm-up, left out of the analysis
    const from = Number(process.hrtime.bigint() / 1000n);
    const result = await load(url, { body, headers, durationSeconds: DURATION, connections: CONNECTIONS, expectBody: text });
    const to = Number(process.hrtime.bigint() / 1000n);
    process.stderr.write(`[profile] ${QUERY_NAME}: ${result.requestsPerSecond.toFixed(0)} req/s under the profiler, p99 ${result.latencyP99Ms} ms, failed ${result.errors + result.non2xx + result.mismatches}\n`);
    await graft.process.stop(); // SIGTERM: clean exit, V8 writes the profile
    processes.splice(processes.indexOf(graft.process), 1);

    // The main thread's profile is the largest (tsx's loader thread writes a small one).
    const files = await Promise.all((await readdir(profileDir)).map(async (f) => ({ f, size: (await stat(join(profileDir, f))).size })));
    const main = files.sort((a, b) => b.size - a.size)[0];
    if (!main) throw new Error(`no profile was written in ${profileDir}`);
    const profilePath = join(profileDir, main.f);
    const summary = analyse(JSON.parse(await readFile(profilePath, 'utf8')) as CpuProfile, { from, to });

    const show = (rows: Row[], withTotal = false) =>
      table([
        withTotal ? ['total %', 'self %', 'function (file:line)'] : ['self %', 'self ms', 'owner', 'function (file:line)'],
        ...rows.map((r) => (withTotal ? [r.totalPercent!.toFixed(1), r.selfPercent.toFixed(1), r.function] : [r.selfPercent.toFixed(1), r.selfMs.toFixed(0), r.owner, r.function])),
      ]);
    let out = `\nGraft under the ${QUERY_NAME} query, ${DURATION} s, ${CONNECTIONS} connections: ${result.requestsPerSecond.toFixed(0)} req/s with the profiler on.\n`;
    out += `Profile: ${profilePath}\nSamples from ${summary.window}. Busy ${summary.busyMs} ms of ${summary.sampledMs} ms sampled (idle ${summary.idlePercent}%). Percentages are of busy time.\n\n`;
    out += `Self time by owner:\n${table([['self %', 'self ms', 'owner'], ...summary.byOwner.slice(0, 20).map((o) => [o.selfPercent.toFixed(1), o.selfMs.toFixed(0), o.owner])])}\n\n`;
    out += `Top ${TOP} functions by self time:\n${show(summary.topSelf)}\n\n`;
    out += `Graft's own functions (gateway/**) by self time:\n${show(summary.topSelfGraft)}\n\n`;
    out += `Graft's own functions by inclusive time (what runs under them, dependencies included):\n${show(summary.topInclusiveGraft, true)}\n`;
    process.stdout.write(out);
    const path = await writeResult('profile-graft', {
      benchmark: 'profile-graft',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage: loadavg() },
      settings: { query: QUERY_NAME, durationSeconds: DURATION, connections: CONNECTIONS },
      load: result,
      profile: profilePath,
      ...summary,
    });
    process.stdout.write(`written ${path}\n`);
  } finally {
    await Promise.all(processes.reverse().map((p) => p.stop()));
  }
}

await main();
