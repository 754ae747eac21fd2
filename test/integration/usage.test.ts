// Usage (issue 17) end to end on a real gateway and SQLite registry: requests with client
// headers are counted per normalised operation and client, GET /admin/usage reads them back,
// `graft check --registry` lists the operations a change touches (count, clients, last
// seen) and passes a breaking change nothing used as breaking-unused unless --strict, and
// publish, running the same pipeline, agrees.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { GraftServer } from '../../gateway/server/index.js';
import { defineExtension, type RunningExtension } from '../../subgraphs/sdk/index.js';
import { gatewayAuthOf, http, publish, startGateway, tempDir, tokenFor, type GraphQLBody, runGraft } from '../helpers/index.js';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])';
const sdlWith = (person: string) => `${LINK}\ntype Person @key(fields: "id") { ${person} }\ntype Query { people(first: Int): [Person!]! }`;
const V1 = sdlWith('id: ID! name: String! nickname: String age: Int');

const run = runGraft;

describe('usage: recording and the checks that use it', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: GraftServer;
  let people: RunningExtension;
  let admin: string;
  const manifest = (version: string) => ({ name: 'people', version, owner: 'people-team', subgraph: { url: people.url, schema: 'people.graphql' } });
  const query = (source: string, headers: Record<string, string> = {}) => http<GraphQLBody>(`${server.url}/graphql`, { body: { query: source }, headers });

  before(async () => {
    dir = await tempDir();
    server = await startGateway(dir.path, { usage: { enabled: true, retentionDays: 30, flushMs: 60_000, windowDays: 7, strict: false } });
    people = await defineExtension({
      name: 'people',
      typeDefs: V1,
      resolvers: { Query: { people: (_: unknown, { first }: { first?: number }) => [{ id: '1', name: 'Ada', nickname: 'ada', age: 36 }].slice(0, first ?? 1) } },
    }).listen({ auth: gatewayAuthOf(server) });
    admin = await tokenFor(server, 'admin', ['graft:admin']);
    const published = await publish(server, admin, { manifest: manifest('1.0.0'), sdl: V1 });
    assert.equal(published.status, 201, JSON.stringify(published.body));
  });
  after(async () => {
    await server?.close();
    await people?.close();
    await dir?.remove();
  });

  test('each request is counted under its normalised operation and client; odd client headers never break a request', async () => {
    for (const first of [1, 2, 3]) {
      const answer = await query(`query List { people(first: ${first}) { id n: name } }`, { 'graphql-client-name': 'crm-portal', 'graphql-client-version': '3.2.0' });
      assert.deepEqual(answer.body.errors, undefined);
    }
    await query('query List { people(first: 9) { name id } }', { 'apollographql-client-name': 'mobile', 'apollographql-client-version': '1.0.0' });
    await query('query List { people(first: 9) { name id } }', { 'graphql-client-name': 'x'.repeat(5000), 'graphql-client-version': '<script>' });
    const answer = await query('{ people { id } }');
    assert.deepEqual(answer.body.data, { people: [{ id: '1' }] });
    await server.usage?.flush();

    const usage = await http<any>(`${server.url}/admin/usage?days=1`, { token: admin });
    assert.equal(usage.status, 200, JSON.stringify(usage.body));
    const list = usage.body.operations.find((o: any) => o.name === 'List');
    assert.equal(list.count, 5);
    assert.equal(list.signature, 'query List{people(first:0){id name}}');
    assert.deepEqual(
      list.clients.map((c: any) => `${c.name}@${c.version}=${c.count}`),
      ['crm-portal@3.2.0=3', 'mobile@1.0.0=1', 'other@other=1'],
    );
    assert.ok(list.coordinates.includes('Person.name') && !list.coordinates.includes('Person.nickname'));
    const anonymous = usage.body.operations.find((o: any) => o.name === null);
    assert.deepEqual(anonymous.clients, [{ name: 'unknown', version: 'unknown', count: 1 }]);
    const byCoordinate = await http<any>(`${server.url}/admin/usage?days=1&coordinate=Person.name`, { token: admin });
    assert.deepEqual(byCoordinate.body.operations.map((o: any) => o.name), ['List']);
    assert.equal((await http<any>(`${server.url}/admin/usage`, {})).status, 401);
  });

  test('graft check --registry lists the operations a breaking change touches, with count, clients and last-seen time', async () => {
    const file = join(dir.path, 'people-name.graphql');
    await writeFile(file, sdlWith('id: ID! name: Int! nickname: String age: Int'));
    const result = await run(['check', '--registry', server.url, '--token', admin, '--subgraph', `people=${file}`, '--version', '1.1.0', '--format', 'json']);
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.usage.days, 7, 'the gateway\'s window');
    const [operation] = report.usage.operations;
    assert.equal(operation.name, 'List');
    assert.equal(operation.count, 5);
    assert.deepEqual(operation.touches, ['Person.name']);
    assert.equal(operation.clients[0].name, 'crm-portal');
    assert.ok(Date.parse(operation.lastSeen) <= Date.now());
    assert.equal(report.changes.find((c: any) => c.path === 'Person.name' && c.level === 'api').criticality, 'breaking');
    assert.equal(report.publish.outcome, 'refused');

    // Leaving out the clients that used it (or asking for more requests) leaves nothing using it.
    const excluded = await run(['check', '--registry', server.url, '--token', admin, '--subgraph', `people=${file}`, '--version', '1.1.0', '--format', 'json', '--exclude-client', 'crm-portal', '--exclude-client', 'mobile', '--exclude-client', 'other', '--min-count', '1']);
    assert.equal(excluded.code, 0, excluded.stdout + excluded.stderr);
    assert.deepEqual(JSON.parse(excluded.stdout).usage.unusedBreaking, ['Person.name']);
  });

  test('a breaking change nothing used passes as breaking-unused; --strict fails it; publish agrees', async () => {
    const file = join(dir.path, 'people-nickname.graphql');
    const sdl = sdlWith('id: ID! name: String! nickname: Int age: Int');
    await writeFile(file, sdl);
    const args = ['check', '--registry', server.url, '--token', admin, '--subgraph', `people=${file}`, '--version', '1.1.0'];
    const lenient = await run(args);
    assert.equal(lenient.code, 0, lenient.stdout + lenient.stderr);
    assert.match(lenient.stdout, /breaking-unused Person\.nickname/);
    assert.match(lenient.stdout, /Publish would accept it/);

    const strict = await run([...args, '--strict']);
    assert.equal(strict.code, 1, strict.stdout);
    assert.match(strict.stdout, /PUBLISH_REJECTED/);
    assert.match(strict.stdout, /breaking-unused Person\.nickname/);

    const bad = await run([...args, '--usage-days', 'seven']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--usage-days takes a whole number/);

    const published = await publish(server, admin, { manifest: manifest('1.1.0'), sdl });
    assert.equal(published.status, 201, JSON.stringify(published.body));
    const report = (published.body as any).report;
    assert.equal(report.verdict, 'dangerous');
    assert.equal(report.changes.find((c: any) => c.level === 'api' && c.path === 'Person.nickname').label, 'breaking-unused');
  });
});
