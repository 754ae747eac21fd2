// Publishing over the admin API: a new version is live for the next request without a
// restart, in-flight requests survive the swap, and a version that does not compose is
// refused while the current supergraph keeps serving; and two processes publishing on one
// registry never lose each other's version.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defineExtension, type RunningExtension } from '../../subgraphs/sdk/index.js';
import { loadConfig } from '../../gateway/config/index.js';
import { SYSTEM_ACTOR } from '../../gateway/publish/index.js';
import { openSqliteRegistry, registryFileIn, type RegistryStore } from '../../gateway/registry/index.js';
import { startGraftServer, type GraftServer } from '../../gateway/server/index.js';
import {
  CROSS_EXTENSION_QUERY,
  exampleUserToken,
  exampleManifest,
  gatewayAuthOf,
  graphql,
  http,
  publish,
  startExamples,
  startGraftWithExamples,
  tempDir,
  tokenFor,
  type RunningExamples,
} from '../helpers/index.js';

describe('publishing a new version', () => {
  let graft: Awaited<ReturnType<typeof startGraftWithExamples>>;
  before(async () => {
    graft = await startGraftWithExamples();
  });
  after(async () => {
    await graft?.close();
  });

  test('a published version is visible to the next request without a restart', async () => {
    // Blue-green: version 1 of "greeter" runs on one server, version 2 (a new field) on another.
    const sdl = (fields: string) =>
      `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype Query { ${fields} }`;
    const v1 = await defineExtension({ name: 'greeter', typeDefs: sdl('hello: String!'), resolvers: { Query: { hello: () => 'v1' } } }).listen({ auth: gatewayAuthOf(graft.server) });
    const v2 = await defineExtension({
      name: 'greeter',
      typeDefs: sdl('hello: String! goodbye: String!'),
      resolvers: { Query: { hello: () => 'v2', goodbye: () => 'bye' } },
    }).listen({ auth: gatewayAuthOf(graft.server) });
    try {
      const manifest = { name: 'greeter', version: '1.0.0', owner: 'tests', subgraph: { url: v1.url, schema: 'greeter.graphql' } };
      assert.equal((await publish(graft.server, graft.admin, { manifest, sdl: sdl('hello: String!') })).status, 201);
      assert.deepEqual((await graphql(graft.server, '{ hello }')).body.data, { hello: 'v1' });
      const before = await graphql(graft.server, '{ goodbye }');
      assert.equal(before.status, 400, 'goodbye is not in the schema yet');
      assert.equal(before.body.errors?.[0]?.extensions?.['code'], 'GRAPHQL_VALIDATION_FAILED');

      const published = await publish(graft.server, graft.admin, {
        manifest: { ...manifest, version: '1.1.0', subgraph: { url: v2.url, schema: 'greeter.graphql' } },
        sdl: sdl('hello: String! goodbye: String!'),
      });
      assert.equal(published.status, 201, JSON.stringify(published.body));
      assert.equal(published.body['version'].version, '1.1.0');
      assert.deepEqual(
        published.body['supergraph'].members.map((m: any) => `${m.extension}@${m.version}`).sort(),
        ['crm@1.0.0', 'greeter@1.1.0', 'inventory@1.0.0', 'orders@1.0.0'],
      );

      const after = await graphql(graft.server, '{ hello goodbye }');
      assert.equal(after.status, 200, JSON.stringify(after.body));
      assert.deepEqual(after.body.data, { hello: 'v2', goodbye: 'bye' });
    } finally {
      await Promise.all([v1.close(), v2.close()]);
    }
  });

  test('a version that does not compose is refused with COMPOSITION_FAILED and the old supergraph keeps serving', async () => {
    const health = await http<Record<string, any>>(`${graft.server.url}/health`);
    const servingId = health.body['supergraph'].id;
    // Customer.name becomes an Int in orders: a type mismatch with crm across subgraphs.
    const { manifest, sdl } = await exampleManifest('orders', graft.examples.orders.url, { version: '1.1.0' });
    const broken = sdl.replace(/type Customer @key\(fields: "id"\) \{/, 'type Customer @key(fields: "id") {\n  name: Int @shareable');
    assert.notEqual(broken, sdl);
    const refused = await publish(graft.server, graft.admin, { manifest, sdl: broken });
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.equal(refused.body['code'], 'COMPOSITION_FAILED');
    assert.equal(refused.body['extension'], 'orders');
    const errors = refused.body['details'].compositionErrors as Array<{ code: string; subgraphs: string[]; message: string }>;
    assert.ok(errors.length > 0);
    assert.ok(errors.some((e) => e.code === 'FIELD_TYPE_MISMATCH' && e.subgraphs.includes('orders') && e.subgraphs.includes('crm')), JSON.stringify(errors));

    const versions = await http<Record<string, any>>(`${graft.server.url}/admin/extensions/orders/versions`, { token: graft.admin });
    assert.deepEqual(versions.body['versions'].map((v: any) => v.version), ['1.0.0'], 'nothing was stored');
    const still = await http<Record<string, any>>(`${graft.server.url}/health`);
    assert.equal(still.body['supergraph'].id, servingId);
    const query = await graphql(graft.server, CROSS_EXTENSION_QUERY, { token: await exampleUserToken(graft.server) });
    assert.equal(query.body.errors, undefined);
  });

  test('requests in flight during a publish finish without errors', async () => {
    // A slow extension keeps requests in flight while versions of it are published.
    const typeDefs = (extra: string) => `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
      type Query { slowEcho(ms: Int!): Int! ${extra} }`;
    const slow = defineExtension({
      name: 'slow',
      typeDefs: typeDefs(''),
      resolvers: {
        Query: {
          slowEcho: async (_: unknown, { ms }: { ms: number }) => {
            await new Promise((resolve) => setTimeout(resolve, ms));
            return ms;
          },
        },
      },
    });
    const running: RunningExtension = await slow.listen({ port: 0, auth: gatewayAuthOf(graft.server) });
    try {
      const manifest = { name: 'slow', version: '1.0.0', owner: 'tests', subgraph: { url: running.url, schema: 'slow.graphql' } };
      assert.equal((await publish(graft.server, graft.admin, { manifest, sdl: typeDefs('') })).status, 201);
      const inFlight = Array.from({ length: 30 }, (_, i) => graphql(graft.server, `{ slowEcho(ms: ${50 + (i % 5) * 20}) }`));
      for (const [index, version] of ['1.1.0', '1.2.0', '1.3.0'].entries()) {
        const result = await publish(graft.server, graft.admin, {
          manifest: { ...manifest, version },
          // Each version adds a field (removing one would be breaking on a minor version).
          sdl: typeDefs(Array.from({ length: index + 1 }, (_, i) => `v${i}: Int`).join(' ')),
        });
        assert.equal(result.status, 201, JSON.stringify(result.body));
      }
      const results = await Promise.all(inFlight);
      for (const [i, result] of results.entries()) {
        assert.equal(result.status, 200);
        assert.equal(result.body.errors, undefined, JSON.stringify(result.body.errors));
        assert.deepEqual(result.body.data, { slowEcho: 50 + (i % 5) * 20 });
      }
    } finally {
      await running.close();
    }
  });

  test('retiring an extension recomposes without it and swaps; its versions stay stored', async () => {
    const before = await graphql(graft.server, '{ hello }');
    assert.equal(before.status, 200, 'greeter (published above) answers');
    const owner = await tokenFor(graft.server, 'greeter-team', ['graft:publish:greeter']);
    const refused = await http<any>(`${graft.server.url}/admin/extensions/greeter/retire`, { method: 'POST', token: owner });
    assert.equal(refused.status, 403, 'retiring needs graft:admin');
    const retired = await http<any>(`${graft.server.url}/admin/extensions/greeter/retire`, { method: 'POST', token: graft.admin });
    assert.equal(retired.status, 200, JSON.stringify(retired.body));
    assert.equal(retired.body.extension.status, 'retired');
    assert.ok(!retired.body.supergraph.members.some((m: any) => m.extension === 'greeter'));
    const after = await graphql(graft.server, '{ hello }');
    assert.equal(after.body.errors?.[0]?.extensions?.['code'], 'GRAPHQL_VALIDATION_FAILED');
    const versions = await http<any>(`${graft.server.url}/admin/extensions/greeter/versions`, { token: graft.admin });
    assert.deepEqual(versions.body.versions.map((v: any) => v.version), ['1.1.0', '1.0.0']);
    const again = await http<any>(`${graft.server.url}/admin/extensions/greeter/retire`, { method: 'POST', token: graft.admin });
    assert.equal(again.status, 400);
    const query = await graphql(graft.server, CROSS_EXTENSION_QUERY, { token: await exampleUserToken(graft.server) });
    assert.equal(query.body.errors, undefined);
  });
});

describe('publishing while another gateway process writes the same registry (GRAFT_WORKERS)', () => {
  // Two gateways on one data dir, as two workers: "other" publishes in the window between
  // "racing"'s read of the registry and its store write, exactly where a lost update would happen.
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let racing: GraftServer;
  let other: GraftServer;
  let examples: RunningExamples;
  let admin: string;
  let beforeWrite: (() => Promise<void>) | undefined;

  /** The store of "racing": runs `beforeWrite` (the other process's publish) before each publish is written. */
  function interleaved(store: RegistryStore): RegistryStore {
    return new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'applyRelease') {
          return async (input: Parameters<RegistryStore['applyRelease']>[0]) => {
            await beforeWrite?.();
            return target.applyRelease(input);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  async function publishOn(server: GraftServer, name: 'crm' | 'orders' | 'inventory', version = '1.0.0'): Promise<void> {
    const { manifest, sdl } = await exampleManifest(name, examples[name].url, { version });
    if (!(await server.registry.findExtension(name))) await server.registry.register({ name, owner: String(manifest['owner']) }, SYSTEM_ACTOR);
    await server.registry.publish({ manifest, sdl }, SYSTEM_ACTOR);
  }

  const membersOf = (supergraph: { members: Array<{ extension: string; version: string }> } | undefined) =>
    supergraph?.members.map((m) => `${m.extension}@${m.version}`).sort();

  before(async () => {
    dir = await tempDir();
    const config = loadConfig({ NODE_ENV: 'test' }, { port: 0, dataDir: dir.path, logLevel: process.env['GRAFT_LOG_LEVEL'] ?? 'silent' });
    racing = await startGraftServer({ config, store: interleaved(openSqliteRegistry({ file: registryFileIn(dir.path) })) });
    other = await startGraftServer({ config });
    examples = await startExamples(gatewayAuthOf(racing));
    admin = await tokenFor(racing, 'admin', ['graft:admin']);
    await publishOn(racing, 'crm');
  });
  after(async () => {
    await racing?.close();
    await other?.close();
    await examples?.close();
    await dir?.remove();
  });

  test('a publish composed against a graph another process changed meanwhile is composed again and keeps both changes', async () => {
    beforeWrite = async () => {
      beforeWrite = undefined; // once
      await publishOn(other, 'orders');
    };
    const published = await publish(racing, admin, await exampleManifest('inventory', examples.inventory.url));
    assert.equal(published.status, 201, JSON.stringify(published.body));
    const expected = ['crm@1.0.0', 'inventory@1.0.0', 'orders@1.0.0'];
    assert.deepEqual(membersOf(published.body['supergraph']), expected, 'the publish kept what the other process stored');
    assert.deepEqual(membersOf(await racing.registry.getActiveSupergraph()), expected);
    await other.syncRegistry();
    const [racingHealth, otherHealth] = await Promise.all([http<any>(`${racing.url}/health`), http<any>(`${other.url}/health`)]);
    assert.equal(racingHealth.body.supergraph.id, published.body['supergraph'].id);
    assert.equal(otherHealth.body.supergraph.id, published.body['supergraph'].id, 'the other process serves it after its sync');
    const query = await graphql(other, CROSS_EXTENSION_QUERY, { token: await exampleUserToken(other) });
    assert.equal(query.body.errors, undefined, JSON.stringify(query.body.errors));
  });

  test('a publish that conflicts again after composing again is refused with REGISTRY_CONFLICT (409) and stores nothing', async () => {
    let otherVersion = 0;
    beforeWrite = () => publishOn(other, 'crm', `1.0.${++otherVersion}`);
    const attempt = await exampleManifest('inventory', examples.inventory.url, { version: '1.1.0' });
    const refused = await publish(racing, admin, attempt);
    beforeWrite = undefined;
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body['code'], 'REGISTRY_CONFLICT');
    assert.match(refused.body['message'], /send the request again/);
    assert.equal(otherVersion, 2, 'composed twice: the first attempt and one more');
    const versions = await http<any>(`${racing.url}/admin/extensions/inventory/versions`, { token: admin });
    assert.deepEqual(versions.body.versions.map((v: any) => v.version), ['1.0.0'], 'nothing was stored');

    const retried = await publish(racing, admin, attempt);
    assert.equal(retried.status, 201, JSON.stringify(retried.body));
    assert.deepEqual(membersOf(retried.body['supergraph']), ['crm@1.0.2', 'inventory@1.1.0', 'orders@1.0.0']);
  });

  test('a release racing another process is composed again once, all of it, then refused with REGISTRY_CONFLICT storing none of it', async () => {
    const release = async (version: string) =>
      http<any>(`${racing.url}/admin/releases`, {
        token: admin,
        body: { extensions: [await exampleManifest('crm', examples.crm.url, { version }), await exampleManifest('orders', examples.orders.url, { version })] },
      });
    beforeWrite = async () => {
      beforeWrite = undefined; // once
      await publishOn(other, 'inventory', '1.1.1');
    };
    const released = await release('1.0.3');
    assert.equal(released.status, 201, JSON.stringify(released.body));
    assert.deepEqual(membersOf(released.body.supergraph), ['crm@1.0.3', 'inventory@1.1.1', 'orders@1.0.3'], 'both members, and what the other process stored');

    let otherVersion = 1;
    beforeWrite = () => publishOn(other, 'inventory', `1.1.${++otherVersion}`);
    const refused = await release('1.0.4');
    beforeWrite = undefined;
    assert.deepEqual([refused.status, refused.body.code], [409, 'REGISTRY_CONFLICT']);
    assert.equal(otherVersion, 3, 'composed twice: the first attempt and one more');
    for (const name of ['crm', 'orders']) {
      const versions = await http<any>(`${racing.url}/admin/extensions/${name}/versions`, { token: admin });
      assert.equal(versions.body.versions[0].version, '1.0.3', `no version of ${name} from the refused release`);
    }
  });
});
