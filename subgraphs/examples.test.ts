import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { extension as crm } from './crm/index.js';
import { extension as inventory } from './inventory/index.js';
import { extension as orders } from './orders/index.js';
import { testAuth, type Extension, type ReadyEvent, type RunningExtension } from './sdk/index.js';
import { customersById, ordersByCustomerId, ordersById, productsById } from './seed/index.js';

const EXAMPLES = [
  { extension: crm, port: 4101, grants: ['crm:read', 'crm:pii'] },
  { extension: orders, port: 4102, grants: ['orders:read'] },
  { extension: inventory, port: 4103, grants: ['inventory:read'] },
] as const;

const kit = await testAuth();
const running = new Map<string, RunningExtension>();
before(async () => {
  for (const { extension } of EXAMPLES) running.set(extension.name, await extension.listen({ port: 0, auth: kit.auth }));
});
after(async () => {
  await Promise.all([...running.values()].map((r) => r.close()));
});

function started(extension: Extension): RunningExtension {
  const r = running.get(extension.name);
  if (!r) throw new Error(`${extension.name} is not running`);
  return r;
}

interface GraphQLResponseBody<TData = Record<string, unknown>> {
  data?: TData | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** The grants of each example: what the gateway's token carries for a user who has them all. */
function grantsOf(name: string): readonly string[] {
  return EXAMPLES.find((e) => e.extension.name === name)?.grants ?? [];
}

async function graphql<TData>(
  target: RunningExtension,
  query: string,
  variables?: Record<string, unknown>,
  scopes: readonly string[] = grantsOf(target.name),
): Promise<GraphQLResponseBody<TData>> {
  const response = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await kit.headers({ extension: target.name, scopes })) },
    body: JSON.stringify({ query, variables }),
  });
  assert.equal(response.status, 200);
  return (await response.json()) as GraphQLResponseBody<TData>;
}

const ENTITIES = 'query($representations: [_Any!]!) { _entities(representations: $representations) { ...Fields } }';

test('each example graft.json validates against schema/manifest.schema.json and pins name, port and grants', () => {
  const schemaUrl = new URL('../schema/manifest.schema.json', import.meta.url);
  const validate = new Ajv({ allErrors: true, strict: true }).compile(JSON.parse(readFileSync(schemaUrl, 'utf8')) as object);
  for (const { extension, port, grants } of EXAMPLES) {
    const manifest = JSON.parse(readFileSync(new URL(`./${extension.name}/graft.json`, import.meta.url), 'utf8')) as {
      name: string;
      version: string;
      subgraph: { url: string; schema: string };
      grants: string[];
      limits: { timeoutMs: number; maxCost: number };
    };
    assert.ok(validate(manifest), `${extension.name}: ${JSON.stringify(validate.errors)}`);
    assert.equal(manifest.name, extension.name);
    assert.equal(manifest.version, '1.0.0');
    assert.equal(manifest.subgraph.url, `http://127.0.0.1:${port}/graphql`);
    assert.equal(manifest.subgraph.schema, `./${extension.name}.graphql`);
    assert.deepEqual(manifest.grants, grants);
    assert.deepEqual(manifest.limits, { timeoutMs: 2000, maxCost: 5000 });
  }
});

test('an _entities call with 5 Product representations runs exactly one Product batch with 5 keys', async () => {
  const target = started(inventory);
  target.stats.reset();
  const ids = ['p1', 'p7', 'p3', 'p99', 'p42'];
  const body = await graphql<{ _entities: Array<{ id: string; name: string; price: number; stock: number }> }>(
    target,
    `${ENTITIES} fragment Fields on Product { id name price stock }`,
    { representations: ids.map((id) => ({ __typename: 'Product', id })) },
  );
  assert.equal(body.errors, undefined);
  assert.deepEqual(body.data?._entities, ids.map((id) => ({ ...productsById.get(id) })));
  assert.deepEqual(target.stats.batches, { Product: 1 });
  assert.deepEqual(target.stats.keys, { Product: 5 });
});

test('Customer.orders through _entities for 3 customers runs exactly one OrdersByCustomer batch', async () => {
  const target = started(orders);
  target.stats.reset();
  const ids = ['c1', 'c2', 'c3'];
  const body = await graphql<{ _entities: Array<{ id: string; orders: Array<{ id: string; total: number }> }> }>(
    target,
    `${ENTITIES} fragment Fields on Customer { id orders { id total } }`,
    { representations: ids.map((id) => ({ __typename: 'Customer', id })) },
  );
  assert.equal(body.errors, undefined);
  assert.deepEqual(
    body.data?._entities,
    ids.map((id) => ({ id, orders: (ordersByCustomerId.get(id) ?? []).map((o) => ({ id: o.id, total: o.total })) })),
  );
  assert.deepEqual(target.stats.batches, { OrdersByCustomer: 1 });
  assert.deepEqual(target.stats.keys, { OrdersByCustomer: 3 });
});

test('Customer references resolve in crm through one Customer batch, unknown ids as null', async () => {
  const target = started(crm);
  target.stats.reset();
  const body = await graphql<{ _entities: Array<{ id: string; name: string; email: string | null } | null> }>(
    target,
    `${ENTITIES} fragment Fields on Customer { id name email }`,
    { representations: ['c5', 'c10', 'c404'].map((id) => ({ __typename: 'Customer', id })) },
  );
  assert.deepEqual(body.data?._entities, [{ ...customersById.get('c5') }, { ...customersById.get('c10') }, null]);
  assert.deepEqual(target.stats.batches, { Customer: 1 });
});

test('Order references resolve through one Order batch and point at customers and products by id', async () => {
  const target = started(orders);
  target.stats.reset();
  const body = await graphql<{
    _entities: Array<{ id: string; status: string; customer: { id: string }; items: Array<{ quantity: number; product: { id: string } }> }>;
  }>(target, `${ENTITIES} fragment Fields on Order { id status customer { id } items { quantity product { id } } }`, {
    representations: ['o1', 'o2'].map((id) => ({ __typename: 'Order', id })),
  });
  const expected = ['o1', 'o2'].map((id) => {
    const order = ordersById.get(id)!;
    return {
      id,
      status: order.status,
      customer: { id: order.customerId },
      items: order.items.map((item) => ({ quantity: item.quantity, product: { id: item.productId } })),
    };
  });
  assert.deepEqual(body.data?._entities, expected);
  assert.deepEqual(target.stats.batches, { Order: 1 });
});

test('customers(first) and products(first) page from the start, default 10, and refuse a negative first', async () => {
  const customers = await graphql<{ customers: Array<{ id: string }> }>(started(crm), '{ customers(first: 3) { id } }');
  assert.deepEqual(customers.data?.customers, [{ id: 'c1' }, { id: 'c2' }, { id: 'c3' }]);
  const products = await graphql<{ products: Array<{ id: string }> }>(started(inventory), '{ products { id } }');
  assert.equal(products.data?.products.length, 10);
  const refused = await graphql(started(inventory), '{ products(first: -1) { id } }');
  assert.equal(refused.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT');
});

test('Query.order, Query.customer and Query.product answer null for unknown ids', async () => {
  const order = await graphql(started(orders), '{ order(id: "o999999") { id } }');
  const customer = await graphql(started(crm), '{ customer(id: "nope") { id } }');
  const product = await graphql(started(inventory), '{ product(id: "nope") { id } }');
  assert.deepEqual([order.data, customer.data, product.data], [{ order: null }, { customer: null }, { product: null }]);
});

test('each example serves the SDL of its .graphql file through _service, even to a token without scopes', async () => {
  for (const { extension } of EXAMPLES) {
    const body = await graphql<{ _service: { sdl: string } }>(started(extension), '{ _service { sdl } }', undefined, []);
    assert.match(body.data?._service.sdl ?? '', /federation\/v2\.9/, extension.name);
  }
});

function codes(body: GraphQLResponseBody<unknown>): unknown[] {
  return (body.errors ?? []).map((e) => e.extensions?.['code']);
}

test('crm: Query.customers needs crm:read; Query.customer and Customer.name are open', async () => {
  const refused = await graphql(started(crm), '{ customers(first: 2) { id } }', undefined, ['crm:pii']);
  assert.equal(refused.data, null);
  assert.deepEqual(codes(refused), ['UNAUTHORIZED_FIELD_OR_TYPE']);
  const allowed = await graphql<{ customers: unknown[] }>(started(crm), '{ customers(first: 2) { id } }', undefined, ['crm:read']);
  assert.equal(allowed.errors, undefined);
  assert.equal(allowed.data?.customers.length, 2);
  const one = await graphql(started(crm), '{ customer(id: "c1") { id name } }', undefined, []);
  assert.deepEqual(one, { data: { customer: { id: 'c1', name: customersById.get('c1')!.name } } });
});

test('crm: Customer.email needs crm:pii, also through a client-crafted _entities call', async () => {
  const query = `${ENTITIES} fragment Fields on Customer { id name email }`;
  const representations = [{ __typename: 'Customer', id: 'c1' }];
  const refused = await graphql<{ _entities: unknown[] }>(started(crm), query, { representations }, ['crm:read']);
  assert.deepEqual(refused.data?._entities, [{ id: 'c1', name: customersById.get('c1')!.name, email: null }]);
  assert.deepEqual(refused.errors?.map((e) => [e.extensions?.['code'], (e as { path?: unknown }).path]), [
    ['UNAUTHORIZED_FIELD_OR_TYPE', ['_entities', 0, 'email']],
  ]);
  assert.match(refused.errors?.[0]?.message ?? '', /crm:pii/);
  const allowed = await graphql<{ _entities: unknown[] }>(started(crm), query, { representations }, ['crm:pii']);
  assert.deepEqual(allowed.data?._entities, [{ ...customersById.get('c1') }]);
});

test('orders: the Order type needs orders:read, on fields returning it and on its own fields', async () => {
  const target = started(orders);
  const viaQuery = await graphql(target, '{ order(id: "o1") { id } }', undefined, []);
  assert.deepEqual(viaQuery.data, { order: null });
  assert.deepEqual(codes(viaQuery), ['UNAUTHORIZED_FIELD_OR_TYPE']);
  // Customer.orders returns [Order!]!: refused, and null propagates to the entity.
  const viaCustomer = await graphql<{ _entities: unknown[] }>(target, `${ENTITIES} fragment Fields on Customer { orders { id } }`, {
    representations: [{ __typename: 'Customer', id: 'c1' }],
  }, []);
  assert.deepEqual(viaCustomer.data?._entities, [null]);
  assert.ok(codes(viaCustomer).includes('UNAUTHORIZED_FIELD_OR_TYPE'));
  // An Order entity is refused before its reference is loaded.
  target.stats.reset();
  const viaEntities = await graphql<{ _entities: unknown[] }>(target, `${ENTITIES} fragment Fields on Order { id total }`, {
    representations: [{ __typename: 'Order', id: 'o1' }],
  }, []);
  assert.deepEqual(viaEntities.data?._entities, [null]);
  assert.deepEqual(codes(viaEntities), ['UNAUTHORIZED_FIELD_OR_TYPE']);
  assert.deepEqual(target.stats.batches, {});
  const allowed = await graphql(target, '{ order(id: "o1") { id } }', undefined, ['orders:read']);
  assert.deepEqual(allowed, { data: { order: { id: 'o1' } } });
});

test('inventory: Product.stock needs inventory:read; name and price are public', async () => {
  const target = started(inventory);
  const open = await graphql<{ products: unknown[] }>(target, '{ products(first: 2) { name price } }', undefined, []);
  assert.equal(open.errors, undefined);
  assert.equal(open.data?.products.length, 2);
  const refused = await graphql(target, '{ product(id: "p1") { name stock } }', undefined, []);
  // stock is Int!: the refusal nulls the product, as GraphQL null propagation says.
  assert.deepEqual(refused.data, { product: null });
  assert.deepEqual(codes(refused), ['UNAUTHORIZED_FIELD_OR_TYPE']);
  const allowed = await graphql(target, '{ product(id: "p1") { stock } }', undefined, ['inventory:read']);
  assert.deepEqual(allowed, { data: { product: { stock: productsById.get('p1')!.stock } } });
});

test('every example refuses a request without a gateway token with 401 UNAUTHENTICATED', async () => {
  for (const { extension } of EXAMPLES) {
    const response = await fetch(started(extension).url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
    });
    assert.equal(response.status, 401, extension.name);
    const body = (await response.json()) as GraphQLResponseBody<unknown>;
    assert.deepEqual(codes(body), ['UNAUTHENTICATED']);
    assert.equal(body.data, undefined);
  }
});

/** The environment without any gateway auth settings the test runner may have. */
function envWithoutGatewayAuth(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['GRAFT_GATEWAY_JWKS_URL'];
  delete env['GRAFT_GATEWAY_ISSUER'];
  return env;
}

test('server.ts refuses to start without gateway auth settings and says what to set', async () => {
  const serverPath = fileURLToPath(new URL('./inventory/server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', serverPath], {
    env: { ...envWithoutGatewayAuth(), PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.equal(code, 1);
  assert.match(stderr, /inventory: failed to start: .*GRAFT_GATEWAY_JWKS_URL and GRAFT_GATEWAY_ISSUER.*auth: false/);
});

test('server.ts prints one ready line with its URL, serves, and exits 0 on SIGTERM', async () => {
  const serverPath = fileURLToPath(new URL('./inventory/server.ts', import.meta.url));
  // The gateway's JWKS endpoint, as the child fetches it.
  let jwksFetches = 0;
  const jwksServer = createServer((_req, res) => {
    jwksFetches += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(kit.auth.jwks));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  const child = spawn(process.execPath, ['--import', 'tsx', serverPath], {
    env: { ...envWithoutGatewayAuth(), PORT: '0', HOST: '127.0.0.1', GRAFT_GATEWAY_JWKS_URL: jwksUrl, GRAFT_GATEWAY_ISSUER: kit.auth.issuer },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const lines = createInterface({ input: child.stdout });
    const iterator = lines[Symbol.asyncIterator]();
    const first = await iterator.next();
    const ready = JSON.parse(String(first.value)) as ReadyEvent;
    assert.equal(ready.event, 'ready');
    assert.equal(ready.name, 'inventory');
    assert.match(ready.url, /^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const response = await fetch(new URL('/health', ready.url));
    assert.deepEqual(await response.json(), { status: 'ok', name: 'inventory' });
    // Tokens are verified with the keys fetched from GRAFT_GATEWAY_JWKS_URL (once, then cached).
    for (let i = 0; i < 2; i++) {
      const answer = await fetch(ready.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await kit.headers({ extension: 'inventory', scopes: ['inventory:read'] })) },
        body: JSON.stringify({ query: '{ product(id: "p1") { id stock } }' }),
      });
      assert.deepEqual(await answer.json(), { data: { product: { id: 'p1', stock: productsById.get('p1')!.stock } } });
    }
    assert.equal(jwksFetches, 1);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const rest: string[] = [];
    for await (const line of lines) rest.push(line);
    assert.deepEqual(rest, [], 'nothing but the ready line on stdout');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    jwksServer.close();
  }
});
