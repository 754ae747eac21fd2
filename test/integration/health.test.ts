// Active health checks and drift detection, through the admin API, against real subgraphs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defineExtension, type RunningExtension } from '../../subgraphs/sdk/index.js';
import { gatewayAuthOf, http, publish, startGraftWithExamples, tokenFor } from '../helpers/index.js';

describe('health and drift in the admin API', () => {
  let graft: Awaited<ReturnType<typeof startGraftWithExamples>>;
  let drifting: RunningExtension;
  before(async () => {
    graft = await startGraftWithExamples();
    const registered = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])\ntype Query { hello: String }';
    // The server that really runs has a field the registered SDL does not.
    drifting = await defineExtension({
      name: 'drifty',
      typeDefs: `${registered}\nextend type Query { sneaky: String }`,
      resolvers: { Query: { hello: () => 'hi', sneaky: () => 'x' } },
    }).listen({ auth: gatewayAuthOf(graft.server) });
    const result = await publish(graft.server, graft.admin, {
      manifest: { name: 'drifty', version: '1.0.0', owner: 'tests', subgraph: { url: drifting.url, schema: 'drifty.graphql' } },
      sdl: registered,
    });
    assert.equal(result.status, 201, JSON.stringify(result.body));
    await graft.server.health.checkNow();
  });
  after(async () => {
    await graft?.close();
    await drifting?.close();
  });

  test('a running extension whose live SDL matches is healthy without drift', async () => {
    const { status, body } = await http<any>(`${graft.server.url}/admin/extensions/crm/health`, { token: graft.admin });
    assert.equal(status, 200);
    assert.equal(body.state, 'healthy');
    assert.equal(body.drift.detected, false);
    assert.equal(typeof body.latencyMs, 'number');
  });

  test('a live SDL that differs from the registered one is reported as drift, naming the difference', async () => {
    const owner = await tokenFor(graft.server, 'drifty-team', ['graft:publish:drifty']);
    const { body } = await http<any>(`${graft.server.url}/admin/extensions/drifty/health`, { token: owner });
    assert.equal(body.drift.detected, true);
    assert.match(body.drift.summary, /sneaky/);
  });

  test('a stopped extension becomes unhealthy; the list shows every extension', async () => {
    await graft.examples.inventory.close();
    await graft.server.health.checkNow('inventory');
    const { body } = await http<any>(`${graft.server.url}/admin/health`, { token: graft.admin });
    const inventory = body.extensions.find((e: any) => e.name === 'inventory');
    assert.equal(inventory.state, 'unhealthy');
    assert.equal(inventory.consecutiveFailures, 1);
    assert.doesNotMatch(JSON.stringify(inventory), /\n\s+at /);
    assert.deepEqual(body.extensions.map((e: any) => e.name).sort(), ['crm', 'drifty', 'inventory', 'orders']);
  });
});
