// How `graft check` scales with the number of subgraphs. Generates graphs of 10, 50 and 200
// subgraphs (~20 types each; entities shared by @key across subgraphs, with references and
// contributed fields, enums, inputs and operations), then times a check of a one-field
// change: in process (runSchemaCheck, both compositions included) and, at 50 subgraphs, one
// `graft check` CLI run as CI pays for it (node start, tsx, reading the files).
//   node --import tsx bench/check-scaling.ts        (BENCH_ROUNDS=3, BENCH_SIZES=10,50,200)
// Goal: under 3 s at 50 subgraphs (typical topology). Two topologies are measured (see
// Topology) because composition's cost follows how densely entities are shared.
// Writes bench/results/check-scaling.json.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { applySubgraphChanges, runSchemaCheck, type OperationDocument, type SchemaCheckReport } from '../gateway/checks/index.js';
import type { SubgraphInput } from '../gateway/composition/index.js';
import { machineFacts } from './lib/index.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const SIZES = (process.env['BENCH_SIZES'] ?? '10,50,200').split(',').map(Number);
const CLI_SIZE = 50;
const GOAL_MS = 3000;

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@external", "@requires"])';

/** The entity each subgraph owns; the others reference it or add fields to it by key. */
const entity = (i: number) => `Entity${i}`;

/**
 * How entities are shared. typical: every subgraph references the next one's entity by key,
 * every other subgraph also extends a neighbour's entity with fields of its own, and every
 * fourth one computes a field with @requires. dense (a stress case): every subgraph extends
 * the entities of its next two neighbours, each with a @requires field.
 */
export type Topology = 'typical' | 'dense';

function extendedBy(i: number, n: number, topology: Topology): Array<{ j: number; requires: boolean }> {
  if (n < 3) return [];
  if (topology === 'dense') return [1, 2].map((d) => ({ j: (i + d) % n, requires: true }));
  return i % 2 === 0 ? [{ j: (i + 1) % n, requires: i % 4 === 0 }] : [];
}

/** Subgraph i: owns Entity{i} and three keyed types of its own, value types, enums, inputs: ~20 types. */
function subgraphSdl(i: number, n: number, topology: Topology): string {
  const s = `S${i}`;
  const ext = extendedBy(i, n, topology);
  const ref = (i + 3) % n;
  const parts: string[] = [LINK, ''];
  parts.push(`"The entity owned by subgraph ${i}."`);
  parts.push(`type ${entity(i)} @key(fields: "id") {\n  id: ID!\n  name: String!\n  weight: Int!\n  status: ${s}Status!\n  tags: [String!]!\n  details: ${s}Details\n  items(first: Int = 10, filter: ${s}Filter): [${s}Item!]!\n}`);
  for (const { j, requires } of ext) {
    const computed = requires ? `  weight: Int! @external\n  ${s.toLowerCase()}Score: Float @requires(fields: "weight")\n` : '';
    parts.push(`type ${entity(j)} @key(fields: "id") {\n  id: ID!\n${computed}  ${s.toLowerCase()}Records: [${s}Record!]!\n}`);
  }
  const referenced = ref !== i && !ext.some((e) => e.j === ref);
  if (referenced) parts.push(`type ${entity(ref)} @key(fields: "id", resolvable: false) {\n  id: ID!\n}`);
  for (const kind of ['Item', 'Record', 'Invoice']) {
    parts.push(`type ${s}${kind} @key(fields: "id") {\n  id: ID!\n  label: String!\n  amount: ${s}Money!\n  kind: ${s}Kind!\n  createdAt: String!\n  owner: ${entity(referenced ? ref : i)}\n}`);
  }
  for (const value of ['Money', 'Details', 'Address', 'Audit', 'Metric', 'Window', 'Flag', 'Note']) {
    parts.push(`type ${s}${value} {\n  value: Float\n  unit: String\n  note: String\n  source: ${s}Source\n}`);
  }
  for (const en of ['Status', 'Kind', 'Source']) parts.push(`enum ${s}${en} {\n  ALPHA\n  BETA\n  GAMMA\n  DELTA\n}`);
  parts.push(`input ${s}Filter {\n  query: String\n  kinds: [${s}Kind!]\n  range: ${s}Range\n}`);
  parts.push(`input ${s}Range {\n  from: Int\n  to: Int\n}`);
  parts.push(
    `type Query {\n  ${s.toLowerCase()}Entity(id: ID!): ${entity(i)}\n  ${s.toLowerCase()}Entities(first: Int = 20, filter: ${s}Filter): [${entity(i)}!]!\n  ${s.toLowerCase()}Invoices(status: ${s}Status): [${s}Invoice!]!\n}`,
  );
  parts.push(`type Mutation {\n  ${s.toLowerCase()}Rename(id: ID!, name: String!): ${entity(i)}\n}`);
  return `${parts.join('\n\n')}\n`;
}

function operations(n: number, topology: Topology): OperationDocument[] {
  return Array.from({ length: n }, (_, i) => {
    const s = `s${i}`;
    // A field another subgraph contributes to Entity{i}, when there is one: the query crosses subgraphs.
    const extender = Array.from({ length: n }, (_, k) => k).find((k) => extendedBy(k, n, topology).some((e) => e.j === i && e.requires));
    return {
      file: `operations/${s}.graphql`,
      source: `query ${s.toUpperCase()}Detail($id: ID!) {\n  ${s}Entity(id: $id) {\n    id\n    name\n    status\n    items(first: 5) { id label amount { value unit } }\n    ${extender === undefined ? 'weight' : `s${extender}Score`}\n  }\n}\n\nquery ${s.toUpperCase()}List {\n  ${s}Entities { id name tags details { value note } }\n}\n`,
    };
  });
}

export function graph(n: number, topology: Topology): { base: SubgraphInput[]; changed: SubgraphInput; ops: OperationDocument[] } {
  const base = Array.from({ length: n }, (_, i) => ({ name: `svc${i}`, url: `http://svc${i}.invalid/graphql`, sdl: subgraphSdl(i, n, topology) }));
  const target = base[Math.floor(n / 2)]!;
  // The one-field change: a new nullable field on the subgraph's own entity.
  const changed = { ...target, sdl: target.sdl.replace('  tags: [String!]!\n', '  tags: [String!]!\n  nickname: String\n') };
  return { base, changed, ops: operations(n, topology) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function typeCount(sdl: string): number {
  return (sdl.match(/^(type|enum|input|interface|union|scalar) /gm) ?? []).length;
}

interface Row {
  topology: Topology;
  subgraphs: number;
  types: number;
  operations: number;
  inProcessMs: { median: number; min: number; max: number; runs: number };
  verdict: string;
  changes: number;
  cliMs?: number;
}

async function inProcess(n: number, topology: Topology): Promise<Row> {
  const { base, changed, ops } = graph(n, topology);
  const proposed = applySubgraphChanges(base, { replace: [changed] });
  const times: number[] = [];
  let report: SchemaCheckReport | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    report = await runSchemaCheck({ base, proposed, changedSubgraphs: [changed.name], operations: ops });
    times.push(performance.now() - started);
  }
  if (report!.verdict !== 'safe' || report!.affectedOperations.length + report!.operationsFailingOnBase.length > 0) {
    throw new Error(`${topology} graph of ${n}: the change should be safe for every operation: ${JSON.stringify(report, null, 1).slice(0, 2000)}`);
  }
  return {
    topology,
    subgraphs: n,
    types: base.reduce((sum, s) => sum + typeCount(s.sdl), 0),
    operations: ops.length * 2,
    inProcessMs: { median: Math.round(median(times)), min: Math.round(Math.min(...times)), max: Math.round(Math.max(...times)), runs: times.length },
    verdict: report!.verdict,
    changes: report!.changes.length,
  };
}

/** One `graft check` as CI runs it (a fresh node process), on files laid out like schema/. */
export async function cliRun(n: number, topology: Topology): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'graft-check-bench-'));
  try {
    const { base, changed, ops } = graph(n, topology);
    await mkdir(join(dir, 'schema', 'subgraphs'), { recursive: true });
    await mkdir(join(dir, 'schema', 'operations'), { recursive: true });
    await Promise.all(base.map((s) => writeFile(join(dir, 'schema', 'subgraphs', `${s.name}.graphql`), s.sdl)));
    await Promise.all(ops.map((o) => writeFile(join(dir, 'schema', o.file), o.source)));
    await writeFile(join(dir, `${changed.name}.graphql`), changed.sdl);
    const args = [join(REPO_ROOT, 'bin', 'graft.js'), 'check', '--base', 'schema', '--subgraph', `${changed.name}=${changed.name}.graphql`, '--operations', 'schema/operations', '--format', 'json'];
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
    const ms = performance.now() - started;
    if (result.status !== 0) throw new Error(`graft check exited ${result.status}: ${result.stderr}`);
    JSON.parse(result.stdout); // the CI contract: one JSON object on stdout
    return Math.round(ms);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What `node bin/graft.js --help` costs: the CLI's start-up, paid by every command. */
function cliStartupMs(): number {
  const started = performance.now();
  spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'graft.js'), '--help'], { encoding: 'utf8' });
  return Math.round(performance.now() - started);
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const rows: Row[] = [];
  for (const topology of ['typical', 'dense'] as const) {
    for (const n of SIZES) {
      const row = await inProcess(n, topology);
      if (n === CLI_SIZE) row.cliMs = await cliRun(n, topology);
      rows.push(row);
    }
  }
  const startup = cliStartupMs();

  const header = ['topology', 'subgraphs', 'types', 'operations', 'runSchemaCheck median (min-max) ms', 'graft check CLI ms'];
  const lines = rows.map((r) => [
    r.topology,
    String(r.subgraphs),
    String(r.types),
    String(r.operations),
    `${r.inProcessMs.median} (${r.inProcessMs.min}-${r.inProcessMs.max})`,
    r.cliMs === undefined ? '-' : String(r.cliMs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const print = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  print(header);
  for (const line of lines) print(line);
  console.log(`\nCLI start-up alone (graft --help): ${startup} ms. Load average: ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after, on ${cpus().length} CPUs.`);

  const typical = rows.find((r) => r.topology === 'typical' && r.subgraphs === CLI_SIZE);
  const goal = typical?.cliMs === undefined ? undefined : { subgraphs: CLI_SIZE, topology: 'typical', limitMs: GOAL_MS, cliMs: typical.cliMs, met: typical.cliMs < GOAL_MS };
  if (goal) console.log(`Goal: one graft check at ${CLI_SIZE} subgraphs (typical topology) under ${GOAL_MS} ms: ${goal.met ? 'met' : 'NOT met'} (${goal.cliMs} ms).`);

  const out = join(REPO_ROOT, 'bench', 'results', 'check-scaling.json');
  await mkdir(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  const result = {
    benchmark: 'check-scaling',
    ...machineFacts(loadBefore),
    rounds: ROUNDS,
    change: 'one nullable field added to one subgraph entity',
    cliStartupMs: startup,
    rows,
    goal,
  };
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`Wrote ${out}`);
  if (goal && !goal.met) process.exitCode = 1;
}

// Run as a script; bench/gateways.ts imports graph() and cliRun() without running it.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
