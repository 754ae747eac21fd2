// Hostile resolver-directive code (DESIGN.md, decision 6; issue 6): an extension publishes
// directives that loop forever, exhaust memory, recurse without end, reach for the host
// (process, globalThis, require, fetch, timers, import), pollute prototypes, return huge or
// wrong outputs, throw things that are not errors, or try to keep state between responses.
// Through real HTTP, each must fail only its own field (null + DIRECTIVE_FAILED with the
// directive's name), leave the rest of the response intact, and leave the gateway healthy.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { GraftServer } from '../../gateway/server/index.js';
import { graphql, http, publish, startGateway, startRecordingSubgraph, tempDir, tokenFor, type GraphQLBody, type RecordingSubgraph } from '../helpers/index.js';

const SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
scalar JSON
type Query { items: [Item!]! item: Item }
type Item { id: ID! text: String label: String! meta: JSON }
`;
const ITEMS = [1, 2, 3, 4].map((i) => ({ id: String(i), text: i === 3 ? 'bad' : `value-${i}`, label: `label-${i}`, meta: { i } }));

/** name → module source; every directive is `directive @<name> on FIELD`. */
const HOSTILE: Record<string, string> = {
  loop: 'export function transform() { while (true) {} }',
  loopOnBad: "export function transform(value) { if (value === 'bad') { for (;;) {} } return value.toUpperCase(); }",
  memory: 'export function transform() { return new Array(1e9).fill(0).length; }',
  hoard: "export function transform() { const kept = []; for (;;) kept.push({ a: kept.length, b: 'x'.repeat(64) + kept.length }); }",
  recurse: 'export function transform(value) { const f = (n) => f(n + 1) + 1; return f(0) + value; }',
  escape:
    "export function transform() { return JSON.stringify({ process: typeof process, require: typeof require, fetch: typeof fetch, setTimeout: typeof setTimeout, setInterval: typeof setInterval, queueMicrotask: typeof queueMicrotask, console: typeof console, Buffer: typeof Buffer, WebAssembly: typeof WebAssembly, ArrayBuffer: typeof ArrayBuffer, globals: Object.getOwnPropertyNames(globalThis).filter((n) => /process|require|module|fetch|Buffer|global$|std|os|print|scriptArgs/.test(n)) }); }",
  exit: 'export function transform() { globalThis.process.exit(1); }',
  requireFs: "export function transform() { return require('node:child_process').execSync('id').toString(); }",
  fetchOut: "export function transform(value) { fetch('http://169.254.169.254/latest/meta-data/'); return value; }",
  timer: 'export function transform(value) { setTimeout(() => {}, 0); return value; }',
  importer: "export function transform() { return import('node:fs'); }",
  constructorEscape: "export function transform() { return (function () {}).constructor('return typeof process')() + ',' + [].constructor.constructor('return this')().constructor.name; }",
  pollute: "export function transform(value) { Object.prototype.polluted = 'yes'; return value; }",
  pollutePrototypes: "export function transform(value) { try { Array.prototype.push = null; } catch (e) { return 'refused: ' + e.constructor.name; } return 'changed'; }",
  protoJson: 'export function transform() { return JSON.parse(\'{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}\'); }',
  huge: "export function transform() { return 'x'.repeat(1000000); }",
  wrongType: 'export function transform(value) { return value.length; }',
  throwing:
    "export function transform(value, args, context) { const i = Number(value.slice(6)); if (i === 1) throw 42; if (i === 2) throw null; if (value === 'bad') throw { toString() { for (;;) {} } }; if (i === 4) throw Object.create(Error.prototype, { message: { get() { for (;;) {} } } }); return value; }",
  stateful: 'let seen = 0; export function transform() { seen += 1; return String(seen); }',
};
// A module that pollutes at load time is refused at publish (checked separately).
const POLLUTES_AT_LOAD = "Object.prototype.polluted = 'yes'; export function transform(value) { return value; }";

interface Failure {
  message: string;
  path?: Array<string | number>;
  extensions?: Record<string, unknown>;
}

describe('hostile resolver directives', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: GraftServer;
  let recorder: RecordingSubgraph;
  let admin: string;
  let user: string;

  const query = (selection: string) => graphql(server, `{ items { id text ${selection} } }`, { token: user });

  /** The response keeps id and text intact, and the field under test failed with the given directive. */
  function assertOnlyFieldFailed(body: GraphQLBody, key: string, directive: string, reasons: readonly string[], indexes = [0, 1, 2, 3]): void {
    const items = body.data?.['items'] as Array<Record<string, unknown>>;
    assert.ok(items, JSON.stringify(body));
    assert.deepEqual(items.map((i) => [i['id'], i['text']]), ITEMS.map((i) => [i.id, i.text]), 'the rest of the response is intact');
    for (const index of indexes) assert.equal(items[index]![key], null);
    const errors = (body.errors ?? []) as Failure[];
    assert.equal(errors.length, indexes.length, JSON.stringify(errors));
    for (const [n, index] of indexes.entries()) {
      const error = errors[n]!;
      assert.deepEqual(error.path, ['items', index, key]);
      assert.equal(error.extensions?.['code'], 'DIRECTIVE_FAILED');
      assert.equal(error.extensions?.['directive'], directive);
      assert.equal(error.extensions?.['extension'], 'hostile');
      assert.ok(reasons.includes(String(error.extensions?.['reason'])), `reason ${String(error.extensions?.['reason'])} is one of ${reasons.join(', ')}`);
      assert.doesNotMatch(error.message, /stack|at <eval>|\.js:\d/, 'no sandbox internals reach the client');
    }
  }

  before(async () => {
    dir = await tempDir();
    server = await startGateway(dir.path);
    recorder = await startRecordingSubgraph(SDL, { Query: { items: () => ITEMS, item: () => ITEMS[0] } });
    admin = await tokenFor(server, 'admin', ['graft:admin']);
    user = await tokenFor(server, 'mallory', []);
    const names = Object.keys(HOSTILE);
    const result = await publish(server, admin, {
      manifest: {
        name: 'hostile',
        version: '1.0.0',
        owner: 'tests',
        subgraph: { url: recorder.url, schema: 'hostile.graphql' },
        directives: names.map((name) => ({ definition: `directive @${name} on FIELD`, module: `./${name}.js` })),
      },
      sdl: SDL,
      directiveModules: Object.fromEntries(names.map((name) => [`./${name}.js`, HOSTILE[name]!])),
    } as never);
    assert.equal(result.status, 201, JSON.stringify(result.body));
  });

  after(async () => {
    await server?.close();
    await recorder?.close();
    await dir?.remove();
  });

  test('an infinite loop is interrupted: only that field fails (timeout), quickly', async () => {
    const started = performance.now();
    const { status, body } = await query('looped: text @loop');
    const elapsed = performance.now() - started;
    assert.equal(status, 200);
    assertOnlyFieldFailed(body, 'looped', 'loop', ['timeout']);
    assert.ok(elapsed < 2000, `answered in ${elapsed.toFixed(0)} ms`);
  });

  test('a failed non-null field nulls its nearest nullable parent, as GraphQL null propagation does', async () => {
    const { body } = await graphql(server, '{ item { id label @recurse } items { id } }', { token: user });
    assert.deepEqual(body.data, { item: null, items: ITEMS.map((i) => ({ id: i.id })) });
    assert.deepEqual(body.errors?.map((e) => [e.path, e.extensions?.['code']]), [[['item', 'label'], 'DIRECTIVE_FAILED']]);
  });

  test('a loop on one value fails that value only; the others are transformed', async () => {
    const { body } = await query('upper: text @loopOnBad');
    const items = body.data?.['items'] as Array<Record<string, unknown>>;
    assert.deepEqual(items.map((i) => i['upper']), ['VALUE-1', 'VALUE-2', null, 'VALUE-4']);
    assert.equal(body.errors?.length, 1);
    assert.deepEqual(body.errors?.[0]?.path, ['items', 2, 'upper']);
    assert.equal(body.errors?.[0]?.extensions?.['reason'], 'timeout');
  });

  test('a memory bomb hits the memory limit; a hoarding loop hits the memory or the time limit', async () => {
    assertOnlyFieldFailed((await query('m: text @memory')).body, 'm', 'memory', ['memory']);
    assertOnlyFieldFailed((await query('h: text @hoard')).body, 'h', 'hoard', ['memory', 'timeout']);
    const wasm = server.directives.sandbox.wasmMemoryBytes;
    assert.ok(wasm <= 256 * 1024 * 1024, `the sandbox's WebAssembly memory stays bounded (${wasm} bytes)`);
  });

  test('deep recursion ends in a stack overflow inside the sandbox', async () => {
    assertOnlyFieldFailed((await query('r: text @recurse')).body, 'r', 'recurse', ['error']);
  });

  test('nothing of the host is reachable: no process, require, fetch, timers, console, Buffer, WebAssembly', async () => {
    const { body } = await query('seen: text @escape');
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const seen = JSON.parse(String((body.data?.['items'] as Array<Record<string, unknown>>)[0]!['seen'])) as Record<string, unknown>;
    assert.deepEqual(seen, {
      process: 'undefined',
      require: 'undefined',
      fetch: 'undefined',
      setTimeout: 'undefined',
      setInterval: 'undefined',
      queueMicrotask: 'undefined',
      console: 'undefined',
      Buffer: 'undefined',
      WebAssembly: 'undefined',
      ArrayBuffer: 'undefined',
      globals: [],
    });
    for (const name of ['exit', 'requireFs', 'fetchOut', 'timer', 'importer']) {
      assertOnlyFieldFailed((await query(`x: text @${name}`)).body, 'x', name, ['error']);
    }
    const escaped = await query('y: text @constructorEscape');
    assert.equal(escaped.body.errors, undefined, JSON.stringify(escaped.body.errors));
    assert.equal((escaped.body.data?.['items'] as Array<Record<string, unknown>>)[0]!['y'], 'undefined,Object', "the Function constructor reaches the sandbox's own global only");
  });

  test('prototype pollution changes neither the sandbox nor the host', async () => {
    assertOnlyFieldFailed((await query('p: text @pollute')).body, 'p', 'pollute', ['error']);
    const refused = await query('q: text @pollutePrototypes');
    assert.deepEqual((refused.body.data?.['items'] as Array<Record<string, unknown>>).map((i) => i['q']), Array(4).fill('refused: TypeError'));
    const json = await query('meta @protoJson');
    assert.equal(json.body.errors, undefined, JSON.stringify(json.body.errors));
    const meta = (json.body.data?.['items'] as Array<Record<string, unknown>>)[0]!['meta'] as Record<string, unknown>;
    assert.ok(Object.hasOwn(meta, '__proto__'), 'the key arrives as plain data');
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'the gateway process is not polluted');
    assert.equal((Object.prototype as Record<string, unknown>)['polluted'], undefined);
    assert.equal(typeof Array.prototype.push, 'function');

    const recorder2 = await startRecordingSubgraph('type Query { other: String }', { Query: { other: () => 'x' } });
    try {
      const result = await publish(server, admin, {
        manifest: { name: 'polluter', version: '1.0.0', owner: 'tests', subgraph: { url: recorder2.url, schema: 'p.graphql' }, directives: [{ definition: 'directive @polluter on FIELD', module: './p.js' }] },
        sdl: 'type Query { other: String }',
        directiveModules: { './p.js': POLLUTES_AT_LOAD },
      } as never);
      assert.equal(result.status, 400);
      assert.equal(result.body['code'], 'DIRECTIVE_INVALID');
      assert.match(String(result.body['message']), /not extensible|read-only/);
    } finally {
      await recorder2.close();
    }
  });

  test('huge outputs and outputs of the wrong type are refused per field', async () => {
    assertOnlyFieldFailed((await query('big: text @huge')).body, 'big', 'huge', ['output']);
    assertOnlyFieldFailed((await query('n: text @wrongType')).body, 'n', 'wrongType', ['output']);
  });

  test('throwing numbers, null and hostile objects fails only those values; the gateway never runs their toString', async () => {
    const { body } = await query('t: text @throwing');
    const items = body.data?.['items'] as Array<Record<string, unknown>>;
    assert.deepEqual(items.map((i) => i['t']), [null, null, null, null]);
    assert.deepEqual(
      (body.errors ?? []).map((e) => [e.path?.[1], e.extensions?.['reason']]),
      [
        [0, 'error'],
        [1, 'error'],
        [2, 'error'], // { toString() { for (;;) {} } }: described as "a non-error value", toString never called
        [3, 'timeout'], // an Error whose message getter loops: reading it is interrupted
      ],
    );
  });

  test('no state survives a response: every response starts from a fresh module instance', async () => {
    for (let round = 0; round < 3; round += 1) {
      const { body } = await query('n: text @stateful');
      assert.deepEqual((body.data?.['items'] as Array<Record<string, unknown>>).map((i) => i['n']), ['1', '2', '3', '4']);
    }
  });

  test('a directive that keeps failing is suspended; the gateway stays healthy and answers everything else', async () => {
    // @loop already failed in an earlier test; keep calling it until the breaker opens.
    let reason: unknown;
    for (let attempt = 0; attempt < 5 && reason !== 'suspended'; attempt += 1) {
      reason = (await query('l: text @loop')).body.errors?.[0]?.extensions?.['reason'];
    }
    assert.equal(reason, 'suspended');
    const started = performance.now();
    const suspended = await query('l: text @loop');
    assert.ok(performance.now() - started < 1000);
    assertOnlyFieldFailed(suspended.body, 'l', 'loop', ['suspended']);

    const health = await http(`${server.url}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body['status'], 'ok');
    const plain = await query('meta');
    assert.equal(plain.body.errors, undefined);
    assert.equal((plain.body.data?.['items'] as unknown[]).length, 4);
  });
});
