// Schema-versioning rules on publish (issue: schema-versioning checks), through the admin API
// of a real gateway on a real SQLite registry: the semver rule, the deprecation period, admin
// overrides recorded in the audit log and the changelog, registered operations (a publish that
// breaks one is refused even on a major version) and the safelist at /graphql.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { loadConfig } from '../../gateway/config/index.js';
import { startGraftServer, type GraftServer } from '../../gateway/server/index.js';
import { defineExtension, type RunningExtension } from '../../subgraphs/sdk/index.js';
import { gatewayAuthOf, graphql, http, publish, tempDir, tokenFor, runGraft } from '../helpers/index.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])';

/** The people extension's SDL, built from parts so each version states only what it changes. */
function peopleSdl(options: { person?: string; mood?: string; query?: string } = {}): string {
  return [
    LINK,
    `type Person @key(fields: "id") { ${options.person ?? 'id: ID! name: String! nickname: String age: Int'} }`,
    `enum Mood { ${options.mood ?? 'HAPPY SAD'} }`,
    `type Query { ${options.query ?? 'people(first: Int): [Person!]! mood: Mood'} }`,
  ].join('\n');
}

/** What the people server really runs: a superset of every published version. */
const PEOPLE_SERVED = `${LINK}
type Person @key(fields: "id") { id: ID! name: String! nickname: String age: Int }
enum Mood { HAPPY SAD ANGRY }
type Query { people(first: Int, tenant: String): [Person!]! person(id: ID!): Person mood: Mood }`;

const PEOPLE = [
  { id: '1', name: 'Ada', nickname: 'ada', age: 36 },
  { id: '2', name: 'Grace', nickname: 'amazing', age: 45 },
  { id: '3', name: 'Edsger', nickname: null, age: 72 },
];

async function startPeople(server: GraftServer): Promise<RunningExtension> {
  return defineExtension({
    name: 'people',
    typeDefs: PEOPLE_SERVED,
    resolvers: {
      Query: {
        people: (_: unknown, { first }: { first?: number }) => PEOPLE.slice(0, first ?? PEOPLE.length),
        person: (_: unknown, { id }: { id: string }) => PEOPLE.find((p) => p.id === id) ?? null,
        mood: () => 'HAPPY',
      },
    },
  }).listen({ auth: gatewayAuthOf(server) });
}

async function startVersioningGateway(dataDir: string, options: { clock?: () => Date; safelist?: boolean; operationsDir?: string } = {}): Promise<GraftServer> {
  const config = loadConfig(
    { NODE_ENV: 'test' },
    {
      port: 0,
      dataDir,
      logLevel: process.env['GRAFT_LOG_LEVEL'] ?? 'silent',
      versioning: { deprecationDays: 14 },
      // The semver rule as such: a breaking change stays breaking without traffic (usage.test.ts pins the lenient default).
      usage: { strict: true },
      operations: { dir: options.operationsDir, safelist: options.safelist ?? false },
    },
  );
  return startGraftServer({ config, ...(options.clock ? { clock: options.clock } : {}) });
}

const run = runGraft;

describe('versioning rules on publish', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: GraftServer;
  let people: RunningExtension;
  let admin: string;
  let owner: string;
  let offsetDays = 0;

  const manifest = (version: string) => ({ name: 'people', version, owner: 'people-team', subgraph: { url: people.url, schema: 'people.graphql' } });
  const publishAs = (token: string, version: string, sdl: string, force?: { reason: string }) =>
    http<any>(`${server.url}/admin/extensions/people/versions`, { token, body: { manifest: manifest(version), sdl, ...(force ? { force } : {}) } });
  const storedVersions = async () =>
    (await http<any>(`${server.url}/admin/extensions/people/versions`, { token: admin })).body.versions.map((v: any) => v.version) as string[];

  before(async () => {
    dir = await tempDir();
    server = await startVersioningGateway(dir.path, { clock: () => new Date(Date.now() + offsetDays * DAY_MS) });
    people = await startPeople(server);
    admin = await tokenFor(server, 'admin', ['graft:admin']);
    owner = await tokenFor(server, 'people-team', ['graft:publish:people']);
  });
  after(async () => {
    await server?.close();
    await people?.close();
    await dir?.remove();
  });

  test('the first version is published with its change report', async () => {
    const result = await publish(server, admin, { manifest: manifest('1.0.0'), sdl: peopleSdl() });
    assert.equal(result.status, 201, JSON.stringify(result.body));
    assert.equal(result.body['report'].verdict, 'safe');
    assert.equal(result.body['report'].bump, 'initial');
    assert.ok(result.body['report'].changes.some((c: any) => c.type === 'SUBGRAPH_ADDED'));
  });

  test('a patch version without breaking changes is published', async () => {
    const result = await publishAs(owner, '1.0.1', peopleSdl({ query: 'people(first: Int): [Person!]! mood: Mood person(id: ID!): Person' }));
    assert.equal(result.status, 201, JSON.stringify(result.body));
    assert.equal(result.body.report.verdict, 'safe');
    assert.equal(result.body.report.bump, 'patch');
    assert.ok(result.body.report.changes.some((c: any) => c.level === 'api' && c.type === 'FIELD_ADDED' && c.path === 'Query.person'));
  });

  test('a dangerous change needs at least a minor version', async () => {
    // A value added to an enum that clients receive: an exhaustive switch in a frontend may miss it.
    const sdl = peopleSdl({ mood: 'HAPPY SAD ANGRY', query: 'people(first: Int): [Person!]! mood: Mood person(id: ID!): Person' });
    const refused = await publishAs(owner, '1.0.2', sdl);
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'PUBLISH_REJECTED');
    assert.equal(refused.body.details.verdict, 'dangerous');
    assert.equal(refused.body.details.suggestedVersion, '1.1.0');
    assert.match(refused.body.message, /Publish 1\.1\.0/);
    const published = await publishAs(owner, '1.1.0', sdl);
    assert.equal(published.status, 201, JSON.stringify(published.body));
    assert.equal(published.body.report.verdict, 'dangerous');
  });

  const v11Query = 'people(first: Int): [Person!]! mood: Mood person(id: ID!): Person';
  const v11 = (person?: string, query = v11Query) => peopleSdl({ mood: 'HAPPY SAD ANGRY', query, ...(person ? { person } : {}) });

  test('a breaking change on a minor version is refused with PUBLISH_REJECTED, the report and the version to publish instead', async () => {
    const refused = await publishAs(owner, '1.2.0', v11('id: ID! name: String! nickname: String'));
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'PUBLISH_REJECTED');
    assert.equal(refused.body.extension, 'people');
    assert.equal(refused.body.details.verdict, 'breaking');
    assert.ok(refused.body.details.changes.some((c: any) => c.type === 'FIELD_REMOVED' && c.path === 'Person.age' && c.criticality === 'breaking'));
    assert.equal(refused.body.details.suggestedVersion, '2.0.0');
    assert.match(refused.body.message, /Publish 2\.0\.0 \(a new major version\) instead/);
    assert.match(refused.body.message, /Person\.age/);
    assert.deepEqual(await storedVersions(), ['1.1.0', '1.0.1', '1.0.0'], 'nothing was stored');
  });

  test('removing a field that was never deprecated is refused with DEPRECATION_REQUIRED, even on a major version', async () => {
    const refused = await publishAs(owner, '2.0.0', v11('id: ID! name: String! nickname: String'));
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'DEPRECATION_REQUIRED');
    assert.match(refused.body.message, /Person\.age \(field\) was never deprecated/);
    assert.deepEqual(refused.body.details.removals.map((r: any) => [r.coordinate, r.deprecatedSince]), [['Person.age', null]]);
    assert.equal(refused.body.details.deprecationDays, 14);
  });

  test('a breaking change on a major version is published', async () => {
    const result = await publishAs(owner, '2.0.0', v11(undefined, 'people(first: Int!): [Person!]! mood: Mood person(id: ID!): Person'));
    assert.equal(result.status, 201, JSON.stringify(result.body));
    assert.equal(result.body.report.verdict, 'breaking');
    assert.equal(result.body.report.bump, 'major');
  });

  const v2Query = 'people(first: Int!): [Person!]! mood: Mood person(id: ID!): Person';

  test('a removal is refused until its deprecation period is over, then published', async () => {
    const deprecated = await publishAs(owner, '2.1.0', v11('id: ID! name: String! nickname: String age: Int @deprecated(reason: "Use birthday.")', v2Query));
    assert.equal(deprecated.status, 201, JSON.stringify(deprecated.body));
    assert.equal(deprecated.body.report.verdict, 'safe');
    assert.deepEqual(deprecated.body.report.deprecations, [{ coordinate: 'Person.age', reason: 'Use birthday.' }]);
    const deprecatedAt = Date.parse(deprecated.body.version.publishedAt);

    const removed = v11('id: ID! name: String! nickname: String', v2Query);
    offsetDays = 1;
    const early = await publishAs(owner, '3.0.0', removed);
    assert.equal(early.status, 422, JSON.stringify(early.body));
    assert.equal(early.body.code, 'DEPRECATION_REQUIRED');
    const [removal] = early.body.details.removals;
    assert.equal(removal.coordinate, 'Person.age');
    assert.equal(removal.deprecatedInVersion, '2.1.0');
    assert.equal(Date.parse(removal.deprecatedSince), deprecatedAt);
    assert.equal(Date.parse(removal.earliestRemoval), deprecatedAt + 14 * DAY_MS);
    assert.match(early.body.message, new RegExp(`deprecated since ${new Date(deprecatedAt).toISOString().slice(0, 10)} \\(version 2\\.1\\.0\\)`));
    assert.match(early.body.message, /can be removed from/);

    offsetDays = 15;
    const onTime = await publishAs(owner, '3.0.0', removed);
    assert.equal(onTime.status, 201, JSON.stringify(onTime.body));
    assert.equal(onTime.body.report.removals[0].allowed, true);
    assert.equal(onTime.body.report.forced, null);
  });

  const v3 = (person = 'id: ID! name: String! nickname: String', query = v2Query) => v11(person, query);

  test('forcing a publish needs graft:admin: an owner is refused with FORBIDDEN', async () => {
    const refused = await publishAs(owner, '4.0.0', v3('id: ID! name: String!'), { reason: 'we are in a hurry' });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'FORBIDDEN');
    assert.match(refused.body.message, /graft:admin/);
    assert.deepEqual((await storedVersions())[0], '3.0.0');
  });

  test('an admin may force a removal without deprecation; the override is recorded in the audit log and the report', async () => {
    const reason = 'nickname leaked personal data (INC-42)';
    const result = await publishAs(admin, '4.0.0', v3('id: ID! name: String!'), { reason });
    assert.equal(result.status, 201, JSON.stringify(result.body));
    assert.equal(result.body.report.forced.by, 'admin');
    assert.equal(result.body.report.forced.reason, reason);
    assert.deepEqual(result.body.report.forced.overrode.removals.map((r: any) => r.coordinate), ['Person.nickname']);

    const audit = await http<any>(`${server.url}/admin/audit?extension=people&limit=1`, { token: admin });
    const [event] = audit.body.events;
    assert.equal(event.action, 'publish');
    assert.equal(event.actor, 'admin');
    assert.equal(event.details.version, '4.0.0');
    assert.deepEqual(event.details.forced, { reason, overrode: { removals: ['Person.nickname'], operations: [] } });

    const stored = await http<any>(`${server.url}/admin/extensions/people/versions/4.0.0`, { token: owner });
    assert.equal(stored.body.report.forced.reason, reason);
  });

  const v4 = (query = v2Query) => v11('id: ID! name: String!', query);

  test('operations are registered, validated against the API schema, listed and deleted by admins only', async () => {
    const document = 'query PersonNames {\n  people(first: 2) { id name }\n}';
    const byOwner = await http<any>(`${server.url}/admin/operations`, { token: owner, body: { name: 'PersonNames', document } });
    assert.equal(byOwner.status, 403);
    const invalid = await http<any>(`${server.url}/admin/operations`, { token: admin, body: { name: 'PersonAges', document: 'query PersonAges { people(first: 2) { age } }' } });
    assert.equal(invalid.status, 400, JSON.stringify(invalid.body));
    assert.equal(invalid.body.code, 'OPERATION_INVALID');
    assert.match(invalid.body.message, /Cannot query field "age"/);
    const misnamed = await http<any>(`${server.url}/admin/operations`, { token: admin, body: { name: 'Other', document } });
    assert.equal(misnamed.body.code, 'OPERATION_INVALID');

    const created = await http<any>(`${server.url}/admin/operations`, { token: admin, body: { name: 'PersonNames', document, client: 'people-app' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.hash, createHash('sha256').update(document).digest('hex'));
    assert.equal(created.body.client, 'people-app');
    const again = await http<any>(`${server.url}/admin/operations`, { token: admin, body: { name: 'PersonNames', document, client: 'people-app' } });
    assert.equal(again.status, 200, 'registering the same name again replaces it');

    const temporary = await http<any>(`${server.url}/admin/operations`, { token: admin, body: { name: 'Mood', document: 'query Mood { mood }' } });
    assert.equal(temporary.status, 201);
    const listed = await http<any>(`${server.url}/admin/operations`, { token: admin });
    assert.deepEqual(listed.body.operations.map((o: any) => o.name), ['Mood', 'PersonNames']);
    assert.equal(listed.body.operations[1].document, document, 'the shape graft check --registry reads');
    const deleted = await http<any>(`${server.url}/admin/operations/Mood`, { method: 'DELETE', token: admin });
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.name, 'Mood');
    const missing = await http<any>(`${server.url}/admin/operations/Mood`, { method: 'DELETE', token: admin });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'OPERATION_NOT_FOUND');
  });

  test('a publish that breaks a registered operation is refused even on a major version, naming the operation', async () => {
    const breaking = v4('people(first: Int!, tenant: String!): [Person!]! mood: Mood person(id: ID!): Person');
    const onMinor = await publishAs(owner, '4.1.0', breaking);
    assert.equal(onMinor.body.code, 'PUBLISH_REJECTED');
    assert.equal(onMinor.body.details.rule, 'semver');
    assert.match(onMinor.body.message, /Publish 5\.0\.0/);

    const onMajor = await publishAs(owner, '5.0.0', breaking);
    assert.equal(onMajor.status, 422, JSON.stringify(onMajor.body));
    assert.equal(onMajor.body.code, 'PUBLISH_REJECTED');
    assert.equal(onMajor.body.details.rule, 'registered-operations');
    assert.deepEqual(onMajor.body.details.affectedOperations.map((o: any) => o.name), ['PersonNames']);
    assert.match(onMajor.body.message, /PersonNames/);
    assert.match(onMajor.body.message, /even in a new major version/);

    const forced = await publishAs(admin, '5.0.0', breaking, { reason: 'people-app 3.0 ships the new PersonNames today' });
    assert.equal(forced.status, 201, JSON.stringify(forced.body));
    assert.deepEqual(forced.body.report.forced.overrode.operations, ['PersonNames']);
    assert.deepEqual(forced.body.report.affectedOperations.map((o: any) => o.name), ['PersonNames']);
  });

  test('the changelog lists every version newest first, with verdicts, grouped changes, overrides and deprecations', async () => {
    const other = await tokenFor(server, 'crm-team', ['graft:publish:crm']);
    assert.equal((await http<any>(`${server.url}/admin/extensions/people/changelog`, { token: other })).status, 403);
    assert.equal((await http<any>(`${server.url}/admin/extensions/ghost/changelog`, { token: admin })).body.code, 'EXTENSION_NOT_FOUND');

    const { status, body } = await http<any>(`${server.url}/admin/extensions/people/changelog`, { token: owner });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.extension, 'people');
    assert.equal(body.deprecationDays, 14);
    assert.deepEqual(
      body.entries.map((e: any) => [e.version, e.verdict]),
      [
        ['5.0.0', 'breaking'],
        ['4.0.0', 'breaking'],
        ['3.0.0', 'breaking'],
        ['2.1.0', 'safe'],
        ['2.0.0', 'breaking'],
        ['1.1.0', 'dangerous'],
        ['1.0.1', 'safe'],
        ['1.0.0', 'safe'],
      ],
    );
    const v400 = body.entries[1];
    assert.equal(v400.publishedBy, 'admin');
    assert.equal(v400.forced.reason, 'nickname leaked personal data (INC-42)');
    assert.ok(v400.changes.breaking.some((c: any) => c.path === 'Person.nickname' && c.type === 'FIELD_REMOVED'));
    assert.ok(body.entries[5].changes.dangerous.some((c: any) => c.path === 'Mood.ANGRY'));
    const v210 = body.entries[3];
    assert.equal(v210.deprecations[0].coordinate, 'Person.age');
    assert.equal(Date.parse(v210.deprecations[0].earliestRemoval), Date.parse(v210.publishedAt) + 14 * DAY_MS);
    assert.deepEqual(body.entries[0].affectedOperations, ['PersonNames']);
  });

  test('graft changelog renders the changelog as text, markdown and JSON', async () => {
    const json = await run(['changelog', 'people', '--registry', server.url, '--token', owner, '--format', 'json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout).entries.map((e: any) => e.version)[0], '5.0.0');

    const text = await run(['changelog', 'people', '--registry', server.url, '--token', owner]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Changelog of people \(deprecation period: 14 days\)/);
    assert.match(text.stdout, /4\.0\.0 {2}\d{4}-\d\d-\d\d {2}by admin {2}BREAKING \(major bump over 3\.0\.0\)\n {2}FORCED by admin: "nickname leaked personal data \(INC-42\)"; overrode the deprecation rule for Person\.nickname \(never deprecated\)/);
    assert.match(text.stdout, /Person\.age \("Use birthday\."\): deprecated since \d{4}-\d\d-\d\d \(2\.1\.0\), may be removed from \d{4}-\d\d-\d\d/);
    assert.ok(text.stdout.indexOf('5.0.0') < text.stdout.indexOf('1.0.0'), 'newest first');

    const markdown = await run(['changelog', 'people', '--format', 'markdown', '--registry', server.url, '--token', owner]);
    assert.equal(markdown.code, 0, markdown.stderr);
    assert.match(markdown.stdout, /^# Changelog of `people`/);
    assert.match(markdown.stdout, /## 4\.0\.0 — \d{4}-\d\d-\d\d\n\nPublished by \*\*admin\*\* · verdict \*\*breaking\*\*/);
    assert.match(markdown.stdout, /> \*\*Forced\*\* by \*\*admin\*\*: nickname leaked personal data/);
    assert.match(markdown.stdout, /### Breaking\n\n- `Person\.nickname` Field 'nickname' was removed/);

    const unknown = await run(['changelog', 'ghost', '--registry', server.url, '--token', owner]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /FORBIDDEN|EXTENSION_NOT_FOUND/);
  });

  test('in 0.y.z a minor bump is the major one and a patch bump the minor one', async () => {
    const sdl = (query: string) => `${LINK}\nenum Level { LOW HIGH }\ntype Query { ${query} }`;
    const beta = (version: string, query: string) =>
      publish(server, admin, { manifest: { name: 'beta', version, owner: 'tests', subgraph: { url: people.url, schema: 'beta.graphql' } }, sdl: sdl(query) });
    assert.equal((await beta('0.1.0', 'betaLevel(at: Int): Level')).status, 201);
    const dangerousOnPatch = await beta('0.1.1', 'betaLevel(at: Int): Level betaNew: String @deprecated(reason: "experiment")');
    assert.equal(dangerousOnPatch.status, 201, JSON.stringify(dangerousOnPatch.body));
    const breakingOnPatch = await beta('0.1.2', 'betaLevel(at: Int!): Level betaNew: String @deprecated(reason: "experiment")');
    assert.equal(breakingOnPatch.body.code, 'PUBLISH_REJECTED');
    assert.equal(breakingOnPatch.body.details.suggestedVersion, '0.2.0');
    assert.match(breakingOnPatch.body.message, /Publish 0\.2\.0 \(a new minor version, which is the major one in 0\.y\.z\)/);
    assert.equal((await beta('0.2.0', 'betaLevel(at: Int!): Level betaNew: String @deprecated(reason: "experiment")')).status, 201);
  });
});

describe('registered operations at start and the safelist', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: GraftServer;
  let people: RunningExtension;
  let admin: string;
  const fileDocument = '# The people list page.\nquery PeopleList {\n  people(first: 2) {\n    id\n    name\n  }\n}\n';

  before(async () => {
    dir = await tempDir();
    const operationsDir = join(dir.path, 'operations');
    await mkdir(operationsDir);
    await writeFile(join(operationsDir, 'PeopleList.graphql'), fileDocument);
    server = await startVersioningGateway(join(dir.path, 'data'), { safelist: true, operationsDir });
    people = await startPeople(server);
    admin = await tokenFor(server, 'admin', ['graft:admin']);
    const published = await publish(server, admin, {
      manifest: { name: 'people', version: '1.0.0', owner: 'tests', subgraph: { url: people.url, schema: 'people.graphql' } },
      sdl: peopleSdl(),
    });
    assert.equal(published.status, 201, JSON.stringify(published.body));
  });
  after(async () => {
    await server?.close();
    await people?.close();
    await dir?.remove();
  });

  test('the operations of GRAFT_OPERATIONS_DIR are registered at start', async () => {
    const { body } = await http<any>(`${server.url}/admin/operations`, { token: admin });
    assert.deepEqual(body.operations.map((o: any) => [o.name, o.registeredBy]), [['PeopleList', 'graft-system']]);
    assert.doesNotMatch(body.operations[0].document, /#/, 'stored in canonical form');
  });

  test('the safelist serves a registered operation: by its text, by its persisted-query hash, or by its name', async () => {
    const expected = { people: [{ id: '1', name: 'Ada' }, { id: '2', name: 'Grace' }] };
    const byText = await graphql(server, fileDocument);
    assert.equal(byText.status, 200, JSON.stringify(byText.body));
    assert.deepEqual(byText.body.data, expected);

    const { body: list } = await http<any>(`${server.url}/admin/operations`, { token: admin });
    const byHash = await http<any>(`${server.url}/graphql`, { body: { extensions: { persistedQuery: { version: 1, sha256Hash: list.operations[0].hash } } } });
    assert.equal(byHash.status, 200, JSON.stringify(byHash.body));
    assert.deepEqual(byHash.body.data, expected);

    const byName = await http<any>(`${server.url}/graphql`, { body: { operationName: 'PeopleList' } });
    assert.equal(byName.status, 200, JSON.stringify(byName.body));
    assert.deepEqual(byName.body.data, expected);
  });

  test('the safelist refuses an unregistered operation with OPERATION_NOT_REGISTERED before validation', async () => {
    const refused = await graphql(server, '{ people(first: 3) { id name nickname } }');
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.errors?.[0]?.extensions?.['code'], 'OPERATION_NOT_REGISTERED');
    assert.equal(refused.body.data, undefined);
    const invalid = await graphql(server, '{ secretField }');
    assert.equal(invalid.body.errors?.[0]?.extensions?.['code'], 'OPERATION_NOT_REGISTERED', 'no validation error reveals the schema');
    const misnamed = await graphql(server, 'query PeopleList { people(first: 3) { id nickname } }');
    assert.equal(misnamed.body.errors?.[0]?.extensions?.['code'], 'OPERATION_NOT_REGISTERED');
    assert.match(misnamed.body.errors?.[0]?.message ?? '', /not the one registered as PeopleList/);

    const registered = await http<any>(`${server.url}/admin/operations`, {
      token: admin,
      body: { name: 'PeopleNicknames', document: 'query PeopleNicknames { people(first: 3) { id nickname } }' },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const served = await graphql(server, 'query PeopleNicknames { people(first: 3) { id nickname } }');
    assert.equal(served.status, 200, JSON.stringify(served.body));
    assert.equal((served.body.data?.['people'] as unknown[]).length, 3);
  });
});
