// Access directives enforced per resolver (graphql-shield behind the SDK): real HTTP on
// 127.0.0.1 with real gateway-style tokens from the test kit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { GraphQLError, buildSchema, execute, parse } from 'graphql';
import type { AccessControl, AccessRequirement } from './authorization.js';
import { defineExtension, testAuth, type ExtensionContext, type RunningExtension, type TestTokenInput } from './index.js';
import { enforceAccessPlan } from './shield.js';

interface NoteRecord {
  id: string;
  ownerId: string;
  title: string;
  body: string;
  audit: string;
}

const NOTES: NoteRecord[] = [
  { id: 'n1', ownerId: 'ada', title: "Ada's note", body: 'ada body', audit: 'ada audit' },
  { id: 'n2', ownerId: 'bob', title: "Bob's note", body: 'bob body', audit: 'bob audit' },
];

const typeDefs = /* GraphQL */ `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes", "@policy"])

  scalar Money @requiresScopes(scopes: [["money:read"]])

  enum Level @authenticated {
    LOW
    HIGH
  }

  type Note @key(fields: "id") {
    id: ID!
    ownerId: String!
    title: String!
    body: String @policy(policies: [["owner"]])
    "The owner when an auditor asks, or an admin."
    audit: String @policy(policies: [["owner", "auditor"], ["admin"]])
  }

  type Vault @key(fields: "id") @requiresScopes(scopes: [["vault:read"]]) {
    id: ID!
    label: String!
  }

  type Account {
    id: ID!
    balance: Money
    level: Level
    vault: Vault
  }

  type Query {
    either: String @requiresScopes(scopes: [["a", "b"], ["c"]])
    both: String @requiresScopes(scopes: [["a"]]) @authenticated
    me: String @authenticated
    notes: [Note!]!
    vault(id: ID!): Vault
    account: Account
    fail: String
    badInput: String
    protectedFail: String @requiresScopes(scopes: [["a"]])
    exploding: String @policy(policies: [["explodes"]])
  }
`;

let vaultReferences = 0;
const policyCalls: Array<{ policy: string; parent: string | undefined }> = [];

const extension = defineExtension({
  name: 'access-test',
  typeDefs,
  policies: {
    owner: (parent: NoteRecord, _args: unknown, context: ExtensionContext) => {
      policyCalls.push({ policy: 'owner', parent: parent.id });
      return parent.ownerId === context.auth.subject;
    },
    auditor: async (_parent: NoteRecord, _args: unknown, context: ExtensionContext) => context.auth.tenant === 'audit',
    admin: (_parent: unknown, _args: unknown, context: ExtensionContext) => context.auth.scopes.has('admin'),
    explodes: () => {
      throw new Error('policy store unreachable');
    },
  },
  resolvers: {
    Query: {
      either: () => 'either',
      both: () => 'both',
      me: (_root: unknown, _args: unknown, context: ExtensionContext) => context.auth.subject,
      notes: () => NOTES,
      vault: (_root: unknown, { id }: { id: string }) => ({ id, label: `vault ${id}` }),
      account: () => ({ id: 'acc1', balance: '12.50', level: 'HIGH', vault: { id: 'v9', label: 'vault v9' } }),
      fail: () => {
        throw new Error('the database is down');
      },
      badInput: () => {
        throw new GraphQLError('"first" must be positive.', { extensions: { code: 'BAD_USER_INPUT' } });
      },
      protectedFail: () => {
        throw new Error('allowed, but failed');
      },
      exploding: () => 'never',
    },
    Note: {
      __resolveReference: (reference: { id: string }) => NOTES.find((n) => n.id === reference.id) ?? null,
    },
    Vault: {
      __resolveReference: (reference: { id: string }) => {
        vaultReferences += 1;
        return { id: reference.id, label: `vault ${reference.id}` };
      },
    },
  },
});

const kit = await testAuth();
const running: RunningExtension = await extension.listen({ port: 0, auth: kit.auth });
after(() => running.close());

interface Body {
  data?: Record<string, any> | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

type Caller = Omit<TestTokenInput, 'extension'>;

async function graphql(query: string, caller: Caller = {}, variables?: Record<string, unknown>, target = running): Promise<Body> {
  const response = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await kit.headers({ extension: target.name, ...caller })) },
    body: JSON.stringify({ query, variables }),
  });
  assert.equal(response.status, 200);
  return (await response.json()) as Body;
}

const denials = (body: Body): Array<[unknown, string]> =>
  (body.errors ?? []).map((e) => [e.extensions?.['code'], (e.path ?? []).join('.')]);

test('@requiresScopes: the outer list is OR, each inner list AND', async () => {
  const cases: Array<[string[], boolean]> = [
    [[], false],
    [['a'], false],
    [['b'], false],
    [['a', 'b'], true],
    [['c'], true],
    [['a', 'c'], true],
  ];
  for (const [scopes, allowed] of cases) {
    const body = await graphql('{ either }', { scopes });
    if (allowed) assert.deepEqual(body, { data: { either: 'either' } }, scopes.join(' '));
    else {
      assert.deepEqual(body.data, { either: null }, scopes.join(' '));
      assert.deepEqual(denials(body), [['UNAUTHORIZED_FIELD_OR_TYPE', 'either']]);
      assert.match(body.errors?.[0]?.message ?? '', /requires the scopes \("a" and "b"\) or "c"/);
      assert.equal(body.errors?.[0]?.extensions?.['extension'], 'access-test');
    }
  }
});

test('@authenticated refuses anonymous requests; combined with @requiresScopes both must hold', async () => {
  const anonymous = await graphql('{ me both }', { anonymous: true, scopes: ['a'] });
  assert.deepEqual(anonymous.data, { me: null, both: null });
  assert.deepEqual(denials(anonymous), [
    ['UNAUTHORIZED_FIELD_OR_TYPE', 'me'],
    ['UNAUTHORIZED_FIELD_OR_TYPE', 'both'],
  ]);
  assert.match(anonymous.errors?.[0]?.message ?? '', /authenticated user/);
  const withoutScope = await graphql('{ me both }', { subject: 'ada' });
  assert.deepEqual(withoutScope.data, { me: 'ada', both: null });
  assert.deepEqual(await graphql('{ me both }', { subject: 'ada', scopes: ['a'] }), { data: { me: 'ada', both: 'both' } });
});

test('rules with different requirements in one request do not share cached verdicts', async () => {
  // Same request: `either` (allowed by c), `both` (refused: no a), `me` (allowed).
  const body = await graphql('{ either both me }', { subject: 'ada', scopes: ['c'] });
  assert.deepEqual(body.data, { either: 'either', both: null, me: 'ada' });
  assert.deepEqual(denials(body), [['UNAUTHORIZED_FIELD_OR_TYPE', 'both']]);
});

test('a type-level @requiresScopes guards fields returning the type and the type\'s own fields', async () => {
  const refused = await graphql('{ vault(id: "v1") { id label } account { id vault { label } } }', { subject: 'ada' });
  assert.deepEqual(refused.data, { vault: null, account: { id: 'acc1', vault: null } });
  assert.deepEqual(denials(refused), [
    ['UNAUTHORIZED_FIELD_OR_TYPE', 'vault'],
    ['UNAUTHORIZED_FIELD_OR_TYPE', 'account.vault'],
  ]);
  const allowed = await graphql('{ vault(id: "v1") { id label } account { vault { label } } }', { scopes: ['vault:read'] });
  assert.deepEqual(allowed, { data: { vault: { id: 'v1', label: 'vault v1' }, account: { vault: { label: 'vault v9' } } } });
});

test('type-level directives on a scalar and an enum guard every field of that type', async () => {
  const anonymous = await graphql('{ account { id balance level } }', { anonymous: true });
  assert.deepEqual(anonymous.data, { account: { id: 'acc1', balance: null, level: null } });
  assert.deepEqual(denials(anonymous), [
    ['UNAUTHORIZED_FIELD_OR_TYPE', 'account.balance'],
    ['UNAUTHORIZED_FIELD_OR_TYPE', 'account.level'],
  ]);
  const allowed = await graphql('{ account { balance level } }', { subject: 'ada', scopes: ['money:read'] });
  assert.deepEqual(allowed, { data: { account: { balance: '12.50', level: 'HIGH' } } });
});

test('@policy rules see the parent value: each note\'s body is visible to its owner only', async () => {
  policyCalls.length = 0;
  const body = await graphql('{ notes { id title body } }', { subject: 'ada' });
  assert.deepEqual(body.data, {
    notes: [
      { id: 'n1', title: "Ada's note", body: 'ada body' },
      { id: 'n2', title: "Bob's note", body: null },
    ],
  });
  assert.deepEqual(denials(body), [['UNAUTHORIZED_FIELD_OR_TYPE', 'notes.1.body']]);
  assert.match(body.errors?.[0]?.message ?? '', /policy "owner" refused/);
  // Not cached per request: judged once per record.
  assert.deepEqual(policyCalls, [
    { policy: 'owner', parent: 'n1' },
    { policy: 'owner', parent: 'n2' },
  ]);
});

test('@policy alternatives: (owner and auditor) or admin', async () => {
  const ownerOnly = await graphql('{ notes { audit } }', { subject: 'ada' });
  assert.deepEqual(ownerOnly.data, { notes: [{ audit: null }, { audit: null }] });
  const ownerAuditor = await graphql('{ notes { audit } }', { subject: 'ada', tenant: 'audit' });
  assert.deepEqual(ownerAuditor.data, { notes: [{ audit: 'ada audit' }, { audit: null }] });
  const admin = await graphql('{ notes { audit } }', { subject: 'eve', scopes: ['admin'] });
  assert.deepEqual(admin.data, { notes: [{ audit: 'ada audit' }, { audit: 'bob audit' }] });
});

test('a policy that throws refuses (fail closed) with UNAUTHORIZED_FIELD_OR_TYPE and logs why', async () => {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  let body: Body;
  try {
    body = await graphql('{ exploding }', { subject: 'ada' });
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(body.data, { exploding: null });
  assert.deepEqual(denials(body), [['UNAUTHORIZED_FIELD_OR_TYPE', 'exploding']]);
  assert.doesNotMatch(JSON.stringify(body), /policy store unreachable/);
  assert.ok(lines.some((line) => /policy "explodes" threw at Query\.exploding: policy store unreachable/.test(line)), lines.join(''));
});

test('a client-crafted _entities call cannot read protected fields or types', async () => {
  vaultReferences = 0;
  const query = `query($r: [_Any!]!) { _entities(representations: $r) {
    ... on Note { id title body }
    ... on Vault { id label }
  } }`;
  const representations = [
    { __typename: 'Note', id: 'n2' },
    { __typename: 'Vault', id: 'v1' },
  ];
  const refused = await graphql(query, { subject: 'ada' }, { r: representations });
  assert.deepEqual(refused.data, { _entities: [{ id: 'n2', title: "Bob's note", body: null }, null] });
  assert.deepEqual(denials(refused).sort(), [
    ['UNAUTHORIZED_FIELD_OR_TYPE', '_entities.0.body'],
    ['UNAUTHORIZED_FIELD_OR_TYPE', '_entities.1'],
  ]);
  // The type-level check runs before __resolveReference: nothing was loaded for the refused Vault.
  assert.equal(vaultReferences, 0);

  const allowed = await graphql(query, { subject: 'bob', scopes: ['vault:read'] }, { r: representations });
  assert.deepEqual(allowed, { data: { _entities: [{ id: 'n2', title: "Bob's note", body: 'bob body' }, { id: 'v1', label: 'vault v1' }] } });
  assert.equal(vaultReferences, 1);
});

test('_service { sdl } still answers to any valid token, including anonymous ones', async () => {
  const body = await graphql('{ _service { sdl } }', { anonymous: true });
  assert.equal(body.errors, undefined);
  assert.match(body.data?.['_service'].sdl, /@requiresScopes\(scopes: \[\["vault:read"\]\]\)/);
});

test('resolver errors are not masked by the access layer', async () => {
  const body = await graphql('{ fail badInput protectedFail either }', { subject: 'ada', scopes: ['a'] });
  const byPath = new Map((body.errors ?? []).map((e) => [e.path?.join('.'), e]));
  assert.equal(byPath.get('fail')?.message, 'the database is down');
  assert.notEqual(byPath.get('fail')?.extensions?.['code'], 'UNAUTHORIZED_FIELD_OR_TYPE');
  assert.equal(byPath.get('badInput')?.extensions?.['code'], 'BAD_USER_INPUT');
  assert.equal(byPath.get('protectedFail')?.message, 'allowed, but failed');
  assert.equal(byPath.get('either')?.extensions?.['code'], 'UNAUTHORIZED_FIELD_OR_TYPE');
  assert.doesNotMatch(JSON.stringify(body), /Not Authorised/);
});

test('defineExtension throws when the SDL uses a @policy name it does not define', () => {
  assert.throws(
    () => defineExtension({ name: 'no-policies', typeDefs, resolvers: {}, policies: { owner: () => true } }),
    /Extension "no-policies" uses @policy names it does not define: "auditor" \(Note\.audit\), "admin" \(Note\.audit\), "explodes" \(Query\.exploding\)\. Add them to defineExtension\(\{ policies:/,
  );
  assert.throws(() => defineExtension({ name: 'no-policies', typeDefs, resolvers: {} }), /"owner" \(Note\.body\)/);
  // Inherited names are not definitions.
  assert.throws(
    () =>
      defineExtension({
        name: 'proto',
        typeDefs: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@policy"])
          type Query { x: String @policy(policies: [["toString"]]) }`,
        resolvers: {},
      }),
    /"toString" \(Query\.x\)/,
  );
});

test('renamed and namespaced imports of the directives are enforced too', async () => {
  const renamed = defineExtension({
    name: 'renamed',
    typeDefs: /* GraphQL */ `
      extend schema
        @link(url: "https://specs.apollo.dev/federation/v2.9", import: [{ name: "@requiresScopes", as: "@scopes" }])
      type Query {
        a: String @scopes(scopes: [["a"]])
        b: String @federation__authenticated
        c: String
      }
    `,
    resolvers: { Query: { a: () => 'a', b: () => 'b', c: () => 'c' } },
  });
  const server = await renamed.listen({ auth: kit.auth });
  try {
    const body = await graphql('{ a b c }', { anonymous: true }, undefined, server);
    assert.deepEqual(body.data, { a: null, b: null, c: 'c' });
    assert.deepEqual(await graphql('{ a b c }', { scopes: ['a'] }, undefined, server), { data: { a: 'a', b: 'b', c: 'c' } });
  } finally {
    await server.close();
  }
});

test('a rule that returns false or throws refuses with the UNAUTHORIZED_FIELD_OR_TYPE fallback error, not an internal error', async () => {
  // The engine in isolation, with a judge that misbehaves: shield's fallbackError must apply.
  const schema = buildSchema('type Query { falsy: String throwing: String open: String }');
  const requirement = (scope: string): AccessRequirement => ({ authenticated: false, scopes: [[[scope]]], policies: [] });
  const judge = {
    checkContext: (r: AccessRequirement) => {
      if (r.scopes[0]![0]![0] === 'throw') throw new Error('judge crashed');
      return false;
    },
  } as unknown as AccessControl;
  const plan = new Map([['Query', new Map([['falsy', requirement('false')], ['throwing', requirement('throw')]])]]);
  const enforced = enforceAccessPlan(schema, plan, judge, 'engine-test');
  const result = await execute({
    schema: enforced,
    document: parse('{ falsy throwing open }'),
    rootValue: { falsy: 'f', throwing: 't', open: 'o' },
    contextValue: {},
  });
  assert.deepEqual({ ...result.data }, { falsy: null, throwing: null, open: 'o' });
  for (const error of result.errors ?? []) {
    assert.ok(error instanceof GraphQLError);
    assert.equal(error.message, 'Unauthorized field or type.');
    assert.deepEqual(error.extensions, { code: 'UNAUTHORIZED_FIELD_OR_TYPE', extension: 'engine-test' });
  }
  assert.equal(result.errors?.length, 2);
});
