// Least privilege at the edge, proven with a subgraph that records what it receives:
// denied fields are never sent, the user's token is never forwarded, and each extension
// gets a short-lived token scoped to (user scopes ∩ its grants).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { GraftServer } from '../../gateway/server/index.js';
import { exampleUserToken, graphql, http, publish, startGateway, startGraftWithExamples, startRecordingSubgraph, tempDir, tokenFor, type RecordingSubgraph } from '../helpers/index.js';


const SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes", "@policy"])
type Query {
  publicInfo: String
  me: Member @authenticated
  members: [Member!]! @requiresScopes(scopes: [["rec:read"]])
  member(id: ID!): Member @requiresScopes(scopes: [["rec:read"]])
}
type Member @key(fields: "id") {
  id: ID!
  name: String!
  email: String @requiresScopes(scopes: [["rec:pii"], ["rec:admin"]])
  nick: String! @requiresScopes(scopes: [["rec:nick"]])
  salary: Int @policy(policies: [["hr"]])
}`;

const MEMBERS = [
  { id: '1', name: 'Ada', email: 'ada@example.com', nick: 'ada', salary: 10 },
  { id: '2', name: 'Bob', email: 'bob@example.com', nick: 'bob', salary: 20 },
];

const resolvers = {
  Query: {
    publicInfo: () => 'hello',
    me: () => MEMBERS[0],
    members: () => MEMBERS,
    member: (_: unknown, { id }: { id: string }) => MEMBERS.find((m) => m.id === id) ?? null,
  },
};

const MANIFEST = (url: string, grants = ['rec:read', 'rec:pii', 'rec:nick', 'rec:admin']) => ({
  name: 'rec',
  version: '1.0.0',
  owner: 'tests',
  subgraph: { url, schema: 'rec.graphql' },
  grants,
});

async function startWithRecorder(mode: 'filter' | 'reject') {
  const dir = await tempDir();
  const recorder = await startRecordingSubgraph(SDL, resolvers);
  const server = await startGateway(dir.path, {
    authorization: { mode, policies: { hr: (principal) => principal.tenant === 'hr' } },
  });
  const admin = await tokenFor(server, 'admin', ['graft:admin']);
  const published = await publish(server, admin, { manifest: MANIFEST(recorder.url), sdl: SDL });
  assert.equal(published.status, 201, JSON.stringify(published.body));
  return {
    dir,
    recorder,
    server,
    admin,
    async close() {
      await server.close();
      await recorder.close();
      await dir.remove();
    },
  };
}

describe('edge authorization in filter mode', () => {
  let ctx: Awaited<ReturnType<typeof startWithRecorder>>;
  before(async () => {
    ctx = await startWithRecorder('filter');
  });
  after(async () => {
    await ctx?.close();
  });

  function lastQuery(): string {
    const last = ctx.recorder.received.at(-1);
    assert.ok(last, 'the subgraph was called');
    return last.query;
  }

  test('a field the token lacks a scope for is null with UNAUTHORIZED_FIELD_OR_TYPE and is never sent to the subgraph', async () => {
    const token = await tokenFor(ctx.server, 'alice', ['rec:read']);
    const { status, body } = await graphql(ctx.server, '{ members { id name email } publicInfo }', { token });
    assert.equal(status, 200);
    assert.deepEqual(body.data, {
      members: [
        { id: '1', name: 'Ada', email: null },
        { id: '2', name: 'Bob', email: null },
      ],
      publicInfo: 'hello',
    });
    assert.equal(body.errors?.length, 1, 'one error per removed path');
    const [error] = body.errors ?? [];
    assert.equal(error?.extensions?.['code'], 'UNAUTHORIZED_FIELD_OR_TYPE');
    assert.deepEqual(error?.path, ['members', '@', 'email']);
    assert.deepEqual(error?.extensions?.['missingScopes'], [['rec:pii'], ['rec:admin']]);
    assert.doesNotMatch(lastQuery(), /email/);
  });

  test('any one of the scope alternatives grants access (outer list OR)', async () => {
    const token = await tokenFor(ctx.server, 'alice', ['rec:read', 'rec:admin']);
    const { body } = await graphql(ctx.server, '{ member(id: "2") { email } }', { token });
    assert.deepEqual(body.data, { member: { email: 'bob@example.com' } });
    assert.equal(body.errors, undefined);
  });

  test('a denied non-null field nulls its nearest nullable parent', async () => {
    const token = await tokenFor(ctx.server, 'alice', ['rec:read']);
    const { body } = await graphql(ctx.server, '{ member(id: "1") { id nick } publicInfo }', { token });
    assert.deepEqual(body.data, { member: null, publicInfo: 'hello' });
    assert.deepEqual(body.errors?.[0]?.path, ['member', 'nick']);
    assert.doesNotMatch(lastQuery(), /nick/);
  });

  test('fields in fragments are filtered too, with the path of each use', async () => {
    const token = await tokenFor(ctx.server, 'alice', ['rec:read']);
    const { body } = await graphql(
      ctx.server,
      'query Q { first: member(id: "1") { ...M } second: member(id: "2") { ... on Member { email } } } fragment M on Member { name email }',
      { token },
    );
    assert.deepEqual(body.data, { first: { name: 'Ada', email: null }, second: { email: null } });
    assert.deepEqual(
      body.errors?.map((e) => e.path),
      [
        ['first', 'email'],
        ['second', 'email'],
      ],
    );
    assert.doesNotMatch(lastQuery(), /email/);
  });

  test('@authenticated fields are denied to anonymous requests; public fields still answer', async () => {
    const calls = ctx.recorder.received.length;
    const { body } = await graphql(ctx.server, '{ me { id } publicInfo }');
    assert.deepEqual(body.data, { me: null, publicInfo: 'hello' });
    assert.match(body.errors?.[0]?.message ?? '', /needs an authenticated user/);
    assert.equal(ctx.recorder.received.length, calls + 1);
    assert.doesNotMatch(lastQuery(), /\bme\b/);
  });

  test('an operation whose every field is denied never reaches the subgraph', async () => {
    const calls = ctx.recorder.received.length;
    const { body } = await graphql(ctx.server, '{ members { id } }');
    assert.equal(body.data, null, 'members is non-null, so data is null');
    assert.equal(body.errors?.[0]?.extensions?.['code'], 'UNAUTHORIZED_FIELD_OR_TYPE');
    assert.equal(ctx.recorder.received.length, calls);
  });

  test('@policy names resolve to the functions registered in the gateway config', async () => {
    const hr = await tokenFor(ctx.server, 'hana', ['rec:read']);
    const withTenant = await import('../../gateway/auth/index.js').then(({ signDevToken }) =>
      signDevToken(ctx.server.devIssuer!, { subject: 'hana', scopes: ['rec:read'], tenant: 'hr', ttlSeconds: 60 }),
    );
    const denied = await graphql(ctx.server, '{ member(id: "1") { salary } }', { token: hr });
    assert.deepEqual(denied.body.data, { member: { salary: null } });
    assert.deepEqual(denied.body.errors?.[0]?.extensions?.['unmetPolicies'], [['hr']]);
    const allowed = await graphql(ctx.server, '{ member(id: "1") { salary } }', { token: withTenant });
    assert.deepEqual(allowed.body.data, { member: { salary: 10 } });
  });

  test('the user token is never forwarded: the subgraph gets a token minted for it, scoped to user scopes ∩ grants', async () => {
    const userToken = await tokenFor(ctx.server, 'alice', ['rec:read', 'rec:pii', 'crm:read', 'graft:admin']);
    await graphql(ctx.server, '{ member(id: "1") { email } }', { token: userToken });
    const received = ctx.recorder.received.at(-1)!;
    const authorization = String(received.headers['authorization'] ?? '');
    assert.ok(!authorization.includes(userToken), 'not the user token');
    const minted = authorization.replace(/^Bearer /, '');
    const jwks = await http<any>(`${ctx.server.url}/.well-known/jwks.json`);
    const { payload, protectedHeader } = await jwtVerify(minted, createLocalJWKSet(jwks.body), {
      issuer: ctx.server.upstreamTokens.issuer,
      audience: 'rec',
      algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.sub, 'alice');
    assert.equal(payload['scope'], 'rec:pii rec:read', 'only the scopes the extension is granted');
    assert.ok(payload.exp! - payload.iat! <= 60, 'at most 60 s of life');
    for (const header of Object.keys(received.headers)) assert.ok(!/cookie|x-forwarded/i.test(header));
  });

  test('anonymous requests get an anonymous upstream token', async () => {
    await graphql(ctx.server, '{ publicInfo }');
    const minted = String(ctx.recorder.received.at(-1)!.headers['authorization']).replace(/^Bearer /, '');
    const payload = JSON.parse(Buffer.from(minted.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(payload['sub'], 'anonymous');
    assert.equal(payload['anon'], true);
    assert.equal(payload['scope'], '');
  });

  test('key rotation publishes the new key first and keeps the old one until its tokens expire', async () => {
    const before = await http<any>(`${ctx.server.url}/.well-known/jwks.json`);
    const oldKid = ctx.server.upstreamTokens.activeKid;
    const pending = await ctx.server.upstreamTokens.rotate({ activationDelayMs: 60_000 });
    const during = await http<any>(`${ctx.server.url}/.well-known/jwks.json`);
    assert.deepEqual(during.body.keys.map((k: any) => k.kid).sort(), [oldKid, pending.kid].sort(), 'published before it signs');
    assert.equal(ctx.server.upstreamTokens.activeKid, oldKid);
    await ctx.server.upstreamTokens.rotate({ activationDelayMs: 0 });
    const newKid = ctx.server.upstreamTokens.activeKid;
    assert.notEqual(newKid, oldKid);
    await graphql(ctx.server, '{ publicInfo }');
    const minted = String(ctx.recorder.received.at(-1)!.headers['authorization']).replace(/^Bearer /, '');
    assert.equal(decodeProtectedHeader(minted).kid, newKid);
    const afterRotation = await http<any>(`${ctx.server.url}/.well-known/jwks.json`);
    assert.ok(afterRotation.body.keys.some((k: any) => k.kid === oldKid), 'the old key stays published');
    assert.equal(before.body.keys.length, 1);
  });
});

describe('edge authorization in reject mode', () => {
  let ctx: Awaited<ReturnType<typeof startWithRecorder>>;
  before(async () => {
    ctx = await startWithRecorder('reject');
  });
  after(async () => {
    await ctx?.close();
  });

  test('an operation with a denied field is refused with FORBIDDEN listing every denied path, and nothing is sent', async () => {
    const token = await tokenFor(ctx.server, 'alice', ['rec:read']);
    const calls = ctx.recorder.received.length;
    const { body } = await graphql(ctx.server, '{ members { id email nick } }', { token });
    assert.equal(body.data, undefined);
    assert.equal(body.errors?.length, 1);
    assert.equal(body.errors?.[0]?.extensions?.['code'], 'FORBIDDEN');
    assert.deepEqual(body.errors?.[0]?.extensions?.['deniedPaths'], [
      ['members', '@', 'email'],
      ['members', '@', 'nick'],
    ]);
    assert.equal(ctx.recorder.received.length, calls);
  });
});

describe('least privilege at publish', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: GraftServer;
  let recorder: RecordingSubgraph;
  before(async () => {
    dir = await tempDir();
    recorder = await startRecordingSubgraph(SDL, resolvers);
    server = await startGateway(dir.path, { authorization: { mode: 'filter', policies: { hr: () => true } } });
  });
  after(async () => {
    await server?.close();
    await recorder?.close();
    await dir?.remove();
  });

  test('a scope used in @requiresScopes but not granted refuses the publish with GRANT_NOT_ALLOWED', async () => {
    const admin = await tokenFor(server, 'admin', ['graft:admin']);
    const result = await publish(server, admin, { manifest: MANIFEST(recorder.url, ['rec:read', 'rec:pii', 'rec:admin']), sdl: SDL });
    assert.equal(result.status, 403);
    assert.equal(result.body['code'], 'GRANT_NOT_ALLOWED');
    assert.match(result.body['message'], /rec:nick/);
  });

  test('a grant outside the extension namespace needs graft:admin', async () => {
    const admin = await tokenFor(server, 'admin', ['graft:admin']);
    const owner = await tokenFor(server, 'rec-team', ['graft:publish:rec']);
    const sdl = SDL.replace('[["rec:read"]])\n  member', '[["rec:read"], ["crm:read"]])\n  member');
    const manifest = MANIFEST(recorder.url, ['rec:read', 'rec:pii', 'rec:nick', 'rec:admin', 'crm:read']);
    await http(`${server.url}/admin/extensions`, { token: admin, body: { name: 'rec', owner: 'rec-team' } });
    const byOwner = await http<any>(`${server.url}/admin/extensions/rec/versions`, { token: owner, body: { manifest, sdl } });
    assert.equal(byOwner.status, 403);
    assert.equal(byOwner.body.code, 'GRANT_NOT_ALLOWED');
    assert.match(byOwner.body.message, /crm:read/);
    const byAdmin = await http<any>(`${server.url}/admin/extensions/rec/versions`, { token: admin, body: { manifest, sdl } });
    assert.equal(byAdmin.status, 201, JSON.stringify(byAdmin.body));
  });

  test('an @policy name the gateway does not know refuses the publish with UNKNOWN_POLICY', async () => {
    const admin = await tokenFor(server, 'admin', ['graft:admin']);
    const sdl = SDL.replace('[["hr"]]', '[["payroll"]]');
    const result = await http<any>(`${server.url}/admin/extensions/rec/versions`, {
      token: admin,
      body: { manifest: { ...MANIFEST(recorder.url), version: '2.0.0' }, sdl },
    });
    assert.equal(result.status, 422);
    assert.equal(result.body.code, 'UNKNOWN_POLICY');
    assert.match(result.body.message, /payroll/);
  });
});

describe('cost and query limits at the edge', () => {
  let graft: Awaited<ReturnType<typeof startGraftWithExamples>>;
  before(async () => {
    graft = await startGraftWithExamples();
  });
  after(async () => {
    await graft?.close();
  });

  test('the too-expensive CRM query is refused with COST_ESTIMATED_TOO_EXPENSIVE, the estimate and the limit, before any subgraph is called', async () => {
    for (const example of graft.examples.all) example.stats.reset();
    const token = await exampleUserToken(graft.server);
    const { body } = await graphql(graft.server, '{ customers(first: 1000) { orders { items { product { name stock } } } } }', { token });
    assert.equal(body.data, undefined);
    const error = body.errors?.[0];
    assert.equal(error?.extensions?.['code'], 'COST_ESTIMATED_TOO_EXPENSIVE');
    assert.ok((error?.extensions?.['estimatedCost'] as number) > 10_000);
    assert.equal(error?.extensions?.['maxCost'], 10_000);
    assert.equal(graft.examples.all.reduce((n, e) => n + e.stats.requests, 0), 0, 'no subgraph was asked');
  });

  test('a slicing argument passed as a variable counts with its value', async () => {
    const token = await exampleUserToken(graft.server);
    const query = 'query Q($n: Int) { customers(first: $n) { orders { items { product { name } } } } }';
    const small = await graphql(graft.server, query, { token, variables: { n: 2 } });
    assert.equal(small.body.errors, undefined, JSON.stringify(small.body.errors));
    const large = await graphql(graft.server, query, { token, variables: { n: 1000 } });
    assert.equal(large.body.errors?.[0]?.extensions?.['code'], 'COST_ESTIMATED_TOO_EXPENSIVE');
  });

  test("an extension's own limits.maxCost caps its part of the operation", async () => {
    const token = await exampleUserToken(graft.server);
    // orders' manifest allows 5000: 40 customers × (1 + 10 orders × (1 + 10 items × 2)) = 8440 in orders.
    const { body } = await graphql(graft.server, '{ customers(first: 40) { orders { items { product { name } } } } }', { token });
    const error = body.errors?.[0];
    assert.equal(error?.extensions?.['code'], 'COST_ESTIMATED_TOO_EXPENSIVE');
    assert.equal(error?.extensions?.['extension'], 'orders');
    assert.equal(error?.extensions?.['maxCost'], 5000);
  });

  // Issue 13: authorization asked about fields the client had left out with @skip/@include,
  // and answered them as denied (null plus UNAUTHORIZED_FIELD_OR_TYPE).
  for (const [how, query, variables] of [
    ['@skip(if: true) on the field', '{ customers(first: 1) { id email @skip(if: true) } }', undefined],
    ['@include(if: false) on an inline fragment', '{ customers(first: 1) { id ... @include(if: false) { email } } }', undefined],
    ['@skip through a variable', 'query Q($s: Boolean!) { customers(first: 1) { id email @skip(if: $s) } }', { s: true }],
    ['@include through a variable default on a named fragment', 'query Q($i: Boolean = false) { customers(first: 1) { id ...Pii @include(if: $i) } } fragment Pii on Customer { email }', undefined],
  ] as const) {
    test(`a field left out with ${how} is neither answered nor denied for a token without crm:pii`, async () => {
      const token = await tokenFor(graft.server, 'bob', ['crm:read', 'orders:read', 'inventory:read']);
      const { status, body } = await graphql(graft.server, query, { token, ...(variables ? { variables } : {}) });
      assert.equal(status, 200);
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      assert.deepEqual(body.data, { customers: [{ id: 'c1' }] });
    });
  }

  test('the same field selected without a condition is still denied for that token', async () => {
    const token = await tokenFor(graft.server, 'bob', ['crm:read', 'orders:read', 'inventory:read']);
    const { body } = await graphql(graft.server, 'query Q($s: Boolean!) { customers(first: 1) { id email @skip(if: $s) } }', { token, variables: { s: false } });
    assert.deepEqual(body.data, { customers: [{ id: 'c1', email: null }] });
    assert.equal(body.errors?.[0]?.extensions?.['code'], 'UNAUTHORIZED_FIELD_OR_TYPE');
    assert.deepEqual(body.errors?.[0]?.path, ['customers', '@', 'email']);
  });

  test('query limits refuse deep, wide and long operations with their own codes', async () => {
    const deep = `{ ${'customers { orders { customer { '.repeat(5)}id${' } } }'.repeat(5)} }`;
    const tooDeep = await graphql(graft.server, deep);
    assert.equal(tooDeep.status, 400);
    assert.equal(tooDeep.body.errors?.[0]?.extensions?.['code'], 'QUERY_TOO_DEEP');
    const aliases = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: customer(id: "c1") { id }`).join(' ')} }`;
    const tooManyAliases = await graphql(graft.server, aliases);
    assert.equal(tooManyAliases.body.errors?.[0]?.extensions?.['code'], 'TOO_MANY_ALIASES');
    const long = `{ customer(id: "c1") { ${'id '.repeat(3000)} } }`;
    const tooLong = await graphql(graft.server, long);
    assert.equal(tooLong.body.errors?.[0]?.extensions?.['code'], 'TOO_MANY_TOKENS');
  });
});
