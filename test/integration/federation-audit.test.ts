// The federation-gateway-audit harness (npm run audit:federation): how audit subgraphs become
// extensions of one release, how the runner's results are read, and which passes it refuses
// to count as goals met.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../bench/lib/index.js';
import { REPO_ROOT, startRecordingSubgraph, tempDir } from '../helpers/index.js';
import {
  AUDIT_SCORE_GOAL,
  extensionNameFor,
  extensionNames,
  goalFailures,
  judgeSuite,
  parseRunnerResults,
  releaseBody,
  summarize,
  type RecordedAnswer,
  type SuiteLoad,
} from '../../bench/federation-audit/index.js';

const loaded: SuiteLoad = { suite: 's', loaded: true, detail: 'release', renamed: {} };
const answer = (query: string, body: RecordedAnswer['body'], operationName: string | null = null): RecordedAnswer => ({ query, operationName, status: 200, body });

test('audit subgraph names that are valid extension names are kept as they are', () => {
  for (const name of ['a', 'products', 'node-two', 'all-products']) assert.equal(extensionNameFor(name), name);
});

test('other audit subgraph names become DNS labels, and two that collide stay distinct', () => {
  assert.equal(extensionNameFor('Products_V2'), 'products-v2');
  assert.equal(extensionNameFor('2nd'), 'x-2nd');
  assert.equal(extensionNameFor('a'.repeat(80)), 'a'.repeat(63));
  const names = extensionNames([
    { name: 'Foo_Bar', url: 'http://localhost:1/s/Foo_Bar', sdl: '' },
    { name: 'foo-bar', url: 'http://localhost:1/s/foo-bar', sdl: '' },
  ]);
  assert.deepEqual([...names.values()], ['foo-bar', 'foo-bar-2']);
});

test('a suite becomes one release body with a manifest and the SDL of each subgraph', () => {
  const body = releaseBody('simple-entity-call', [
    { name: 'email', url: 'http://localhost:4200/simple-entity-call/email', sdl: 'type Query { a: Int }' },
    { name: 'nickname', url: 'http://localhost:4200/simple-entity-call/nickname', sdl: 'type Query { b: Int }' },
  ]);
  assert.equal(body.extensions.length, 2);
  assert.deepEqual(body.extensions[0], {
    manifest: {
      name: 'email',
      version: '1.0.0',
      owner: 'federation-gateway-audit',
      description: 'Subgraph "email" of the audit suite simple-entity-call.',
      subgraph: { url: 'http://localhost:4200/simple-entity-call/email', schema: './email.graphql' },
    },
    sdl: 'type Query { a: Int }',
  });
  assert.match(body.reason, /simple-entity-call/);
});

test("the runner's results.txt gives each suite's outcomes in test order, a suite that could not run none", () => {
  const results = parseRunnerResults('abstract-types\n..X.\nbroken\n\nnode\n.\n\n---\nTotal: 5\nPassed: 4\nFailed: 1');
  assert.deepEqual([...results.keys()], ['abstract-types', 'broken', 'node']);
  assert.deepEqual(results.get('abstract-types'), [true, true, false, true]);
  assert.deepEqual(results.get('broken'), []);
  assert.deepEqual(results.get('node'), [true]);
});

test('each test is paired with the answer the runner got for it; the runner ping is not a test', () => {
  const report = judgeSuite({
    suite: 's',
    outcomes: [true, false],
    tests: [
      { query: '{ a }', expected: { data: { a: 1 } } },
      { query: '{ b }', expected: { data: { b: 2 } } },
    ],
    answers: [answer('query ping { __typename }', { data: { __typename: 'Query' } }, 'ping'), answer('{ a }', { data: { a: 1 } }), answer('{ b }', { data: { b: 3 } })],
    load: loaded,
  });
  assert.equal(report.complete, true);
  assert.deepEqual(report.tests.map((t) => t.received?.body), [{ data: { a: 1 } }, { data: { b: 3 } }]);
  assert.deepEqual(report.tests.map((t) => t.flags), [[], []]);
});

test('a pass whose answer carries errors where the expected answer has data is flagged and misses the goals', () => {
  const report = judgeSuite({
    suite: 's',
    outcomes: [true],
    tests: [{ query: '{ a { b } }', expected: { data: { a: null } } }],
    answers: [answer('{ a { b } }', { data: { a: null }, errors: [{ message: 'boom', extensions: { code: 'EXTENSION_UNAVAILABLE' } }] })],
    load: loaded,
  });
  assert.deepEqual(report.tests[0]!.flags, ['error-answer-where-data-expected']);
  const failures = goalFailures(summarize([report]), 1);
  assert.equal(failures.length, 1);
  assert.match(failures[0]!, /error answer where data was expected: s #0/);
});

test("a pass on an expected error that came from Graft's own refusal (an empty registry) is flagged", () => {
  const report = judgeSuite({
    suite: 's',
    outcomes: [true, true],
    tests: [
      { query: '{ a }', expected: { errors: true } },
      { query: '{ b }', expected: { errors: true } },
    ],
    answers: [
      answer('{ a }', { errors: [{ message: 'none yet', extensions: { code: 'NO_SUPERGRAPH' } }] }),
      answer('{ b }', { errors: [{ message: 'Cannot query field', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] }),
    ],
    load: loaded,
  });
  assert.deepEqual(report.tests.map((t) => t.flags), [['graft-refusal-as-expected-error'], []]);
});

test("a suite whose tests the recipe never read still counts every outcome of the runner, and misses the goals", () => {
  const report = judgeSuite({ suite: 'lost', outcomes: [true, false], tests: [], answers: [], load: undefined });
  assert.deepEqual(report.tests.map((t) => t.passed), [true, false]);
  const summary = summarize([report]);
  assert.deepEqual([summary.passed, summary.total, summary.unloaded, summary.incomplete], [1, 2, ['lost'], ['lost']]);
});

test('the goals: the score of Apollo Gateway, every suite loaded and run in full', () => {
  const pass = judgeSuite({ suite: 'ok', outcomes: [true], tests: [{ query: '{ a }', expected: { data: { a: 1 } } }], answers: [], load: loaded });
  const unloaded = judgeSuite({ suite: 'refused', outcomes: [false], tests: [{ query: '{ a }', expected: { data: { a: 1 } } }], answers: [], load: { ...loaded, loaded: false } });
  const cut = judgeSuite({ suite: 'cut', outcomes: [], tests: [{ query: '{ a }', expected: { data: { a: 1 } } }], answers: [], load: loaded });
  assert.deepEqual(goalFailures(summarize([pass]), 1), []);
  const failures = goalFailures(summarize([pass, unloaded, cut]));
  assert.equal(failures.length, 3);
  assert.match(failures[0]!, new RegExp(`score 1/3 is below the goal of ${AUDIT_SCORE_GOAL}`));
  assert.match(failures[1]!, /could not load: refused/);
  assert.match(failures[2]!, /could not run in full: cut/);
});

// Two subgraphs that need each other: "a" has no Query (NO_QUERIES on its own), "b" requires
// a field "a" owns (EXTERNAL_MISSING_ON_BASE on its own). Only a release loads them.
const SUBGRAPH_A = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Product @key(fields: "id") { id: ID! price: Int }
`;
const SUBGRAPH_B = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@requires"])
  type Query { products: [Product] }
  type Product @key(fields: "id") { id: ID! price: Int @external tax: Int @requires(fields: "price") }
`;

test('the recipe starts Graft, loads a suite whose subgraphs need each other as one release, serves it behind the recording pass-through, and stops Graft on SIGTERM', async () => {
  const a = await startRecordingSubgraph(SUBGRAPH_A, { Product: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, price: 10 }) } });
  const b = await startRecordingSubgraph(SUBGRAPH_B, {
    Query: { products: () => [{ id: 'p1' }] },
    Product: { __resolveReference: (ref: { id: string; price: number }) => ref, tax: (product: { price: number }) => product.price * 2 },
  });
  const query = '{ products { id price tax } }';
  // The part of the audit's server a recipe reads: a suite's subgraphs and tests.
  const audit = createServer((request, response) => {
    const routes: Record<string, unknown> = {
      '/demo/subgraphs': [
        { name: 'a', url: a.url, sdl: SUBGRAPH_A },
        { name: 'b', url: b.url, sdl: SUBGRAPH_B },
      ],
      '/demo/tests': [{ query, expected: { data: { products: [{ id: 'p1', price: 10, tax: 20 }] } } }],
    };
    const body = routes[request.url ?? ''];
    response.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body ?? { error: 'not found' }));
  });
  await new Promise<void>((resolve) => audit.listen(0, '127.0.0.1', resolve));
  const dir = await tempDir('graft-audit-recipe-');
  const tapPort = await freePort();
  await writeFile(join(dir.path, 'graft-audit.json'), JSON.stringify({ auditPort: (audit.address() as AddressInfo).port, tapPort, outDir: dir.path }));
  const recipe = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO_ROOT, 'bench', 'federation-audit', 'recipe.ts'), 'demo'], {
    cwd: dir.path,
    env: { ...process.env, GRAFT_LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => recipe.once('exit', (code) => resolve(code)));
  recipe.stdout!.resume();
  try {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const health = await fetch(`http://127.0.0.1:${tapPort}/readiness`).catch(() => undefined);
      if (health?.ok) break;
      assert.equal(recipe.exitCode, null, 'the recipe exited before it was ready');
      assert.ok(Date.now() < deadline, 'the recipe was not ready within 90 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const load = JSON.parse(await readFile(join(dir.path, 'demo.load.json'), 'utf8')) as SuiteLoad;
    assert.equal(load.loaded, true, load.detail);
    assert.match(load.detail, /^release #\d+: supergraph #\d+ \((a@1\.0\.0, b@1\.0\.0|b@1\.0\.0, a@1\.0\.0)\)$/);

    const response = await fetch(`http://127.0.0.1:${tapPort}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { data: { products: [{ id: 'p1', price: 10, tax: 20 }] } });
    const answers = (await readFile(join(dir.path, 'demo.answers.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as RecordedAnswer);
    assert.deepEqual(answers.at(-1), { query, operationName: null, status: 200, body: { data: { products: [{ id: 'p1', price: 10, tax: 20 }] } } });

    const graftPid = Number((await readFile(join(dir.path, 'demo.pid'), 'utf8')).trim());
    recipe.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.throws(() => process.kill(graftPid, 0), /ESRCH/, 'Graft still runs after the recipe stopped');
  } finally {
    recipe.kill('SIGKILL');
    await new Promise<void>((resolve) => audit.close(() => resolve()));
    await a.close();
    await b.close();
    await dir.remove();
  }
});
