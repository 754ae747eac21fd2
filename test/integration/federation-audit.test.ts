// The federation-gateway-audit harness (npm run audit:federation): how audit subgraphs become
// extensions of one release, how the runner's results are read, and which passes it refuses
// to count as goals met.
import assert from 'node:assert/strict';
import { test } from 'node:test';
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
