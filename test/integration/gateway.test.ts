// The federated graph over real HTTP: three example extensions, each its own server,
// composed and served by the gateway from a real SQLite registry.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signDevToken } from '../../gateway/auth/index.js';
import { CROSS_EXTENSION_QUERY, exampleUserToken, graphql, http, startGraftWithExamples, tokenFor } from '../helpers/index.js';

describe('gateway over the example extensions', () => {
  let graft: Awaited<ReturnType<typeof startGraftWithExamples>>;
  before(async () => {
    graft = await startGraftWithExamples();
  });
  after(async () => {
    await graft?.close();
  });

  test('the cross-extension query returns customers with their orders, items and products', async () => {
    const { status, body } = await graphql(graft.server, CROSS_EXTENSION_QUERY, { token: await exampleUserToken(graft.server) });
    assert.equal(status, 200);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const customers = body.data?.['customers'] as Array<Record<string, any>>;
    assert.equal(customers.length, 2);
    for (const customer of customers) {
      assert.match(customer['id'], /^c\d+$/);
      assert.equal(typeof customer['name'], 'string');
      assert.ok(Array.isArray(customer['orders']));
      for (const order of customer['orders']) {
        assert.equal(typeof order.total, 'number');
        for (const item of order.items) {
          assert.equal(typeof item.quantity, 'number');
          assert.equal(typeof item.product.name, 'string');
          assert.equal(typeof item.product.stock, 'number');
        }
      }
    }
    const itemCount = customers.flatMap((c) => c['orders']).flatMap((o: any) => o.items).length;
    assert.ok(itemCount > 0, 'the seed gives the first customers orders with items');
  });

  test('one request loads each entity type in one batch per subgraph', async () => {
    for (const example of graft.examples.all) example.stats.reset();
    const { body } = await graphql(graft.server, CROSS_EXTENSION_QUERY, { token: await exampleUserToken(graft.server) });
    assert.equal(body.errors, undefined);
    const products = new Set(
      (body.data?.['customers'] as any[]).flatMap((c) => c.orders).flatMap((o: any) => o.items).map((i: any) => i.product.name),
    );
    assert.ok(products.size > 1, 'several products are resolved');
    assert.equal(graft.examples.orders.stats.batches['OrdersByCustomer'], 1);
    assert.equal(graft.examples.inventory.stats.batches['Product'], 1);
    assert.ok((graft.examples.inventory.stats.keys['Product'] ?? 0) >= products.size);
  });

  test('a valid dev token is accepted and an invalid token is refused with UNAUTHENTICATED and no data', async () => {
    const token = await tokenFor(graft.server, 'alice', ['crm:read']);
    const ok = await graphql(graft.server, '{ customer(id: "c1") { id name } }', { token });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.data, { customer: { id: 'c1', name: (ok.body.data as any).customer.name } });

    const tampered = `${token.slice(0, -4)}AAAA`;
    const refused = await graphql(graft.server, '{ customer(id: "c1") { id } }', { token: tampered });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.data, undefined);
    assert.equal(refused.body.errors?.[0]?.extensions?.['code'], 'UNAUTHENTICATED');
  });

  test('a pause answers the extension fields with EXTENSION_PAUSED without calling it; resume restores them', async () => {
    const pause = await http(`${graft.server.url}/admin/extensions/inventory/pause`, { method: 'POST', token: graft.admin });
    assert.equal(pause.status, 200);
    assert.equal((pause.body as any).status, 'paused');
    graft.examples.inventory.stats.reset();
    // Product is non-null under Customer, so the nearest nullable parent (the aliased
    // customer) becomes null; fields of other extensions still answer.
    const paused = await graphql(
      graft.server,
      '{ plain: customer(id: "c1") { id name } withProducts: customer(id: "c2") { orders { items { product { name } } } } }',
      { token: await exampleUserToken(graft.server) },
    );
    assert.equal(graft.examples.inventory.stats.requests, 0, 'the paused extension is not called');
    assert.ok(paused.body.errors?.some((e) => e.extensions?.['code'] === 'EXTENSION_PAUSED' && e.extensions?.['extension'] === 'inventory'));
    assert.deepEqual((paused.body.data?.['plain'] as any)?.id, 'c1', 'the other extensions still answer');
    assert.equal(paused.body.data?.['withProducts'], null);

    const resume = await http(`${graft.server.url}/admin/extensions/inventory/resume`, { method: 'POST', token: graft.admin });
    assert.equal(resume.status, 200);
    const resumed = await graphql(graft.server, CROSS_EXTENSION_QUERY, { token: await exampleUserToken(graft.server) });
    assert.equal(resumed.body.errors, undefined);
  });

  test('an extension enabled for some tenants answers EXTENSION_DISABLED to the others, without being called', async () => {
    const enable = await http<any>(`${graft.server.url}/admin/extensions/inventory/tenants`, {
      method: 'PUT',
      token: graft.admin,
      body: { tenants: ['acme'] },
    });
    assert.equal(enable.status, 200, JSON.stringify(enable.body));
    assert.deepEqual(enable.body.tenants, ['acme']);
    const scopes = ['crm:read', 'inventory:read'];
    const acme = await signDevToken(graft.server.devIssuer!, { subject: 'a', scopes, tenant: 'acme', ttlSeconds: 60 });
    const other = await signDevToken(graft.server.devIssuer!, { subject: 'o', scopes, tenant: 'globex', ttlSeconds: 60 });
    const query = '{ product(id: "p1") { name stock } customer(id: "c1") { name } }';

    const allowed = await graphql(graft.server, query, { token: acme });
    assert.equal(allowed.body.errors, undefined, JSON.stringify(allowed.body.errors));
    assert.equal(typeof (allowed.body.data as any).product.name, 'string');

    graft.examples.inventory.stats.reset();
    const disabled = await graphql(graft.server, query, { token: other });
    assert.equal((disabled.body.data as any).product, null);
    assert.equal(typeof (disabled.body.data as any).customer.name, 'string');
    assert.equal(disabled.body.errors?.[0]?.extensions?.['code'], 'EXTENSION_DISABLED');
    assert.equal(disabled.body.errors?.[0]?.extensions?.['extension'], 'inventory');
    assert.deepEqual(disabled.body.errors?.[0]?.path, ['product']);
    assert.equal(graft.examples.inventory.stats.requests, 0);

    const owner = await tokenFor(graft.server, 'inv-team', ['graft:publish:inventory']);
    const byOwner = await http<any>(`${graft.server.url}/admin/extensions/inventory/tenants`, { method: 'PUT', token: owner, body: { tenants: null } });
    assert.equal(byOwner.status, 403, 'enablement is the platform admin\'s decision');
    const reset = await http<any>(`${graft.server.url}/admin/extensions/inventory/tenants`, { method: 'PUT', token: graft.admin, body: { tenants: null } });
    assert.equal(reset.body.tenants, null);
    const open = await graphql(graft.server, query, { token: other });
    assert.equal(open.body.errors, undefined);
  });

  test('errors from subgraphs never carry stack traces to the client', async () => {
    const { body } = await graphql(graft.server, '{ customer(id: "c1") { id nope } }');
    assert.ok(body.errors?.length);
    for (const error of body.errors ?? []) {
      assert.equal(error.extensions?.['stacktrace'], undefined);
      assert.equal(error.extensions?.['exception'], undefined);
    }
  });

  test('/health reports the supergraph being served', async () => {
    const { status, body } = await http<Record<string, any>>(`${graft.server.url}/health`);
    assert.equal(status, 200);
    assert.equal(body['status'], 'ok');
    assert.equal(body['supergraph'].id, 3);
  });
});
