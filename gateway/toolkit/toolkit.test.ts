// Unit tests of the toolkit's parts; the commands themselves are exercised end to end in
// test/integration/toolkit.test.ts.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildSchema } from 'graphql';
import {
  GRAFT_ROOT,
  camelCase,
  codesOf,
  coordinateOf,
  devVersion,
  loadQueryFor,
  parseDuration,
  parseInteger,
  parseRate,
  pascalCase,
  percentile,
  readSubgraph,
  representationOf,
  selectionFor,
  simulationVerdict,
  startFaultProxy,
  summarizeLatency,
  watchTree,
  type SimulationReport,
} from './index.js';

const exampleSdl = (name: string) => readFile(join(GRAFT_ROOT, 'subgraphs', name, `${name}.graphql`), 'utf8');

describe('option parsing', () => {
  test('durations, rates and integers, with usage errors naming the option', () => {
    assert.equal(parseDuration('--latency', '200ms'), 200);
    assert.equal(parseDuration('--latency', '1.5s'), 1500);
    assert.equal(parseDuration('--duration', '2m'), 120_000);
    assert.equal(parseDuration('--latency', '40'), 40);
    assert.throws(() => parseDuration('--latency', 'fast'), /--latency takes a duration/);
    assert.throws(() => parseDuration('--duration', '50ms', { min: 100 }), /--duration must be from 100 ms/);
    assert.equal(parseRate('--error-rate', '0.1'), 0.1);
    assert.equal(parseRate('--error-rate', '25%'), 0.25);
    assert.throws(() => parseRate('--error-rate', '1.5'), /from 0 to 1/);
    assert.equal(parseInteger('--concurrency', '50', 1, 1000), 50);
    assert.throws(() => parseInteger('--concurrency', '0', 1, 1000), /--concurrency must be a whole number from 1 to 1000/);
    assert.throws(() => parseInteger('--concurrency', '2.5', 1, 1000), /whole number/);
  });
});

describe('scaffold names and dev versions', () => {
  test('type and field names come from the extension name', () => {
    assert.equal(pascalCase('loyalty-club'), 'LoyaltyClub');
    assert.equal(camelCase('loyalty-club'), 'loyaltyClub');
    assert.equal(camelCase('x2'), 'x2');
  });

  test('dev versions are pre-releases of graft.json\'s version, in order', () => {
    assert.equal(devVersion('0.1.0', 0), '0.1.0-dev.0');
    assert.equal(devVersion('1.4.2-beta.3+build', 7), '1.4.2-dev.7');
  });
});

describe('load statistics', () => {
  test('nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(values, 50), 50);
    assert.equal(percentile(values, 99), 99);
    assert.equal(percentile([], 99), 0);
    assert.deepEqual(summarizeLatency([30, 10, 20]), { p50: 20, p95: 30, p99: 30, max: 30, mean: 20 });
  });

  test('an answer is classified by its error codes, else its HTTP status', () => {
    assert.deepEqual(codesOf(200, { data: { a: 1 } }), { codes: [], hasData: true });
    assert.deepEqual(
      codesOf(200, { data: { a: null, b: 1 }, errors: [{ message: 'x', extensions: { code: 'EXTENSION_TIMEOUT' } }, { message: 'y' }] }),
      { codes: ['EXTENSION_TIMEOUT', 'UNKNOWN_ERROR'], hasData: true },
    );
    assert.deepEqual(codesOf(503, undefined), { codes: ['HTTP_503'], hasData: false });
  });
});

describe('reading a subgraph SDL', () => {
  test('entities with their keys, and access requirements from field, parent type and return type', async () => {
    const orders = readSubgraph(await exampleSdl('orders'));
    assert.deepEqual(orders.entities.get('Product'), [{ fields: 'id', resolvable: false }]);
    assert.deepEqual(orders.entities.get('Order'), [{ fields: 'id', resolvable: true }]);
    assert.deepEqual(orders.requirementOf('Order', 'total')?.scopes, [[['orders:read']]], 'type-level @requiresScopes guards its fields');
    assert.deepEqual(orders.requirementOf('Customer', 'orders')?.scopes, [[['orders:read']]], 'and the fields returning it');
    assert.equal(orders.requirementOf('Customer', 'id'), undefined);
    assert.equal(orders.requirementOf('Query', '_entities'), undefined);
  });

  test('directive aliases from @link imports are followed', () => {
    const model = readSubgraph(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", { name: "@requiresScopes", as: "@scopes" }, "@authenticated"])
      type Thing @key(fields: "id") @authenticated { id: ID! secret: String @scopes(scopes: [["a", "b"], ["c"]]) }
      type Query { things: [Thing!]! }`);
    assert.deepEqual(model.requirementOf('Thing', 'secret'), { authenticated: true, scopes: [[['a', 'b'], ['c']]], policies: [] });
  });

  test('selections, representations and coordinates', async () => {
    const crm = readSubgraph(await exampleSdl('crm'));
    assert.equal(selectionFor(crm.schema.getType('Customer')!, 2), '{ __typename id name email }');
    assert.deepEqual(representationOf('Customer', { __typename: 'Customer', id: 'c1', name: 'x' }, 'id'), { __typename: 'Customer', id: 'c1' });
    assert.deepEqual(representationOf('Box', { owner: { id: 'u1', x: 1 }, n: 2 }, 'owner { id } n'), { __typename: 'Box', owner: { id: 'u1' }, n: 2 });
    assert.equal(representationOf('Customer', { name: 'x' }, 'id'), undefined);
    assert.equal(coordinateOf(crm.schema, ['customers', 3, 'email']), 'Customer.email');
    assert.equal(coordinateOf(crm.schema, ['email'], 'Customer'), 'Customer.email');
  });

  test('the load query reaches an extension through its own root field, or through a type it adds fields to', async () => {
    const api = buildSchema(await readFile(join(GRAFT_ROOT, 'schema', 'api.graphql'), 'utf8'));
    assert.equal(loadQueryFor(await exampleSdl('inventory'), api), '{ products { id name price stock } }');
    assert.equal(loadQueryFor(await exampleSdl('orders'), api), '{ customers { id orders { id total status customer { id } items { quantity } } } }');
  });
});

describe('the simulate verdict', () => {
  const base = (over: Partial<Omit<SimulationReport, 'verdict'>> = {}): Omit<SimulationReport, 'verdict'> => ({
    extension: 'crm',
    settings: { latencyMs: 100, errorRate: 0.1, concurrency: 10, durationMs: 1000, maxRequests: 100, query: '{ a }' },
    timeout: { ms: 1000, source: 'manifest' },
    users: { requests: 100, ok: 100, failed: 0, partial: 0, byCode: {}, latencyMs: { p50: 110, p95: 150, p99: 200, max: 210, mean: 120 }, elapsedMs: 1000, requestsPerSecond: 100 },
    extensionSide: { requests: 110, injected503: 10, forwarded: 100, abandonedByGateway: 0, latencyMs: { p50: 105, p95: 140, p99: 180, max: 190, mean: 110 } },
    breaker: { trips: 0, state: 'closed' },
    ...over,
  });

  test('pass, warn and fail', () => {
    assert.equal(simulationVerdict(base()).level, 'pass');
    assert.match(simulationVerdict(base()).reasons[0]!, /retries absorbed all 10 injected 503s/);
    const someErrors = base({ users: { ...base().users, ok: 98, failed: 2, byCode: { EXTENSION_UNAVAILABLE: 2 } } });
    assert.equal(simulationVerdict(someErrors).level, 'warn');
    const close = base({ extensionSide: { ...base().extensionSide, latencyMs: { ...base().extensionSide.latencyMs, p99: 900 } } });
    assert.match(simulationVerdict(close).reasons[0]!, /little headroom/);
    const tripped = base({ breaker: { trips: 1, state: 'open' } });
    assert.equal(simulationVerdict(tripped).level, 'fail');
    const slow = base({ users: { ...base().users, byCode: { EXTENSION_TIMEOUT: 3 }, failed: 3, ok: 97 } });
    assert.match(simulationVerdict(slow).reasons[0]!, /3 answers hit EXTENSION_TIMEOUT.*limits\.timeoutMs 1000 ms \(manifest\)/);
  });
});

describe('the fault proxy', () => {
  test('delays every request, answers the seeded share with 503 and forwards the rest untouched', async () => {
    const upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ echoed: body, path: req.url, auth: req.headers.authorization }));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', () => resolve()));
    const target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/graphql`;
    const run = async (seed: number) => {
      const proxy = await startFaultProxy({ target, latencyMs: 30, errorRate: 0.3, seed });
      const statuses: number[] = [];
      try {
        for (let i = 0; i < 20; i++) {
          const started = performance.now();
          const response = await fetch(proxy.url, { method: 'POST', headers: { authorization: 'Bearer t' }, body: `{"n":${i}}` });
          const text = await response.text();
          assert.ok(performance.now() - started >= 25, 'the latency is added');
          statuses.push(response.status);
          if (response.status === 200) assert.deepEqual(JSON.parse(text), { echoed: `{"n":${i}}`, path: '/graphql', auth: 'Bearer t' });
          else assert.equal(response.status, 503);
        }
        assert.equal(proxy.stats.requests, 20);
        assert.equal(proxy.stats.injectedErrors + proxy.stats.forwarded, 20);
        assert.ok(proxy.stats.injectedErrors > 0 && proxy.stats.injectedErrors < 20);
        proxy.injecting = false;
        proxy.resetStats();
        assert.equal((await fetch(proxy.url, { method: 'POST', body: '{}' })).status, 200);
        assert.equal(proxy.stats.requests, 0, 'warm-up traffic is not counted');
      } finally {
        await proxy.close();
      }
      return statuses;
    };
    try {
      assert.deepEqual(await run(7), await run(7), 'the same seed fails the same requests');
    } finally {
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });
});

describe('watching an extension folder', () => {
  test('reports changed sources once per burst, in new folders too, and ignores node_modules and generated/', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'graft-watch-'));
    try {
      await mkdir(join(dir, 'node_modules'));
      await mkdir(join(dir, 'generated'));
      const batches: string[][] = [];
      const watcher = await watchTree(dir, (files) => batches.push(files), { debounceMs: 100 });
      try {
        await writeFile(join(dir, 'schema.graphql'), 'type Query { a: Int }');
        await writeFile(join(dir, 'resolvers.ts'), 'export {}');
        await writeFile(join(dir, 'node_modules', 'x.js'), '');
        await writeFile(join(dir, 'generated', 'types.ts'), '');
        await writeFile(join(dir, 'notes.txt'), '');
        await waitUntil(() => batches.length >= 1);
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.deepEqual(batches, [['resolvers.ts', 'schema.graphql']]);
        await mkdir(join(dir, 'src'));
        await new Promise((resolve) => setTimeout(resolve, 150));
        await writeFile(join(dir, 'src', 'data.ts'), 'export {}');
        await waitUntil(() => batches.some((b) => b.includes('src/data.ts')));
      } finally {
        watcher.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
