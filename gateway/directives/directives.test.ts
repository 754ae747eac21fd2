// Unit tests of the resolver-directive pieces: the sandbox and its limits, the breaker,
// the catalog's publish rules, the operation rewrite, the per-supergraph preparation, the
// output check, and the privacy example's two modules.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { buildSchema, parse, print } from 'graphql';
import { DirectiveBreaker } from './breaker.js';
import { checkDirectivePublish, linkedDirectives, modulesOfVersion, parseDirectiveDefinition, type DirectiveModule } from './catalog.js';
import { conformsTo } from './apply.js';
import { isRelevant, rewriteDocument } from './operation.js';
import { prepareDirectives } from './prepared.js';
import { QuickJSSandbox, type SandboxBatch } from './sandbox.js';
import { GraphQLError } from 'graphql';
import { Agent } from 'undici';
import { composeOrThrow, supergraphHash } from '../composition/index.js';
import { GraftGateway } from '../engine/index.js';
import { DEFAULT_RESILIENCE, ExtensionRuntimeTable, UpstreamTokenIssuer } from '../upstream/index.js';
import { DirectiveRuntime } from './runtime.js';

const PRIVACY = new URL('../../subgraphs/privacy/directives/', import.meta.url);
const MASK = readFileSync(new URL('mask.js', PRIVACY), 'utf8');
const FORMAT_DATE = readFileSync(new URL('format-date.js', PRIVACY), 'utf8');

function batch(values: unknown[], args: unknown = {}, context: unknown = { locale: null, tenant: null, variables: {} }): SandboxBatch {
  return { values, args: [args], argOf: values.map(() => 0), contexts: [context], contextOf: values.map(() => 0) };
}

describe('QuickJS sandbox', () => {
  let sandbox: QuickJSSandbox;
  before(async () => {
    // Generous budget: the suite may run on a loaded machine (deadlines are wall-clock time).
    sandbox = await QuickJSSandbox.create({ callTimeoutMs: 100, responseBudgetMs: 5000 });
  });
  after(() => sandbox.close());

  const run = (source: string, values: unknown[], args?: unknown, key = source) => sandbox.runBatch({ key, label: 'test.js', source }, batch(values, args));

  test('values cross as JSON, in one call per batch, in order', () => {
    const outcome = run('export function transform(v, a) { return { v, a, n: typeof v }; }', [1, 'two', [3], { four: 4 }, true], { x: 1 });
    assert.equal(outcome.calls, 1);
    assert.equal(outcome.healthy, true);
    assert.deepEqual(
      outcome.outcomes.map((o) => (o.ok ? o.value : o)),
      [
        { v: 1, a: { x: 1 }, n: 'number' },
        { v: 'two', a: { x: 1 }, n: 'string' },
        { v: [3], a: { x: 1 }, n: 'object' },
        { v: { four: 4 }, a: { x: 1 }, n: 'object' },
        { v: true, a: { x: 1 }, n: 'boolean' },
      ],
    );
  });

  test('arguments and context are frozen inside', () => {
    const outcome = run("export function transform(v, a, c) { a.x = 2; return v; }", ['a'], { x: 1 });
    assert.equal(outcome.outcomes[0]!.ok, false);
  });

  test('typed arrays and ArrayBuffer are not installed (QuickJS does not count them against the heap limit)', () => {
    const outcome = run('export function transform() { return [typeof ArrayBuffer, typeof Uint8Array, typeof DataView, typeof SharedArrayBuffer, typeof Atomics].join(); }', [1]);
    assert.deepEqual(outcome.outcomes[0], { ok: true, value: 'undefined,undefined,undefined,undefined,undefined' });
  });

  test('an interrupted call blames the value it was working on and continues with the rest', () => {
    const outcome = run("export function transform(v) { if (v === 2) for (;;) {} return v * 10; }", [1, 2, 3]);
    assert.deepEqual(outcome.outcomes[0], { ok: true, value: 10 });
    assert.equal(outcome.outcomes[1]!.ok, false);
    assert.equal(!outcome.outcomes[1]!.ok && outcome.outcomes[1]!.kind, 'timeout');
    assert.deepEqual(outcome.outcomes[2], { ok: true, value: 30 });
    assert.equal(outcome.calls, 2);
    assert.equal(outcome.healthy, false);
  });

  test('the response budget bounds the time one directive takes', async () => {
    const tight = await QuickJSSandbox.create({ callTimeoutMs: 30, responseBudgetMs: 100 });
    try {
      const started = performance.now();
      const outcome = tight.runBatch({ key: 'loop', label: 'loop.js', source: 'export function transform() { for (;;) {} }' }, batch([1, 2, 3, 4, 5, 6, 7, 8]));
      assert.ok(performance.now() - started < 2000);
      assert.ok(outcome.outcomes.every((o) => !o.ok && o.kind === 'timeout'));
      assert.ok(outcome.calls <= 5, `calls: ${outcome.calls}`);
      assert.ok(outcome.outcomes.some((o) => !o.ok && /time budget/.test(o.detail)), 'the last values are refused without a call');
    } finally {
      tight.close();
    }
  });

  test('a throwing Proxy and a throwing getter are described without escaping', () => {
    const outcome = run("export function transform(v) { if (v === 1) throw new Proxy({}, { getPrototypeOf() { throw new Error('trap'); } }); throw Object.create(Error.prototype, { name: { get() { throw 1; } } }); }", [1, 2]);
    assert.deepEqual(
      outcome.outcomes.map((o) => !o.ok && o.detail),
      ['threw a value that cannot be described', 'threw a value that cannot be described'],
    );
  });

  test('promise jobs left behind do not leak into the next call', () => {
    const source = 'export function transform(v) { Promise.resolve().then(function again() { Promise.resolve().then(again); }); return v; }';
    assert.deepEqual(run(source, [1]).outcomes[0], { ok: true, value: 1 });
    assert.deepEqual(run(source, [2]).outcomes[0], { ok: true, value: 2 });
  });

  test('NaN, functions and symbols are not JSON: the value fails with reason output', () => {
    const outcome = run("export function transform(v) { return [NaN, () => 1, Symbol('s')][v]; }", [0, 1, 2]);
    assert.deepEqual(outcome.outcomes.map((o) => !o.ok && o.kind), ['output', 'output', 'output']);
  });

  test('inputs above the input limit are split into several calls', async () => {
    const small = await QuickJSSandbox.create({ maxInputChars: 100 });
    try {
      const values = Array.from({ length: 10 }, (_, i) => `${'x'.repeat(30)}${i}`);
      const outcome = small.runBatch({ key: 'id', label: 'id.js', source: 'export function transform(v) { return v; }' }, batch(values));
      assert.ok(outcome.calls >= 3, `calls: ${outcome.calls}`);
      assert.deepEqual(outcome.outcomes.map((o) => o.ok && o.value), values);
    } finally {
      small.close();
    }
  });

  test('check() loads a module the way a call would', () => {
    assert.equal(sandbox.check({ key: 'ok', label: 'ok.js', source: MASK }), undefined);
    assert.match(sandbox.check({ key: 'bad', label: 'bad.js', source: 'export default 1;' }) ?? '', /does not export a function named transform/);
    assert.match(sandbox.check({ key: 'loop', label: 'loop.js', source: 'for (;;) {} export function transform() {}' }) ?? '', /did not finish loading/);
  });
});

describe('the privacy example modules', () => {
  let sandbox: QuickJSSandbox;
  before(async () => {
    sandbox = await QuickJSSandbox.create();
  });
  after(() => sandbox.close());

  test('@mask keeps the last n characters, counting astral characters once', () => {
    const outcome = sandbox.runBatch({ key: 'mask', label: 'mask.js', source: MASK }, {
      values: ['ada@example.com', 'abc', '😀😀😀x😀', 'secret', 42],
      args: [{ keep: 4 }, { keep: 0 }],
      argOf: [0, 0, 0, 1, 0],
      contexts: [{}],
      contextOf: [0, 0, 0, 0, 0],
    });
    assert.deepEqual(outcome.outcomes.slice(0, 4).map((o) => o.ok && o.value), ['***********.com', 'abc', '*😀😀x😀', '******']);
    assert.equal(outcome.outcomes[4]!.ok, false, 'a number is not masked');
  });

  test('@formatDate follows daylight-saving rules without Intl', () => {
    const cases: Array<[string, string, string]> = [
      ['2024-03-31T00:59:59Z', 'Europe/Paris', '01:59 +01:00'],
      ['2024-03-31T01:00:00Z', 'Europe/Paris', '03:00 +02:00'],
      ['2024-10-27T00:59:59Z', 'Europe/London', '01:59 +01:00'],
      ['2024-10-27T01:00:00Z', 'Europe/London', '01:00 Z'],
      ['2024-03-10T06:59:00Z', 'America/New_York', '01:59 -05:00'],
      ['2024-03-10T07:00:00Z', 'America/New_York', '03:00 -04:00'],
      ['2024-11-03T05:59:00Z', 'America/New_York', '01:59 -04:00'],
      ['2024-11-03T06:00:00Z', 'America/New_York', '01:00 -05:00'],
      ['2024-04-06T15:59:00Z', 'Australia/Sydney', '02:59 +11:00'],
      ['2024-04-06T16:00:00Z', 'Australia/Sydney', '02:00 +10:00'],
      ['2024-06-01T12:00:00Z', '-03:30', '08:30 -03:30'],
    ];
    const outcome = sandbox.runBatch({ key: 'fd', label: 'format-date.js', source: FORMAT_DATE }, {
      values: cases.map((c) => c[0]),
      args: cases.map((c) => ({ pattern: 'HH:mm XXX', tz: c[1] })),
      argOf: cases.map((_, i) => i),
      contexts: [{ locale: null }],
      contextOf: cases.map(() => 0),
    });
    assert.deepEqual(outcome.outcomes.map((o) => (o.ok ? o.value : o.detail)), cases.map((c) => c[2]));
  });

  test('@formatDate: patterns, locales, epoch milliseconds, and refusals', () => {
    const outcome = sandbox.runBatch({ key: 'fd', label: 'format-date.js', source: FORMAT_DATE }, {
      values: ['2024-07-14T09:05:03.120Z', '2024-07-14T21:05:03Z', 1717234200000, 'yesterday', '2024-07-14'],
      args: [{ pattern: "EEEE d MMMM yyyy 'at' h:mm a, ss.SSS" }, { pattern: 'EEE d MMM yy HH:mm' }, { pattern: "dd.MM.yyyy ''HH''", tz: 'UTC' }, { pattern: 'yyyy' }, { pattern: 'yyyy', tz: 'Mars/Olympus' }],
      argOf: [0, 1, 2, 3, 4],
      contexts: [{ locale: 'en-GB' }, { locale: 'de' }],
      contextOf: [0, 1, 0, 0, 0],
    });
    assert.deepEqual(outcome.outcomes.slice(0, 3).map((o) => o.ok && o.value), ['Sunday 14 July 2024 at 9:05 AM, 03.120', 'Son 14 Jul 24 21:05', "01.06.2024 '09'"]);
    assert.match(!outcome.outcomes[3]!.ok ? outcome.outcomes[3]!.detail : '', /not an ISO 8601 date-time/);
    assert.match(!outcome.outcomes[4]!.ok ? outcome.outcomes[4]!.detail : '', /unknown time zone/);
  });
});

describe('directive breaker', () => {
  test('opens after the threshold, lets one trial through after the cooldown, closes on success', () => {
    let now = 0;
    const breaker = new DirectiveBreaker({ threshold: 2, cooldownMs: 100 }, () => now);
    breaker.record(false);
    assert.equal(breaker.state, 'closed');
    breaker.record(false);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.allow(), false);
    now = 100;
    assert.equal(breaker.state, 'half-open');
    assert.equal(breaker.allow(), true);
    assert.equal(breaker.allow(), false, 'one trial at a time');
    breaker.record(false);
    assert.equal(breaker.state, 'open', 'a failed trial opens it again');
    now = 250;
    assert.equal(breaker.allow(), true);
    breaker.record(true);
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.allow(), true);
  });
});

describe('directive catalog', () => {
  test('definitions: fields only, built-in scalar arguments, no reserved names', () => {
    assert.equal(parseDirectiveDefinition('x', 'directive @mask(keep: Int = 4) on FIELD_DEFINITION | FIELD').name, 'mask');
    assert.equal(parseDirectiveDefinition('x', 'directive @tags(list: [String!]!) repeatable on FIELD').directive.isRepeatable, true);
    for (const [definition, expected] of [
      ['directive @mask on OBJECT', /fields only/],
      ['directive @mask(style: Style) on FIELD', /built-in scalars/],
      ['directive @include on FIELD', /reserved/],
      ['directive @requiresScopes on FIELD', /reserved/],
      ['directive @graftSecret on FIELD', /reserved/],
      ['type Query { a: Int }', /not one directive definition/],
      ['directive @mask(', /does not parse/],
    ] as const) {
      assert.throws(() => parseDirectiveDefinition('x', definition), (error: Error & { code?: string }) => error.code === 'DIRECTIVE_INVALID' && expected.test(error.message), definition);
    }
  });

  test('a breaking definition change needs a major version; a compatible one does not', async () => {
    const sandbox = await QuickJSSandbox.create();
    try {
      const source = 'export function transform(v) { return v; }';
      const input = (version: string, definition: string) => ({
        extension: 'privacy',
        version,
        declarations: [{ definition, module: './m.js' }],
        sources: { './m.js': source },
        sdl: 'type Query { a: Int }',
        previous: { version: '1.2.0', declarations: [{ definition: 'directive @mask(keep: Int = 4) on FIELD_DEFINITION | FIELD', module: './m.js' }] },
        others: [],
      });
      const compatible = await checkDirectivePublish(input('1.3.0', 'directive @mask(keep: Int = 4, char: String = "*") on FIELD_DEFINITION | FIELD'), sandbox);
      assert.equal(compatible.modules[0]?.name, 'mask');
      for (const definition of ['directive @mask(keep: Int = 4) on FIELD_DEFINITION', 'directive @mask(keep: Int!) on FIELD_DEFINITION | FIELD', 'directive @mask(keep: String = "4") on FIELD_DEFINITION | FIELD']) {
        await assert.rejects(checkDirectivePublish(input('1.3.0', definition), sandbox), (error: Error & { code?: string }) => error.code === 'PUBLISH_REJECTED' && /2\.0\.0/.test(error.message), definition);
        assert.equal((await checkDirectivePublish(input('2.0.0', definition), sandbox)).modules.length, 1);
      }
      await assert.rejects(
        checkDirectivePublish({ ...input('1.3.0', 'directive @mask(keep: Int = 4) on FIELD_DEFINITION | FIELD'), sdl: 'directive @mask(keep: Int = 2) on FIELD_DEFINITION | FIELD\ntype Query { a: Int }' }, sandbox),
        /defines @mask as/,
      );
    } finally {
      sandbox.close();
    }
  });

  test('links name the extension that implements a directive, renames included', () => {
    const linked = linkedDirectives(
      parse(`extend schema @link(url: "https://graft.dev/directives/privacy/v1.0", import: ["@mask", { name: "@formatDate", as: "@date" }]) @link(url: "https://example.com/other/v1.0", import: ["@x"])`),
    );
    assert.deepEqual([...linked], [
      ['mask', { extension: 'privacy', name: 'mask' }],
      ['date', { extension: 'privacy', name: 'formatDate' }],
    ]);
  });

  test('modulesOfVersion pairs declarations with stored sources', () => {
    const modules = modulesOfVersion({
      extension: 'privacy',
      version: '1.0.0',
      manifest: { directives: [{ definition: 'directive @mask on FIELD', module: './a.js' }, { definition: 'directive @gone on FIELD', module: './b.js' }] },
      directiveModules: { './a.js': 'A' },
    });
    assert.deepEqual(modules, [{ extension: 'privacy', version: '1.0.0', name: 'mask', definition: 'directive @mask on FIELD', modulePath: './a.js', source: 'A' }]);
  });
});

describe('per-supergraph preparation and the operation rewrite', () => {
  const api = buildSchema(`
    type Query { node: Node people: [Person!]! }
    interface Node { id: ID! }
    type Person implements Node { id: ID! email: String name: String! }
    type Robot implements Node { id: ID! serial: String! }
  `);
  const supergraph = `
    extend schema @link(url: "https://graft.dev/directives/privacy/v1.0", import: ["@mask", "@gone"])
    directive @mask(keep: Int = 4) on FIELD_DEFINITION | FIELD
    directive @gone on FIELD_DEFINITION
    interface Node { id: ID! @gone }
    type Person implements Node { id: ID! email: String @mask(keep: 2) name: String! }
    type Robot implements Node { id: ID! serial: String! }
    type Query { node: Node people: [Person!]! }
  `;
  const mask: DirectiveModule = { extension: 'privacy', version: '1.0.0', name: 'mask', definition: 'directive @mask(keep: Int = 4) on FIELD_DEFINITION | FIELD', modulePath: './m.js', source: '' };
  const prepared = prepareDirectives(supergraph, api, [mask]);

  test('reads FIELD_DEFINITION usages from the supergraph, with defaults, interfaces and unimplemented links', () => {
    const person = api.getType('Person') as import('graphql').GraphQLObjectType;
    const email = prepared.fieldApplications(person, 'email');
    assert.deepEqual(email.map((a) => [a.entry.name, a.args]), [['mask', { keep: 2 }]]);
    const id = prepared.fieldApplications(person, 'id');
    assert.deepEqual(id.map((a) => [a.entry.name, a.entry.module === undefined]), [['gone', true]], 'inherited from Node; no module: fails closed');
    assert.deepEqual([...prepared.operationDirectives], ['mask']);
    assert.ok(prepared.extendedSchema.getDirective('mask'));
    assert.equal(prepared.extendedSchema.getType('Person'), api.getType('Person'), 'the extended schema shares the type objects');
  });

  test('relevance: a document with no directive and no directive-bearing field needs nothing', () => {
    assert.equal(isRelevant(prepared, parse('{ people { name } }')), false);
    assert.equal(isRelevant(prepared, parse('{ people { email } }')), true);
    assert.equal(isRelevant(prepared, parse('{ people { name @mask } }')), true);
    assert.equal(rewriteDocument(prepared, parse('{ people { name } }')), undefined);
  });

  test('the planned document loses the operation directives and their variables, and gains concrete types', () => {
    const rewritten = rewriteDocument(prepared, parse('query Q($k: Int, $skip: Boolean!) { node { id ... on Person { name @mask(keep: $k) @skip(if: $skip) } } people { email } }'));
    assert.ok(rewritten && !(rewritten instanceof GraphQLError));
    assert.equal(
      print(rewritten.document).replace(/\s+/g, ' '),
      'query Q($skip: Boolean!) { node { id ... on Person { name @skip(if: $skip) } __graft_typename: __typename } people { email } }',
    );
    assert.equal(rewritten.queryHash.length, 64);
    assert.ok(rewriteDocument(prepared, parse('{ people { __graft_x: name @mask } }')) instanceof GraphQLError);
  });
});

describe('output check', () => {
  const schema = buildSchema('enum Color { RED } scalar JSON type Query { s: String! i: Int f: Float b: Boolean id: ID c: Color j: JSON l: [String!] o: Query }');
  const type = (field: string) => schema.getQueryType()!.getFields()[field]!.type;
  test('leaf values must fit the field type; custom scalars take any JSON', () => {
    assert.equal(conformsTo('x', type('s')), true);
    assert.equal(conformsTo(null, type('s')), false);
    assert.equal(conformsTo(1, type('s')), false);
    assert.equal(conformsTo(2 ** 31, type('i')), false);
    assert.equal(conformsTo(1.5, type('i')), false);
    assert.equal(conformsTo(1.5, type('f')), true);
    assert.equal(conformsTo('true', type('b')), false);
    assert.equal(conformsTo(7, type('id')), true);
    assert.equal(conformsTo('RED', type('c')), true);
    assert.equal(conformsTo('BLUE', type('c')), false);
    assert.equal(conformsTo({ any: [1] }, type('j')), true);
    assert.equal(conformsTo(['a'], type('l')), true);
    assert.equal(conformsTo(['a', null], type('l')), false);
    assert.equal(conformsTo({}, type('o')), true);
    assert.equal(conformsTo([], type('o')), false);
  });
});

describe('DirectiveRuntime staging', () => {
  // Only an activated supergraph's directives become the latest: a prepared snapshot that
  // is discarded (a publish that lost a conflict) must not leak its modules into the next one.
  test('a discarded snapshot never becomes the directives later supergraphs inherit', async () => {
    const runtime = await DirectiveRuntime.create();
    const agent = new Agent();
    const gateway = new GraftGateway({
      runtime: new ExtensionRuntimeTable(),
      agent,
      upstream: { defaultTimeoutMs: 1000, tokens: await UpstreamTokenIssuer.create({ issuer: 'graft-test' }) },
      resilience: DEFAULT_RESILIENCE,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      resultSteps: [runtime.resultStep],
    });
    try {
      const announced: string[][] = [];
      runtime.wrap(gateway).onSchemaLoadOrUpdate(({ apiSchema }) => announced.push(apiSchema.getDirectives().map((d) => d.name).filter((n) => n === 'one' || n === 'two')));
      const module = (name: string): DirectiveModule => ({ extension: 'x', version: '1.0.0', name, definition: `directive @${name} on FIELD`, modulePath: `${name}.js`, source: 'export function transform(v) { return v; }' });
      const supergraph = (field: string) => {
        const sdl = composeOrThrow([{ name: 'x', url: 'http://127.0.0.1:1/graphql', sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"]) type Query { ${field}: String }` }]).supergraphSdl;
        return { hash: supergraphHash(sdl), sdl };
      };

      const a = supergraph('a');
      runtime.stage(a.hash, [module('one')]);
      gateway.activate(await gateway.prepare(a), 1);
      const b = supergraph('b');
      runtime.stage(b.hash, [module('two')]);
      await gateway.discard(await gateway.prepare(b));
      // Not staged: inherits the directives served now, those of a.
      gateway.activate(await gateway.prepare(supergraph('c')), 3);
      assert.deepEqual(announced, [['one'], ['one']]);
    } finally {
      await gateway.stop();
      await agent.close();
      runtime.close();
    }
  });
});
