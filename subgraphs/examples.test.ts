import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { extension as crm } from './crm/index.js';
import { extension as inventory } from './inventory/index.js';
import { extension as orders } from './orders/index.js';
import type { Extension, ReadyEvent, RunningExtension } from './sdk/index.js';
import { customersById, ordersByCustomerId, ordersById, productsById } from './seed/index.js';

const EXAMPLES = [
  { extension: crm, port: 4101, grants: ['crm:read', 'crm:pii'] },
  { extension: orders, port: 4102, grants: ['orders:read'] },
  { extension: inventory, port: 4103, grants: ['inventory:read'] },
] as const;

const running = new Map<string, RunningExtension>();
before(async () => {
  for (const { extension } of EXAMPLES) running.set(extension.name, await extension.listen({ port: 0 }));
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

async function graphql<TData>(
  target: RunningExtension,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResponseBody<TData>> {
  const response = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
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

test('each example serves the SDL of its .graphql file through _service', async () => {
  for (const { extension } of EXAMPLES) {
    const body = await graphql<{ _service: { sdl: string } }>(started(extension), '{ _service { sdl } }');
    assert.match(body.data?._service.sdl ?? '', /federation\/v2\.7/, extension.name);
  }
});

test('server.ts prints one ready line with its URL, serves, and exits 0 on SIGTERM', async () => {
  const serverPath = fileURLToPath(new URL('./inventory/server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', serverPath], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
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

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const rest: string[] = [];
    for await (const line of lines) rest.push(line);
    assert.deepEqual(rest, [], 'nothing but the ready line on stdout');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
