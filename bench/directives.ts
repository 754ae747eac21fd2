// Resolver directives: the cost of transforming 1,000 field values in one response, through
// the same result step the gateway runs (walk the response, batch the values per directive,
// one QuickJS call, validate, write back). Goal: under 5 ms per response on this machine.
//   node --import tsx bench/directives.ts          (BENCH_ITERATIONS=300 BENCH_WARMUP=50)
// Writes bench/results/directives.json. The subgraph fetch is not part of it: the step gets
// an execution result as @apollo/gateway hands it over.
import { cpus } from 'node:os';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { buildSchema, parse } from 'graphql';
import { supergraphHash } from '../gateway/composition/index.js';
import { DirectiveRuntime, loadDirectiveSources, modulesOfVersion } from '../gateway/directives/index.js';
import { loadManifestFile } from '../gateway/manifest/index.js';
import { customers } from '../subgraphs/seed/index.js';
import { REPO_ROOT, median, table, writeResult } from './lib/index.js';

const ITERATIONS = Number(process.env['BENCH_ITERATIONS'] ?? 300);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 50);
const VALUES = 1000;
const GOAL_MS = 5;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

interface Scenario {
  name: string;
  query: string;
  data: () => Record<string, unknown>;
  runtime: DirectiveRuntime;
  sdl: string;
  apiSdl: string;
  /** The transformed response must satisfy this (the benchmark measures real work). */
  check: (data: Record<string, unknown>) => boolean;
}

function requestContext(query: string, schema: ReturnType<typeof buildSchema>): GatewayGraphQLRequestContext {
  const document = parse(query);
  return {
    request: { query, variables: {} },
    document,
    operationName: null,
    context: { principal: { tenant: 'acme' } },
    schema,
  } as unknown as GatewayGraphQLRequestContext;
}

async function main(): Promise<void> {
  const manifestPath = join(REPO_ROOT, 'subgraphs', 'privacy', 'graft.json');
  const { manifest } = await loadManifestFile(manifestPath);
  const modules = modulesOfVersion({ extension: 'privacy', version: manifest.version, manifest, directiveModules: await loadDirectiveSources(manifestPath, manifest) });
  const runtime = await DirectiveRuntime.create();

  // The committed graph: crm's Customer.email carries @mask (FIELD_DEFINITION).
  const supergraph = await readFile(join(REPO_ROOT, 'schema', 'supergraph.graphql'), 'utf8');
  const api = await readFile(join(REPO_ROOT, 'schema', 'api.graphql'), 'utf8');
  // A graph with dates, for @formatDate applied from operations.
  const datesApi = 'type Query { events: [Event!]! } type Event { id: ID! at: String! }';
  const datesSupergraph = `extend schema @link(url: "https://graft.dev/directives/privacy/v1.0", import: ["@mask", "@formatDate"])\n${datesApi}`;

  const emails = () => ({ customers: Array.from({ length: VALUES }, (_, i) => ({ id: `c${i + 1}`, email: customers[i % 45]!.email ?? 'someone@example.com' })) });
  const start = Date.UTC(2024, 0, 1);
  const dates = () => ({ events: Array.from({ length: VALUES }, (_, i) => ({ id: String(i), at: new Date(start + i * 7_654_321).toISOString() })) });
  const allMasked = (key: string, field: string) => (data: Record<string, unknown>) =>
    (data[key] as Array<Record<string, string>>).every((row) => /^\*+.{1,4}$/u.test(row[field]!));

  const scenarios: Scenario[] = [
    {
      name: '@mask from the schema (crm Customer.email)',
      query: '{ customers { id email } }',
      data: emails,
      runtime,
      sdl: supergraph,
      apiSdl: api,
      check: allMasked('customers', 'email'),
    },
    {
      name: 'schema @mask + operation @mask(keep: 2)',
      query: '{ customers { id email @mask(keep: 2) } }',
      data: emails,
      runtime,
      sdl: supergraph,
      apiSdl: api,
      check: allMasked('customers', 'email'),
    },
    {
      name: 'operation @formatDate(tz: "Europe/Paris")',
      query: '{ events { id at @formatDate(pattern: "EEE d MMM yyyy HH:mm XXX", tz: "Europe/Paris") } }',
      data: dates,
      runtime,
      sdl: datesSupergraph,
      apiSdl: datesApi,
      check: (data) => (data['events'] as Array<{ at: string }>).every((e) => /^\w{3} \d{1,2} \w{3} \d{4} \d\d:\d\d \+0[12]:00$/.test(e.at)),
    },
    {
      name: 'no directive in the response (the step only looks)',
      query: '{ customers { id } }',
      data: emails,
      runtime,
      sdl: supergraph,
      apiSdl: api,
      check: () => true,
    },
  ];

  const results: Record<string, { medianMs: number; p95Ms: number; minMs: number; values: number }> = {};
  for (const scenario of scenarios) {
    const apiSchema = buildSchema(scenario.apiSdl);
    scenario.runtime.stage(supergraphHash(scenario.sdl), modules);
    const step = scenario.runtime.resultStep({ sdl: scenario.sdl, apiSchema });
    const context = requestContext(scenario.query, apiSchema);
    const times: number[] = [];
    for (let i = 0; i < WARMUP + ITERATIONS; i += 1) {
      const result: GatewayExecutionResult = { data: scenario.data() };
      const started = performance.now();
      const out = await step(result, context);
      const elapsed = performance.now() - started;
      if (out.errors?.length || !out.data || !scenario.check(out.data)) throw new Error(`${scenario.name}: unexpected result ${JSON.stringify(out).slice(0, 300)}`);
      if (i >= WARMUP) times.push(elapsed);
    }
    results[scenario.name] = { medianMs: median(times), p95Ms: percentile(times, 0.95), minMs: Math.min(...times), values: scenario.name.startsWith('no directive') ? 0 : VALUES };
  }

  // The sandbox alone: one call with 1,000 values, and the fixed cost of a call.
  const mask = modules.find((m) => m.name === 'mask')!;
  const sandboxTimes = (count: number) => {
    const values = Array.from({ length: count }, (_, i) => customers[i % 45]!.email ?? 'someone@example.com');
    const batch = { values, args: [{ keep: 4 }], argOf: values.map(() => 0), contexts: [{ locale: null, tenant: null, variables: {} }], contextOf: values.map(() => 0) };
    const times: number[] = [];
    for (let i = 0; i < WARMUP + ITERATIONS; i += 1) {
      const started = performance.now();
      runtime.sandbox.runBatch({ key: 'bench/mask', label: 'mask.js', source: mask.source }, batch);
      if (i >= WARMUP) times.push(performance.now() - started);
    }
    return { medianMs: median(times), p95Ms: percentile(times, 0.95), minMs: Math.min(...times), values: count };
  };
  const sandbox = { 'sandbox call, 1,000 values (@mask)': sandboxTimes(VALUES), 'sandbox call, 1 value (fixed cost)': sandboxTimes(1) };
  runtime.close();

  const headline = results['@mask from the schema (crm Customer.email)']!;
  const rows = [['scenario', 'values', 'median ms', 'p95 ms', 'min ms'], ...Object.entries({ ...results, ...sandbox }).map(([name, r]) => [name, String(r.values), r.medianMs.toFixed(2), r.p95Ms.toFixed(2), r.minMs.toFixed(2)])];
  process.stdout.write(`\nResolver directives: ${VALUES} values per response, ${ITERATIONS} iterations after ${WARMUP} warm-up (QuickJS, quickjs-emscripten 0.32.0)\n\n${table(rows)}\n\n`);
  process.stdout.write(`@mask on 1,000 values: median ${headline.medianMs.toFixed(2)} ms per response (goal < ${GOAL_MS} ms): ${headline.medianMs < GOAL_MS ? 'met' : 'NOT met'}\n`);
  const path = await writeResult('directives', {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    settings: { valuesPerResponse: VALUES, iterations: ITERATIONS, warmup: WARMUP },
    goalMs: GOAL_MS,
    goalMet: headline.medianMs < GOAL_MS,
    scenarios: results,
    sandbox,
  });
  process.stdout.write(`Wrote ${path}\n`);
}

await main();
