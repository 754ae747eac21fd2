// The registry is a real SQLite file: what was published survives a restart and the
// gateway serves the same supergraph again without recomposing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CROSS_EXTENSION_QUERY, exampleUserToken, exampleManifest, gatewayAuthOf, graphql, http, publish, startExamples, startGateway, tempDir, tokenFor, type RunningExamples } from '../helpers/index.js';

test('the registry and the served supergraph survive a gateway restart', async () => {
  const dir = await tempDir();
  let examples: RunningExamples | undefined;
  try {
    const first = await startGateway(dir.path);
    examples = await startExamples(gatewayAuthOf(first));
    const admin = await tokenFor(first, 'admin', ['graft:admin']);
    for (const name of ['crm', 'orders', 'inventory'] as const) {
      assert.equal((await publish(first, admin, await exampleManifest(name, examples[name].url))).status, 201);
    }
    assert.equal((await http(`${first.url}/admin/extensions/orders/pause`, { method: 'POST', token: admin })).status, 200);
    const before = await http<any>(`${first.url}/admin/supergraph`, { token: admin });
    await first.close();

    const second = await startGateway(dir.path);
    try {
      // The dev issuer key is kept in the data dir too: the old token still works.
      const after = await http<any>(`${second.url}/admin/supergraph`, { token: admin });
      assert.equal(after.status, 200);
      assert.equal(after.body.id, before.body.id);
      assert.equal(after.body.hash, before.body.hash);
      assert.equal(after.body.serving, true);
      const orders = await http<any>(`${second.url}/admin/extensions/orders`, { token: admin });
      assert.equal(orders.body.status, 'paused', 'status survives the restart');
      assert.deepEqual(orders.body.versions.map((v: any) => v.version), ['1.0.0']);
      assert.equal((await http(`${second.url}/admin/extensions/orders/resume`, { method: 'POST', token: admin })).status, 200);
      const query = await graphql(second, CROSS_EXTENSION_QUERY, { token: await exampleUserToken(second) });
      assert.equal(query.status, 200);
      assert.equal(query.body.errors, undefined, JSON.stringify(query.body.errors));
    } finally {
      await second.close();
    }
  } finally {
    await examples?.close();
    await dir.remove();
  }
});

test('a gateway on an empty registry answers NO_SUPERGRAPH until the first publish, then serves it', async () => {
  const dir = await tempDir();
  const server = await startGateway(dir.path);
  const examples = await startExamples(gatewayAuthOf(server));
  try {
    const waiting = await graphql(server, '{ customer(id: "c1") { id } }');
    assert.equal(waiting.status, 503);
    assert.equal(waiting.body.errors?.[0]?.extensions?.['code'], 'NO_SUPERGRAPH');
    const admin = await tokenFor(server, 'admin', ['graft:admin']);
    assert.equal((await publish(server, admin, await exampleManifest('crm', examples.crm.url))).status, 201);
    const served = await graphql(server, '{ customer(id: "c1") { id } }');
    assert.deepEqual(served.body.data, { customer: { id: 'c1' } });
  } finally {
    await server.close();
    await examples.close();
    await dir.remove();
  }
});
