// Graft against the anchors (issue 8): The Guild's federation scenario (bench/guild: the
// four subgraphs accounts, inventory, products, reviews, in one process) behind four
// gateways, one serving process each, on 127.0.0.1:
//   graft             Graft with auth, scopes, cost and query limits on (bench/gateway-process.ts)
//   graft-policy-off  the same Graft process, same registry, edge policy off (policy overhead)
//   apollo            plain @apollo/gateway + @apollo/server, no policy  (bench/contenders/apollo.ts)
//   hive              Hive Gateway CLI, --fork 1 --jit                    (bench/contenders/hive.ts)
// All of them serve the same supergraph (composed here with @apollo/composition; Graft composes
// the same four SDLs itself on publish, and the bench checks that both are the same). Every
// gateway must give the same answer, byte for byte after key sorting, before any load.
// Then autocannon, bounded in time, contenders alternating round by round, for the nested
// query (~87 KB per answer) and a small one-subgraph query (the fixed overhead per request).
// Then composition and `graft check` times for 10/50/200 generated subgraphs.
//
//   npm run bench        BENCH_DURATION=10 (s per run) BENCH_ROUNDS=3 BENCH_CONNECTIONS=50
//                        BENCH_SCALING=on|off BENCH_SCALING_ROUNDS=3 BENCH_SCALING_SIZES=10,50,200
//                        BENCH_NODE_ENV=production BENCH_HIVE_JIT=on|off BENCH_NOTE="..."
//                        BENCH_CONTENDERS=graft,graft-policy-off,apollo,hive (a subset; graft always runs)
//                        BENCH_GRAFT_NODE_ARGS="--flag ..." (extra node flags for both Graft processes)
//   A/B of a switch or a node flag, same run: BENCH_CONTENDERS=graft,graft-b with
//                        BENCH_GRAFT_B_ENV="GRAFT_UPSTREAM_BATCHING=0 ..." and/or BENCH_GRAFT_B_NODE_ARGS="..."
//                        (graft-b: a sibling of graft on the same registry; not in the default set)
// Writes bench/results/gateways.json (a subset or an A/B: gateways-<contenders>.json). Absolute numbers drift with the machine; the ratios
// are measured in the same run, on the same machine, under the same drift.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { runSchemaCheck, applySubgraphChanges } from '../gateway/checks/index.js';
import { composeSubgraphs } from '../gateway/composition/index.js';
import { cliRun, graph } from './check-scaling.js';
import { startGraft, startGraftSibling } from './contenders/graft.js';
import { startHive } from './contenders/hive.js';
import { NESTED_QUERY, SMALL_QUERY, composeGuildSupergraph } from './guild/index.js';
import { alternate, load, median, spawnReady, table, writeResult, type LoadResult, type ReadyProcess } from './lib/index.js';

const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
/** The Guild's constant scenario runs 50 virtual users. */
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP'] ?? 2);
const NODE_ENV = process.env['BENCH_NODE_ENV'] ?? 'production';
const SCALING = process.env['BENCH_SCALING'] !== 'off';
const SCALING_ROUNDS = Number(process.env['BENCH_SCALING_ROUNDS'] ?? 3);
const SCALING_SIZES = (process.env['BENCH_SCALING_SIZES'] ?? '10,50,200').split(',').map(Number);

const ALL_CONTENDERS = ['graft', 'graft-policy-off', 'graft-b', 'apollo', 'hive'] as const;
type Contender = (typeof ALL_CONTENDERS)[number];
const DEFAULT_CONTENDERS: readonly Contender[] = ['graft', 'graft-policy-off', 'apollo', 'hive'];
const CONTENDERS: readonly Contender[] = (() => {
  const asked = (process.env['BENCH_CONTENDERS'] ?? DEFAULT_CONTENDERS.join(',')).split(',').map((c) => c.trim());
  const unknown = asked.filter((c) => !(ALL_CONTENDERS as readonly string[]).includes(c));
  if (unknown.length > 0) throw new Error(`BENCH_CONTENDERS: unknown contender(s) ${unknown.join(', ')}; choose from ${ALL_CONTENDERS.join(', ')}`);
  return ALL_CONTENDERS.filter((c) => c === 'graft' || asked.includes(c));
})();
const words = (value: string | undefined) => (value ?? '').split(' ').filter(Boolean);
const GRAFT_NODE_ARGS = words(process.env['BENCH_GRAFT_NODE_ARGS']);
/** graft-b: what differs from graft (A/B in one run). */
const GRAFT_B = {
  env: Object.fromEntries(
    words(process.env['BENCH_GRAFT_B_ENV']).map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`BENCH_GRAFT_B_ENV: "${pair}" is not NAME=value`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  ) as Record<string, string>,
  nodeArgs: words(process.env['BENCH_GRAFT_B_NODE_ARGS']),
};
const QUERIES = { nested: NESTED_QUERY, small: SMALL_QUERY } as const;
type QueryName = keyof typeof QUERIES;

/** Goals of issue 8 on the nested query (per process, same run); policy overhead <= 5 %. */
const GOALS = { graftOverHive: 1.0, graftOverApollo: 1.3, policyOnOverOff: 0.95 };

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

/** JSON with object keys sorted at every level: "the same answer" ignoring key order. */
function canonical(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

function rssKiB(pid: number | undefined): { rssKiB: number; peakRssKiB: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    // Synchronous on purpose: read right after the last run, before anything stops.
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssKiB: field('VmRSS'), peakRssKiB: field('VmHWM') };
  } catch {
    return undefined;
  }
}

interface Summary {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  failed: number;
  runs: LoadResult[];
}

function summarize(runs: LoadResult[]): Summary {
  return {
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    latencyP50Ms: median(runs.map((r) => r.latencyP50Ms)),
    latencyP99Ms: median(runs.map((r) => r.latencyP99Ms)),
    // Errors, timeouts, non-2xx, and answers that are not byte-identical to the checked one.
    failed: runs.reduce((n, r) => n + r.errors + r.non2xx + r.mismatches, 0),
    runs,
  };
}

interface ScalingRow {
  subgraphs: number;
  types: number;
  compositionMs: { median: number; min: number; max: number };
  checkInProcessMs: { median: number; min: number; max: number };
  checkCliMs: number;
  verdict: string;
}

const spread = (values: number[]) => ({ median: Math.round(median(values)), min: Math.round(Math.min(...values)), max: Math.round(Math.max(...values)) });

/** Composition and `graft check` for generated graphs (bench/check-scaling.ts's typical topology). */
async function scaling(): Promise<ScalingRow[]> {
  const rows: ScalingRow[] = [];
  for (const n of SCALING_SIZES) {
    const { base, changed, ops } = graph(n, 'typical');
    const proposed = applySubgraphChanges(base, { replace: [changed] });
    const composition: number[] = [];
    const check: number[] = [];
    let verdict = '';
    for (let round = 0; round < SCALING_ROUNDS; round += 1) {
      let started = performance.now();
      const outcome = composeSubgraphs(base);
      composition.push(performance.now() - started);
      if (!outcome.ok) throw new Error(`generated graph of ${n} does not compose: ${outcome.errors.map((e) => e.message).join('; ')}`);
      started = performance.now();
      const report = await runSchemaCheck({ base, proposed, changedSubgraphs: [changed.name], operations: ops });
      check.push(performance.now() - started);
      verdict = report.verdict;
    }
    const cli = await cliRun(n, 'typical');
    const types = base.reduce((sum, s) => sum + (s.sdl.match(/^(type|enum|input|interface|union|scalar) /gm) ?? []).length, 0);
    rows.push({ subgraphs: n, types, compositionMs: spread(composition), checkInProcessMs: spread(check), checkCliMs: cli, verdict });
    log(`scaling ${n} subgraphs: compose ${Math.round(median(composition))} ms, check ${Math.round(median(check))} ms, CLI ${cli} ms`);
  }
  return rows;
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const loadBefore = loadavg();
  const work = await mkdtemp(join(tmpdir(), 'graft-bench-gateways-'));
  const processes: ReadyProcess[] = [];
  const pids: Partial<Record<Contender, number>> = {};
  try {
    // 1. The subgraphs, and the supergraph every gateway serves.
    const subgraphs = await spawnReady('bench/guild/server.ts', { PORT: '0' });
    processes.push(subgraphs);
    const subgraphUrls = subgraphs.ready['urls'] as Record<string, string>;
    const { supergraphSdl, ms: guildCompositionMs } = composeGuildSupergraph(subgraphUrls);
    const supergraphFile = join(work, 'supergraph.graphql');
    await writeFile(supergraphFile, supergraphSdl);
    log(`subgraphs up (pid ${subgraphs.child.pid}); supergraph composed in ${guildCompositionMs.toFixed(0)} ms`);

    // 2. Graft (bench/contenders/graft.ts): policy on, the four subgraphs published to it.
    const graftStarted = await startGraft({ workDir: work, subgraphUrls, nodeEnv: NODE_ENV, nodeArgs: GRAFT_NODE_ARGS });
    const graft = graftStarted.process;
    processes.push(graft);
    const graftUrl = graftStarted.url;
    pids.graft = graft.child.pid;
    const userToken = graftStarted.userToken;
    const sameSupergraph = graftStarted.supergraphSdl === supergraphSdl;
    if (!sameSupergraph) log('WARNING: the supergraph Graft composed differs from the one given to Apollo and Hive');
    log(`graft up (pid ${graft.child.pid}); four extensions published; same supergraph: ${sameSupergraph}`);

    const urls = { graft: `${graftUrl}/graphql` } as Record<Contender, string>;
    // The policy-overhead contender: the same gateway on the same registry, edge policy off.
    if (CONTENDERS.includes('graft-policy-off')) {
      const off = await startGraftSibling(graftStarted, { BENCH_EDGE_POLICY: 'off' });
      processes.push(off);
      pids['graft-policy-off'] = off.child.pid;
      urls['graft-policy-off'] = `${String(off.ready['url'])}/graphql`;
      log(`graft-policy-off up (pid ${off.child.pid})`);
    }

    if (CONTENDERS.includes('graft-b')) {
      const b = await startGraftSibling(graftStarted, GRAFT_B.env, GRAFT_B.nodeArgs);
      processes.push(b);
      pids['graft-b'] = b.child.pid;
      urls['graft-b'] = `${String(b.ready['url'])}/graphql`;
      log(`graft-b up (pid ${b.child.pid}; env ${JSON.stringify(GRAFT_B.env)}, node args ${JSON.stringify(GRAFT_B.nodeArgs)})`);
    }

    // 3. The anchors.
    let hiveArgs: string[] = [];
    if (CONTENDERS.includes('apollo')) {
      const apollo = await spawnReady('bench/contenders/apollo.ts', { SUPERGRAPH_FILE: supergraphFile, PORT: '0', NODE_ENV });
      processes.push(apollo);
      pids.apollo = apollo.child.pid;
      urls.apollo = `${String(apollo.ready['url'])}/graphql`;
      log(`apollo up (pid ${apollo.child.pid})`);
    }
    if (CONTENDERS.includes('hive')) {
      const hive = await startHive(supergraphFile, { NODE_ENV });
      processes.push(hive);
      pids.hive = hive.child.pid;
      hiveArgs = hive.args;
      urls.hive = `${String(hive.ready['url'])}/graphql`;
      log(`hive up (pid ${hive.child.pid}, hive-gateway ${hive.args.join(' ')})`);
    }
    // Every contender gets the same request bytes, token included (the anchors ignore it).
    const headers = { authorization: `Bearer ${userToken}` };

    // 4. The same answer everywhere, before any load.
    const answers: Record<QueryName, { bytes: Record<Contender, number>; canonicalBytes: number; subgraphFetches: Record<Contender, Record<string, number>> }> = {} as never;
    /** Each gateway's exact answer: every answer under load must be the same bytes. */
    const expected = {} as Record<QueryName, Record<Contender, string>>;
    for (const [name, query] of Object.entries(QUERIES) as Array<[QueryName, string]>) {
      const body = JSON.stringify({ query });
      const statsUrl = new URL('/stats', subgraphUrls['accounts']).href;
      const stats = async () => (await (await fetch(statsUrl)).json()) as Record<string, number>;
      const ask = async (contender: Contender) => {
        const before = await stats();
        const response = await fetch(urls[contender], { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
        const text = await response.text();
        if (response.status !== 200) throw new Error(`${contender} answered HTTP ${response.status} to the ${name} query: ${text.slice(0, 2000)}`);
        const parsed = JSON.parse(text) as { errors?: unknown; data?: unknown };
        if (parsed.errors || !parsed.data) throw new Error(`${contender} answered the ${name} query with errors: ${text.slice(0, 2000)}`);
        const after = await stats();
        const fetches = Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]));
        return { contender, text, bytes: Buffer.byteLength(text), canonical: canonical(parsed), fetches };
      };
      // One at a time, so that the subgraph counters tell what each gateway fetched.
      const got: Array<Awaited<ReturnType<typeof ask>>> = [];
      for (const contender of CONTENDERS) got.push(await ask(contender));
      const reference = got[0]!;
      for (const other of got.slice(1)) {
        if (other.canonical !== reference.canonical) {
          const at = [...other.canonical].findIndex((c, i) => c !== reference.canonical[i]);
          throw new Error(
            `${other.contender} and ${reference.contender} answer the ${name} query differently, from character ${at}:\n` +
              `${reference.contender}: ${reference.canonical.slice(Math.max(0, at - 200), at + 200)}\n${other.contender}: ${other.canonical.slice(Math.max(0, at - 200), at + 200)}`,
          );
        }
      }
      expected[name] = Object.fromEntries(got.map((g) => [g.contender, g.text])) as Record<Contender, string>;
      answers[name] = {
        bytes: Object.fromEntries(got.map((g) => [g.contender, g.bytes])) as Record<Contender, number>,
        canonicalBytes: Buffer.byteLength(reference.canonical),
        subgraphFetches: Object.fromEntries(got.map((g) => [g.contender, g.fetches])) as Record<Contender, Record<string, number>>,
      };
      const fetchCount = (c: Contender) => Object.values(answers[name].subgraphFetches[c]).reduce((a, b) => a + b, 0);
      log(`${name} query: the same answer from all ${CONTENDERS.length} (${(answers[name].canonicalBytes / 1024).toFixed(1)} KiB); subgraph fetches per request: ${CONTENDERS.map((c) => `${c} ${fetchCount(c)}`).join(', ')}`);
    }

    // 5. Load: warm-up, then alternating rounds.
    const loads = {} as Record<QueryName, Record<Contender, Summary>>;
    for (const [name, query] of Object.entries(QUERIES) as Array<[QueryName, string]>) {
      const body = JSON.stringify({ query });
      for (const contender of CONTENDERS) {
        await load(urls[contender], { body, headers, durationSeconds: WARMUP_SECONDS, connections: CONNECTIONS, expectBody: expected[name][contender] });
      }
      const results = await alternate(CONTENDERS, ROUNDS, async (contender, round) => {
        const result = await load(urls[contender], { body, headers, durationSeconds: DURATION, connections: CONNECTIONS, expectBody: expected[name][contender] });
        log(
          `${name} round ${round + 1}/${ROUNDS} ${contender}: ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.latencyP99Ms} ms, ` +
            `failed ${result.errors + result.non2xx} + ${result.mismatches} answers that differ from the checked one`,
        );
        return result;
      });
      loads[name] = Object.fromEntries(CONTENDERS.map((c) => [c, summarize(results[c])])) as Record<Contender, Summary>;
    }
    const memory = Object.fromEntries(CONTENDERS.map((c) => [c, rssKiB(pids[c])])) as Record<Contender, ReturnType<typeof rssKiB>>;
    const loadAfterGateways = loadavg();

    await Promise.all([...processes].reverse().map((p) => p.stop()));
    processes.length = 0;

    // 6. Composition and check scaling (nothing else running).
    const scalingRows = SCALING ? await scaling() : [];

    // 7. Report. A ratio whose contender did not run (BENCH_CONTENDERS) is null.
    const has = (c: Contender) => CONTENDERS.includes(c);
    const ratio = (q: QueryName, a: Contender, b: Contender) => (has(b) ? loads[q][a].requestsPerSecond / loads[q][b].requestsPerSecond : null);
    const p99Ratio = (q: QueryName, a: Contender, b: Contender) => (has(b) ? loads[q][a].latencyP99Ms / loads[q][b].latencyP99Ms : null);
    type Ratios = {
      graftOverApollo: number | null;
      graftOverHive: number | null;
      policyOnOverOff: number | null;
      graftOverGraftB: number | null;
      p99GraftOverApollo: number | null;
      p99GraftOverHive: number | null;
    };
    const ratios = Object.fromEntries(
      (Object.keys(QUERIES) as QueryName[]).map((q) => [
        q,
        {
          graftOverApollo: ratio(q, 'graft', 'apollo'),
          graftOverHive: ratio(q, 'graft', 'hive'),
          policyOnOverOff: ratio(q, 'graft', 'graft-policy-off'),
          graftOverGraftB: ratio(q, 'graft', 'graft-b'),
          p99GraftOverApollo: p99Ratio(q, 'graft', 'apollo'),
          p99GraftOverHive: p99Ratio(q, 'graft', 'hive'),
        } satisfies Ratios,
      ]),
    ) as Record<QueryName, Ratios>;
    const nested = ratios.nested;
    const atLeast = (value: number | null, goal: number) => ({ goal, value, met: value === null ? null : value >= goal });
    const p99s = [nested.p99GraftOverApollo, nested.p99GraftOverHive].filter((v): v is number => v !== null);
    const goals = {
      graftOverHive: atLeast(nested.graftOverHive, GOALS.graftOverHive),
      graftOverApollo: atLeast(nested.graftOverApollo, GOALS.graftOverApollo),
      policyOnOverOff: atLeast(nested.policyOnOverOff, GOALS.policyOnOverOff),
      p99NoWorse: { value: p99s.length > 0 ? Math.max(...p99s) : null, met: p99s.length > 0 ? p99s.every((v) => v <= 1) : null },
    };
    const verdict = (met: boolean | null) => (met === null ? 'not run' : met ? 'met' : 'NOT met');
    const fixed = (value: number | null) => (value === null ? '-' : value.toFixed(2));

    const mib = (kib: number | undefined) => (kib === undefined || Number.isNaN(kib) ? '-' : (kib / 1024).toFixed(0));
    const rows: string[][] = [['query', 'gateway', 'req/s (median)', 'p50 ms', 'p99 ms', 'failed', 'RSS MiB (peak)', 'Graft/this req/s', 'Graft/this p99']];
    for (const q of Object.keys(QUERIES) as QueryName[]) {
      for (const c of CONTENDERS) {
        const s = loads[q][c];
        rows.push([
          q,
          c,
          s.requestsPerSecond.toFixed(0),
          s.latencyP50Ms.toFixed(0),
          s.latencyP99Ms.toFixed(0),
          String(s.failed),
          `${mib(memory[c]?.rssKiB)} (${mib(memory[c]?.peakRssKiB)})`,
          c === 'graft' ? '-' : (s.requestsPerSecond === 0 ? '-' : (loads[q].graft.requestsPerSecond / s.requestsPerSecond).toFixed(2)),
          c === 'graft' ? '-' : (loads[q].graft.latencyP99Ms / s.latencyP99Ms).toFixed(2),
        ]);
      }
    }
    const cpu = cpus()[0]?.model ?? 'unknown';
    let out = `\nThe Guild federation scenario, ${DURATION} s x ${ROUNDS} rounds per gateway and query, ${CONNECTIONS} connections, alternating; one process per gateway; NODE_ENV=${NODE_ENV}.\n`;
    out += `Machine: ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average ${loadBefore[0]!.toFixed(2)} before, ${loadAfterGateways[0]!.toFixed(2)} after the load.\n`;
    out += `Nested answer ${(answers.nested.canonicalBytes / 1024).toFixed(1)} KiB, identical from all ${CONTENDERS.length} after key sorting; small answer ${answers.small.canonicalBytes} B.\n\n`;
    out += `${table(rows)}\n\n`;
    out += `Nested query goals: Graft/Hive ${fixed(nested.graftOverHive)} (goal >= ${GOALS.graftOverHive}: ${verdict(goals.graftOverHive.met)}), `;
    out += `Graft/Apollo ${fixed(nested.graftOverApollo)} (goal >= ${GOALS.graftOverApollo}: ${verdict(goals.graftOverApollo.met)}), `;
    out += `p99 no worse than either: ${verdict(goals.p99NoWorse.met)}.\n`;
    out += `Policy overhead: Graft policy on / off ${fixed(nested.policyOnOverOff)} on the nested query (goal >= ${GOALS.policyOnOverOff}: ${verdict(goals.policyOnOverOff.met)}), ${fixed(ratios.small.policyOnOverOff)} on the small one.\n`;
    if (has('graft-b')) out += `A/B: graft / graft-b ${fixed(nested.graftOverGraftB)} on the nested query, ${fixed(ratios.small.graftOverGraftB)} on the small one (graft-b: env ${JSON.stringify(GRAFT_B.env)}, node args ${JSON.stringify(GRAFT_B.nodeArgs)}).\n`;
    out += `RSS read from /proc/<pid>/status (VmRSS, peak VmHWM) after the last run. `;
    out += `"failed": errors, non-2xx and answers not byte-identical to the one checked before the load.\n`;
    const failedRuns = (Object.keys(QUERIES) as QueryName[]).flatMap((q) => CONTENDERS.filter((c) => loads[q][c].failed > 0).map((c) => `${c} (${q}): ${loads[q][c].failed}`));
    if (failedRuns.length > 0) out += `WARNING: failed answers make these figures invalid: ${failedRuns.join(', ')}.\n`;
    if (scalingRows.length > 0) {
      out += `\nComposition and graft check, generated graphs (typical topology of bench/check-scaling.ts), median of ${SCALING_ROUNDS}:\n`;
      out += `${table([
        ['subgraphs', 'types', 'compose ms', 'check in-process ms', 'graft check CLI ms'],
        ...scalingRows.map((r) => [String(r.subgraphs), String(r.types), String(r.compositionMs.median), String(r.checkInProcessMs.median), String(r.checkCliMs)]),
      ])}\n`;
    }
    process.stdout.write(out);

    // Only the full set of contenders writes gateways.json (the figures the README quotes); a
    // subset or an A/B writes beside it, so that an experiment never overwrites them.
    const isDefaultSet = CONTENDERS.length === DEFAULT_CONTENDERS.length && DEFAULT_CONTENDERS.every((c) => has(c));
    const path = await writeResult(isDefaultSet ? 'gateways' : `gateways-${CONTENDERS.join('-')}`, {
      benchmark: 'gateways',
      date: new Date().toISOString(),
      note: process.env['BENCH_NOTE'] ?? null,
      machine: { cpus: cpus().length, cpuModel: cpu, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverage: { before: loadBefore, afterLoad: loadAfterGateways, end: loadavg() } },
      settings: { durationSeconds: DURATION, rounds: ROUNDS, connections: CONNECTIONS, warmupSeconds: WARMUP_SECONDS, nodeEnv: NODE_ENV, hiveArgs, graftNodeArgs: GRAFT_NODE_ARGS, graftB: has('graft-b') ? GRAFT_B : null, contenders: CONTENDERS, subgraphCache: subgraphs.ready['cache'],
        graft: { maxCost: process.env['BENCH_GRAFT_MAX_COST'] ?? '50000', upstreamMaxConcurrent: process.env['BENCH_GRAFT_MAX_CONCURRENT'] || 'default (256)' } },
      scenario: {
        source: 'the-guild-org/graphql-gateways-benchmark (federation), reimplemented in bench/guild',
        subgraphProcess: 'one process for all four subgraphs (2-core machine)',
        supergraphCompositionMs: Math.round(guildCompositionMs),
        graftComposedTheSameSupergraph: sameSupergraph,
        graftPolicy: 'JWT verified (EdDSA, JWKS file), authorization (filter mode), static cost, query limits, scoped upstream tokens',
        graftPolicyOff: 'the same gateway process and registry with the edge policy off (JWT still verified, upstream tokens still minted)',
      },
      queries: { nested: NESTED_QUERY, small: SMALL_QUERY },
      answers,
      results: loads,
      ratios,
      goals,
      valid: (Object.keys(QUERIES) as QueryName[]).every((q) => CONTENDERS.every((c) => loads[q][c].failed === 0)),
      memory,
      scaling: scalingRows,
      totalSeconds: Math.round((Date.now() - startedAt) / 1000),
    });
    process.stdout.write(`\nwritten ${path} (${Math.round((Date.now() - startedAt) / 1000)} s in all)\n`);
  } finally {
    await Promise.all([...processes].reverse().map((p) => p.stop()));
    await rm(work, { recursive: true, force: true });
  }
}

await main();
