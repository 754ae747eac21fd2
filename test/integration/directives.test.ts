// Extension resolver directives end to end (issue 6): the privacy example extension
// declares @mask and @formatDate in graft.json, crm applies @mask to Customer.email with
// @link + @composeDirective, frontends apply them in operations, and the gateway runs them
// in its QuickJS sandbox after execution. Real HTTP, real SQLite, real JWTs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signDevToken } from '../../gateway/auth/index.js';
import { loadDirectiveSources } from '../../gateway/directives/index.js';
import { loadManifestFile } from '../../gateway/manifest/index.js';
import type { GraftServer } from '../../gateway/server/index.js';
import { customers } from '../../subgraphs/seed/index.js';
import { extension as privacyExtension, PRIVACY_NOTICE } from '../../subgraphs/privacy/index.js';
import type { RunningExtension } from '../../subgraphs/sdk/index.js';
import {
  REPO_ROOT,
  exampleManifest,
  exampleUserToken,
  gatewayAuthOf,
  graphql,
  http,
  publish,
  startExamples,
  startGateway,
  startGraftWithExamples,
  startRecordingSubgraph,
  tempDir,
  tokenFor,
  type GraphQLBody,
  type RecordingSubgraph,
  type RunningExamples,
} from '../helpers/index.js';

const PRIVACY_MANIFEST = join(REPO_ROOT, 'subgraphs', 'privacy', 'graft.json');

/** privacy's publish body: manifest (with this test's URL), SDL and the directive module sources. */
async function privacyPublish(url: string, changes: Record<string, unknown> = {}) {
  const { manifest, sdl } = await loadManifestFile(PRIVACY_MANIFEST);
  const directiveModules = await loadDirectiveSources(PRIVACY_MANIFEST, manifest);
  return { manifest: { ...manifest, subgraph: { ...manifest.subgraph, url }, ...changes } as Record<string, unknown>, sdl, directiveModules };
}

function masked(value: string, keep: number): string {
  return value.length <= keep ? value : '*'.repeat(value.length - keep) + value.slice(value.length - keep);
}

/** A subgraph with raw dates, to apply directives from operations only. */
const CALENDAR_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Query { events: [Event!]! }
interface Entry { id: ID! title: String! }
type Event implements Entry @key(fields: "id") { id: ID! title: String! at: String! owner: String }
`;
const EVENTS = [
  { id: 'e1', title: 'Launch', at: '2024-07-14T22:30:00Z', owner: 'ada@example.com' },
  { id: 'e2', title: 'Review', at: '2024-01-15T08:05:00Z', owner: null },
];

describe('resolver directives: the privacy example with crm', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: GraftServer;
  let examples: RunningExamples;
  let privacy: RunningExtension;
  let calendar: RecordingSubgraph;
  let admin: string;
  let user: string;

  before(async () => {
    dir = await tempDir();
    server = await startGateway(dir.path);
    examples = await startExamples(gatewayAuthOf(server));
    privacy = await privacyExtension.listen({ port: 0, auth: gatewayAuthOf(server) });
    calendar = await startRecordingSubgraph(CALENDAR_SDL, { Query: { events: () => EVENTS } });
    admin = await tokenFor(server, 'admin', ['graft:admin']);
    user = await exampleUserToken(server);
    const first = await publish(server, admin, await privacyPublish(privacy.url));
    assert.equal(first.status, 201, JSON.stringify(first.body));
    for (const name of ['crm', 'orders', 'inventory'] as const) {
      const published = await publish(server, admin, await exampleManifest(name, examples[name].url));
      assert.equal(published.status, 201, JSON.stringify(published.body));
    }
    const published = await publish(server, admin, { manifest: { name: 'calendar', version: '1.0.0', owner: 'tests', subgraph: { url: calendar.url, schema: 'calendar.graphql' } }, sdl: CALENDAR_SDL });
    assert.equal(published.status, 201, JSON.stringify(published.body));
  });

  after(async () => {
    await server?.close();
    await examples?.close();
    await privacy?.close();
    await calendar?.close();
    await dir?.remove();
  });

  test("crm's Customer.email is masked by the @mask its SDL applies (FIELD_DEFINITION, read from the supergraph)", async () => {
    const { status, body } = await graphql(server, '{ customers(first: 10) { id name email } }', { token: user });
    assert.equal(status, 200);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const served = body.data?.['customers'] as Array<{ id: string; name: string; email: string | null }>;
    assert.equal(served.length, 10);
    for (const [i, customer] of served.entries()) {
      const seed = customers[i]!;
      assert.equal(customer.name, seed.name, 'fields without a directive are untouched');
      assert.equal(customer.email, seed.email === null ? null : masked(seed.email, 4));
    }
    assert.ok(served.some((c) => c.email === null), 'a null e-mail stays null, without an error');
  });

  test('a frontend applies directives in its operation; they run after the schema ones, in document order', async () => {
    const seed = customers[0]!;
    const { body } = await graphql(server, `{ customer(id: "${seed.id}") { email @mask(keep: 2) name @mask(keep: 3) plain: name } }`, { token: user });
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.deepEqual(body.data, { customer: { email: masked(masked(seed.email!, 4), 2), name: masked(seed.name, 3), plain: seed.name } });
  });

  test('directive arguments take variables', async () => {
    const seed = customers[1]!;
    const { body } = await graphql(server, `query Q($keep: Int!) { customer(id: "${seed.id}") { name @mask(keep: $keep) } }`, { token: user, variables: { keep: 1 } });
    assert.deepEqual(body.data, { customer: { name: masked(seed.name, 1) } });
  });

  test('privacy applies @formatDate and @mask to its own fields', async () => {
    const { body } = await graphql(server, '{ privacyNotice { version updatedAt contact } }', { token: user });
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.deepEqual(body.data, { privacyNotice: { version: PRIVACY_NOTICE.version, updatedAt: '2024-06-01', contact: masked(PRIVACY_NOTICE.contact, 11) } });
  });

  test("@formatDate in an operation formats in a time zone with the request's locale, and no subgraph sees the directives", async () => {
    const before = calendar.received.length;
    const query = `{ events { id at @formatDate(pattern: "EEEE d MMMM yyyy 'à' HH:mm XXX", tz: "Europe/Paris") utc: at @formatDate(pattern: "yyyy-MM-dd HH:mm") owner @mask(keep: 4) } }`;
    const { status, body } = await http<GraphQLBody>(`${server.url}/graphql`, { token: user, body: { query }, headers: { 'accept-language': 'fr-FR,fr;q=0.9' } });
    assert.equal(status, 200);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.deepEqual(body.data, {
      events: [
        { id: 'e1', at: 'lundi 15 juillet 2024 à 00:30 +02:00', utc: '2024-07-14 22:30', owner: '***********.com' },
        { id: 'e2', at: 'lundi 15 janvier 2024 à 09:05 +01:00', utc: '2024-01-15 08:05', owner: null },
      ],
    });
    const sent = calendar.received.slice(before).map((r) => r.query).join('\n');
    assert.match(sent, /events/);
    assert.doesNotMatch(sent, /formatDate|mask/);
  });

  test('directives on fields selected through an interface apply by the concrete type', async () => {
    const query = `{ events { ... on Entry { title @mask(keep: 2) } ... on Event { id } } }`;
    const { body } = await graphql(server, query, { token: user });
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.deepEqual(body.data, { events: [{ title: '****ch', id: 'e1' }, { title: '****ew', id: 'e2' }] });
  });

  test('operations are validated against the directive definitions (Apollo Server validation)', async () => {
    const cases = [
      '{ customers(first: 1) { email @mask(keep: "two") } }',
      '{ customers(first: 1) { email @formatDate } }',
      '{ customers(first: 1) { email @nosuchdirective } }',
      'query Q($k: String) { customers(first: 1) { email @mask(keep: $k) } }',
    ];
    for (const query of cases) {
      const { status, body } = await graphql(server, query, { token: user });
      assert.equal(status, 400, query);
      assert.equal(body.errors?.[0]?.extensions?.['code'], 'GRAPHQL_VALIDATION_FAILED', query);
    }
  });

  test('introspection lists the operation directives for frontend tooling', async () => {
    const { body } = await graphql(server, '{ __schema { directives { name locations args { name } } } }', { token: user });
    const directives = (body.data?.['__schema'] as { directives: Array<{ name: string; locations: string[]; args: Array<{ name: string }> }> }).directives;
    const mask = directives.find((d) => d.name === 'mask');
    assert.ok(mask, 'the API schema announces @mask');
    assert.ok(mask.locations.includes('FIELD'));
    assert.deepEqual(mask.args.map((a) => a.name), ['keep']);
    assert.ok(directives.some((d) => d.name === 'formatDate'));
  });

  test('a field authorization denies is null with its own error and is never transformed', async () => {
    const noPii = await tokenFor(server, 'bob', ['crm:read']);
    const { body } = await graphql(server, '{ customers(first: 2) { id email @mask(keep: 1) } }', { token: noPii });
    assert.deepEqual(body.data, { customers: [{ id: customers[0]!.id, email: null }, { id: customers[1]!.id, email: null }] });
    const codes = (body.errors ?? []).map((e) => e.extensions?.['code']);
    assert.ok(codes.length > 0 && codes.every((c) => c === 'UNAUTHORIZED_FIELD_OR_TYPE'), JSON.stringify(body.errors));
  });

  test('the reserved alias prefix of the gateway is refused', async () => {
    const { body } = await graphql(server, '{ events { __graft_typename: title at @mask } }', { token: user });
    assert.equal(body.data, undefined);
    assert.equal(body.errors?.[0]?.extensions?.['code'], 'BAD_REQUEST');
  });

  test('two extensions cannot define the same directive name', async () => {
    const recorder = await startRecordingSubgraph('type Query { other: String }', { Query: { other: () => 'x' } });
    try {
      const result = await publish(server, admin, {
        manifest: {
          name: 'copycat',
          version: '1.0.0',
          owner: 'tests',
          subgraph: { url: recorder.url, schema: 'copycat.graphql' },
          directives: [{ definition: 'directive @mask(keep: Int) on FIELD', module: './mask.js' }],
        },
        sdl: 'type Query { other: String }',
        directiveModules: { './mask.js': 'export function transform(v) { return v; }' },
      } as never);
      assert.equal(result.status, 409, JSON.stringify(result.body));
      assert.equal(result.body['code'], 'DIRECTIVE_NAME_TAKEN');
      assert.equal(result.body['details']['definedBy'], 'privacy');
    } finally {
      await recorder.close();
    }
  });

  test('a publish is refused when a module is missing, does not load, or does not export transform', async () => {
    const recorder = await startRecordingSubgraph('type Query { other: String }', { Query: { other: () => 'x' } });
    try {
      const body = (modules: Record<string, string>, definition = 'directive @upper on FIELD') => ({
        manifest: { name: 'shouty', version: '1.0.0', owner: 'tests', subgraph: { url: recorder.url, schema: 's.graphql' }, directives: [{ definition, module: './upper.js' }] },
        sdl: 'type Query { other: String }',
        directiveModules: modules,
      });
      for (const [modules, definition, expected] of [
        [{}, undefined, /was not sent/],
        [{ './upper.js': 'export function transform(v) { return v.toUpperCase( }' }, undefined, /failed to load: SyntaxError/],
        [{ './upper.js': 'export const transform = 42;' }, undefined, /does not export a function named transform/],
        [{ './upper.js': 'import fs from "fs"; export function transform(v) { return v; }' }, undefined, /could not load module 'fs'/],
        [{ './upper.js': 'export function transform(v) { return v; }' }, 'directive @upper(style: Style) on FIELD', /built-in scalars/],
        [{ './upper.js': 'export function transform(v) { return v; }' }, 'directive @upper on QUERY', /fields only/],
        [{ './upper.js': 'export function transform(v) { return v; }' }, 'directive @skip on FIELD', /reserved/],
      ] as const) {
        const result = await publish(server, admin, body(modules, definition) as never);
        assert.equal(result.status, 400, JSON.stringify(result.body));
        assert.equal(result.body['code'], 'DIRECTIVE_INVALID');
        assert.match(String(result.body['message']), expected);
      }
      const missing = await http(`${server.url}/admin/extensions/shouty`, { token: admin });
      assert.equal(missing.body['activeVersion'] ?? null, null, 'nothing was stored');
    } finally {
      await recorder.close();
    }
  });

  test('a new version of a directive serves at once, and its definition may only break in a major version', async () => {
    const next = await privacyPublish(privacy.url, { version: '1.0.1' });
    next.directiveModules['./directives/mask.js'] = next.directiveModules['./directives/mask.js']!.replaceAll("'*'", "'#'");
    const published = await publish(server, admin, next);
    assert.equal(published.status, 201, JSON.stringify(published.body));
    const { body } = await graphql(server, `{ customer(id: "c1") { email } }`, { token: user });
    assert.equal(body.data?.['customer'] && (body.data['customer'] as { email: string }).email, masked(customers[0]!.email!, 4).replaceAll('*', '#'));

    // @formatDate no longer usable in operations: a breaking change in a minor version.
    const breaking = await privacyPublish(privacy.url, { version: '1.1.0' });
    const definition = 'directive @formatDate(pattern: String!, tz: String = "UTC") on FIELD_DEFINITION';
    (breaking.manifest['directives'] as Array<{ definition: string }>)[1]!.definition = definition;
    breaking.sdl = breaking.sdl.replace('directive @formatDate(pattern: String!, tz: String = "UTC") on FIELD_DEFINITION | FIELD', definition);
    const refused = await publish(server, admin, breaking);
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.equal(refused.body['code'], 'PUBLISH_REJECTED');
  });

  test('graft publish sends the module sources named by graft.json', async () => {
    const fresh = await tempDir();
    const other = await startGateway(fresh.path);
    try {
      const token = await tokenFor(other, 'admin', ['graft:admin']);
      // Asynchronously: the gateway answering the CLI runs in this process.
      await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'bin', 'graft.js'), 'publish', '--manifest', PRIVACY_MANIFEST, '--registry', other.url, '--json'], {
        env: { ...process.env, GRAFT_TOKEN: token },
        encoding: 'utf8',
      });
      const stored = await other.registry.getVersion('privacy', '1.0.0');
      assert.equal(stored?.directiveModules?.['./directives/mask.js'], await readFile(join(REPO_ROOT, 'subgraphs', 'privacy', 'directives', 'mask.js'), 'utf8'));
      assert.ok(stored?.directiveModules?.['./directives/format-date.js']);
    } finally {
      await other.close();
      await fresh.remove();
    }
  });
});

describe('resolver directives: persistence and fail-closed', () => {
  test('the directive modules are stored with their version and served again after a restart', async () => {
    const dir = await tempDir();
    let server = await startGateway(dir.path);
    const examples = await startExamples(gatewayAuthOf(server));
    const privacy = await privacyExtension.listen({ port: 0, auth: gatewayAuthOf(server) });
    try {
      const admin = await tokenFor(server, 'admin', ['graft:admin']);
      assert.equal((await publish(server, admin, await privacyPublish(privacy.url))).status, 201);
      assert.equal((await publish(server, admin, await exampleManifest('crm', examples.crm.url))).status, 201);
      await server.close();
      server = await startGateway(dir.path);
      const user = await tokenFor(server, 'alice', ['crm:read', 'crm:pii']);
      const { body } = await graphql(server, '{ customer(id: "c2") { email @mask(keep: 3) } }', { token: user });
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      assert.deepEqual(body.data, { customer: { email: masked(masked(customers[1]!.email!, 4), 3) } });
    } finally {
      await server.close();
      await examples.close();
      await privacy.close();
      await dir.remove();
    }
  });

  test('without an extension implementing @mask, Customer.email fails closed: null with DIRECTIVE_FAILED, never the raw value', async () => {
    const ctx = await startGraftWithExamples();
    try {
      const user = await exampleUserToken(ctx.server);
      const { body } = await graphql(ctx.server, '{ customers(first: 2) { id name email } }', { token: user });
      const served = body.data?.['customers'] as Array<{ id: string; name: string; email: string | null }>;
      assert.deepEqual(served.map((c) => c.email), [null, null]);
      assert.deepEqual(served.map((c) => c.name), [customers[0]!.name, customers[1]!.name]);
      assert.equal(body.errors?.length, 2);
      for (const [i, error] of (body.errors ?? []).entries()) {
        assert.deepEqual(error.path, ['customers', i, 'email']);
        assert.deepEqual(error.extensions, { code: 'DIRECTIVE_FAILED', directive: 'mask', extension: 'privacy', reason: 'unavailable' });
      }
    } finally {
      await ctx.close();
    }
  });

  test('context carries the locale, the tenant and the variables the arguments name, never the token', async () => {
    const dir = await tempDir();
    const recorder = await startRecordingSubgraph('type Query { word: String! }', { Query: { word: () => 'hello' } });
    const server = await startGateway(dir.path);
    try {
      const admin = await tokenFor(server, 'admin', ['graft:admin']);
      const result = await publish(server, admin, {
        manifest: {
          name: 'echo',
          version: '1.0.0',
          owner: 'tests',
          subgraph: { url: recorder.url, schema: 'echo.graphql' },
          directives: [{ definition: 'directive @inspect(n: Int) on FIELD', module: './inspect.js' }],
        },
        sdl: 'type Query { word: String! }',
        directiveModules: { './inspect.js': 'export function transform(value, args, context) { return JSON.stringify({ value, args, context, keys: Object.keys(context) }); }' },
      } as never);
      assert.equal(result.status, 201, JSON.stringify(result.body));
      const token = await signDevToken(server.devIssuer!, { subject: 'alice', scopes: [], tenant: 'acme', ttlSeconds: 600 });
      const { body } = await http<GraphQLBody>(`${server.url}/graphql`, {
        token,
        headers: { 'accept-language': 'de-CH, en;q=0.5' },
        body: { query: 'query Q($n: Int, $other: Boolean!) { word @inspect(n: $n) again: word @skip(if: $other) }', variables: { n: 7, other: false } },
      });
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      const seen = JSON.parse(String(body.data?.['word'])) as Record<string, unknown>;
      assert.deepEqual(seen, { value: 'hello', args: { n: 7 }, context: { locale: 'de-CH', tenant: 'acme', variables: { n: 7 } }, keys: ['locale', 'tenant', 'variables'] });
      assert.equal(body.data?.['again'], 'hello');
      assert.doesNotMatch(String(body.data?.['word']), new RegExp(token.slice(0, 20)));
    } finally {
      await server.close();
      await recorder.close();
      await dir.remove();
    }
  });
});
