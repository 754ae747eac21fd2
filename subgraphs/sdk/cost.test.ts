// Actual cost counted per request against the gateway's `graft-cost-budget`: real HTTP on
// 127.0.0.1 with real gateway-style tokens from the test kit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { defineExtension, testAuth, type ExtensionContext, type RunningExtension } from './index.js';

const typeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost"])

  type Item @key(fields: "id") {
    id: ID!
    child: Item
    heavy: String @cost(weight: 50)
  }

  type Expensive @cost(weight: 7) {
    id: ID!
  }

  type Query {
    items(first: Int!): [Item!]!
    maybeItems: [Item]!
    expensive: Expensive
    plain: String
    "The budget and spent cost the resolver sees in context.cost."
    meter: String
  }
`;

let childResolved = 0;
const extension = defineExtension({
  name: 'cost-test',
  typeDefs,
  resolvers: {
    Query: {
      items: (_root: unknown, { first }: { first: number }) => Array.from({ length: first }, (_, i) => ({ id: `i${i + 1}` })),
      maybeItems: async () => [{ id: 'i1' }, null, { id: 'i3' }],
      expensive: () => ({ id: 'x' }),
      plain: () => 'plain',
      meter: (_root: unknown, _args: unknown, context: ExtensionContext) => `${context.cost.budget}/${context.cost.spent}`,
    },
    Item: {
      child: (item: { id: string }) => {
        childResolved += 1;
        return { id: `${item.id}.c` };
      },
      heavy: () => 'heavy',
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

async function graphql(query: string, costBudget?: number, variables?: Record<string, unknown>): Promise<Body> {
  const response = await fetch(running.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await kit.headers({ extension: 'cost-test', costBudget })) },
    body: JSON.stringify({ query, variables }),
  });
  assert.equal(response.status, 200);
  return (await response.json()) as Body;
}

const costErrors = (body: Body): string[] =>
  (body.errors ?? []).filter((e) => e.extensions?.['code'] === 'COST_ACTUAL_TOO_EXPENSIVE').map((e) => (e.path ?? []).join('.'));

test('without a graft-cost-budget header nothing is limited', async () => {
  const body = await graphql('{ items(first: 100) { id child { id } } }');
  assert.equal(body.errors, undefined);
  assert.equal(body.data?.['items'].length, 100);
});

test('within the budget the operation answers in full; each object costs 1, scalars 0', async () => {
  // 5 items + 5 children = 10.
  const body = await graphql('{ items(first: 5) { id child { id } } plain }', 10);
  assert.equal(body.errors, undefined);
  assert.equal(body.data?.['items'].length, 5);
  assert.equal(body.data?.['plain'], 'plain');
});

test('a list that takes the cost over the budget fails with COST_ACTUAL_TOO_EXPENSIVE and says what to do', async () => {
  const body = await graphql('{ items(first: 5) { id } }', 4);
  assert.equal(body.data, null);
  assert.deepEqual(costErrors(body), ['items']);
  const error = body.errors![0]!;
  assert.match(error.message, /extension "cost-test" \(5 so far\) exceeds its budget of 4: ask for fewer items \(a smaller "first"\)/);
  assert.equal(error.extensions?.['costBudget'], 4);
});

test('once the budget is spent, the field that crossed it and every resolver starting later fail', async () => {
  // Synchronous resolvers run depth first: items → 3; i1's child → 4; its child → 5, over
  // the budget: dropped. The children of i2 and i3 start after that and do not run at all.
  childResolved = 0;
  const body = await graphql('{ items(first: 3) { id child { id child { id } } } }', 4);
  assert.deepEqual(body.data, {
    items: [
      { id: 'i1', child: { id: 'i1.c', child: null } },
      { id: 'i2', child: null },
      { id: 'i3', child: null },
    ],
  });
  assert.deepEqual(costErrors(body).sort(), ['items.0.child.child', 'items.1.child', 'items.2.child']);
  assert.equal(childResolved, 2);
});

test('@cost on a field overrides its weight; @cost on a type applies to fields returning it', async () => {
  const heavy = await graphql('{ items(first: 1) { heavy } }', 10);
  assert.deepEqual(heavy.data, { items: [{ heavy: null }] });
  assert.deepEqual(costErrors(heavy), ['items.0.heavy']);
  assert.equal((await graphql('{ items(first: 1) { heavy } }', 51)).errors, undefined);
  assert.deepEqual(costErrors(await graphql('{ expensive { id } }', 6)), ['expensive']);
  assert.deepEqual(await graphql('{ expensive { id } }', 7), { data: { expensive: { id: 'x' } } });
});

test('null list items cost nothing', async () => {
  assert.deepEqual(await graphql('{ maybeItems { id } }', 2), { data: { maybeItems: [{ id: 'i1' }, null, { id: 'i3' }] } });
});

test('scalars are free: a budget of 0 still allows scalar root fields', async () => {
  assert.deepEqual(await graphql('{ plain }', 0), { data: { plain: 'plain' } });
});

test('_entities is counted per returned entity', async () => {
  const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Item { id } } }';
  const r = ['a', 'b', 'c'].map((id) => ({ __typename: 'Item', id }));
  assert.deepEqual(costErrors(await graphql(query, 2, { r })), ['_entities']);
  assert.equal((await graphql(query, 3, { r })).errors, undefined);
});

test('resolvers see the budget and the spent cost in context.cost', async () => {
  assert.deepEqual(await graphql('{ meter }', 12), { data: { meter: '12/0' } });
  assert.deepEqual(await graphql('{ meter }'), { data: { meter: 'undefined/0' } });
});

test('a graft-cost-budget that is not a non-negative integer is refused with 400 BAD_REQUEST', async () => {
  for (const value of ['abc', '-1', '1.5', '']) {
    const response = await fetch(running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await kit.headers({ extension: 'cost-test' })), 'graft-cost-budget': value },
      body: JSON.stringify({ query: '{ plain }' }),
    });
    assert.equal(response.status, 400, value);
    const body = (await response.json()) as Body;
    assert.equal(body.errors?.[0]?.extensions?.['code'], 'BAD_REQUEST');
    assert.match(body.errors?.[0]?.message ?? '', /graft-cost-budget/);
  }
});
