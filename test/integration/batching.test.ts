// Upstream batching (gateway/upstream/batching.ts) against real loopback subgraphs: the
// fetches one operation starts together toward one extension arrive as one request, the
// answer is the one the unbatched gateway gives, and errors stay at their own paths.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { GraftServer } from '../../gateway/server/index.js';
import { graphql, publish, startGateway, startRecordingSubgraph, tempDir, tokenFor, type Intercept, type RecordingSubgraph } from '../helpers/index.js';

const CATALOG_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Query { product: Product user: User }
type Product @key(fields: "id") { id: ID! }
type User @key(fields: "id") { id: ID! }`;

// Both entities get a field from "extras": the plan fetches them in two parallel branches.
const EXTRAS_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Product @key(fields: "id") { id: ID! stock: Int }
type User @key(fields: "id") { id: ID! points: Int }`;

const QUERY = '{ product { id stock } user { id points } }';

interface Fixture {
  server: GraftServer;
  extras: RecordingSubgraph;
  close(): Promise<void>;
}

async function startFixture(options: { batching: boolean; intercept?: Intercept; pointsFail?: boolean }): Promise<Fixture> {
  const dir = await tempDir();
  const catalog = await startRecordingSubgraph(CATALOG_SDL, { Query: { product: () => ({ id: 'p1' }), user: () => ({ id: 'u1' }) } });
  const extras = await startRecordingSubgraph(
    EXTRAS_SDL,
    {
      Product: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, stock: 7 }) },
      User: {
        __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
        points: () => {
          if (options.pointsFail) throw new Error('points are being recomputed');
          return 42;
        },
      },
    },
    options.intercept ? { intercept: options.intercept } : {},
  );
  const server = await startGateway(dir.path, { upstream: { batching: options.batching } });
  const admin = await tokenFor(server, 'admin', ['graft:admin']);
  const manifest = (name: string, url: string) => ({ name, version: '1.0.0', owner: 'tests', subgraph: { url, schema: `${name}.graphql` } });
  assert.equal((await publish(server, admin, { manifest: manifest('catalog', catalog.url), sdl: CATALOG_SDL })).status, 201);
  assert.equal((await publish(server, admin, { manifest: manifest('extras', extras.url), sdl: EXTRAS_SDL })).status, 201);
  extras.received.length = 0;
  return {
    server,
    extras,
    async close() {
      await server.close();
      await Promise.all([catalog.close(), extras.close()]);
      await dir.remove();
    },
  };
}

describe('upstream batching', () => {
  let batched: Fixture;
  let unbatched: Fixture;
  before(async () => {
    batched = await startFixture({ batching: true });
    unbatched = await startFixture({ batching: false });
  });
  after(async () => {
    await batched?.close();
    await unbatched?.close();
  });

  test('two parallel fetches to one extension arrive as one request, with the same answer as without batching', async () => {
    const withBatching = await graphql(batched.server, QUERY);
    const without = await graphql(unbatched.server, QUERY);
    assert.deepEqual(withBatching.body, { data: { product: { id: 'p1', stock: 7 }, user: { id: 'u1', points: 42 } } });
    assert.deepEqual(withBatching.body, without.body);
    assert.equal(batched.extras.received.length, 1, 'one request to extras');
    assert.equal((batched.extras.received[0]!.query.match(/_entities\(/g) ?? []).length, 2);
    assert.equal(unbatched.extras.received.length, 2, 'one request per fetch without batching');
  });

  test('two client operations are never batched together (each has its own token)', async () => {
    batched.extras.received.length = 0;
    const [a, b] = await Promise.all([graphql(batched.server, QUERY), graphql(batched.server, QUERY)]);
    assert.deepEqual(a.body, b.body);
    assert.equal(batched.extras.received.length, 2);
    for (const request of batched.extras.received) assert.equal((request.query.match(/_entities\(/g) ?? []).length, 2);
  });
});

describe('upstream batching and errors', () => {
  test('an error in one part stays at its own path; the other part answers', async () => {
    const fixture = await startFixture({ batching: true, pointsFail: true });
    try {
      const { body } = await graphql(fixture.server, QUERY);
      assert.deepEqual(body.data, { product: { id: 'p1', stock: 7 }, user: { id: 'u1', points: null } });
      assert.equal(body.errors?.length, 1);
      assert.deepEqual(body.errors?.[0]?.path, ['user', 'points']);
      assert.equal(body.errors?.[0]?.message, 'points are being recomputed');
      assert.equal(fixture.extras.received.length, 1);
    } finally {
      await fixture.close();
    }
  });

  test('an answer that cannot be split is not guessed at: the parts are sent again one by one', async () => {
    // The batched request gets a null answer (as when a non-null root field fails); single fetches are served.
    const fixture = await startFixture({
      batching: true,
      intercept: (request) => (request.query.includes('__batch_') ? { status: 200, body: JSON.stringify({ data: null, errors: [{ message: 'boom' }] }) } : undefined),
    });
    try {
      const { body } = await graphql(fixture.server, QUERY);
      assert.deepEqual(body, { data: { product: { id: 'p1', stock: 7 }, user: { id: 'u1', points: 42 } } });
      assert.equal(fixture.extras.received.length, 3, 'the batched request, then each part');
    } finally {
      await fixture.close();
    }
  });

  test('a failed extension fails every part it carried with the extension error', async () => {
    const fixture = await startFixture({ batching: true, intercept: () => ({ status: 500, body: 'down' }) });
    try {
      const { body } = await graphql(fixture.server, QUERY);
      assert.deepEqual(body.data, { product: { id: 'p1', stock: null }, user: { id: 'u1', points: null } });
      const paths = (body.errors ?? []).map((e) => e.path?.join('.')).sort();
      assert.deepEqual(paths, ['product.stock', 'user.points']);
      for (const error of body.errors ?? []) {
        assert.equal(error.extensions?.['code'], 'EXTENSION_UNAVAILABLE');
        assert.equal(error.extensions?.['extension'], 'extras');
      }
    } finally {
      await fixture.close();
    }
  });
});
