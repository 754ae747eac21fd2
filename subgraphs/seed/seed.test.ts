import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ORDER_STATUSES,
  customers,
  customersById,
  generateSeed,
  mulberry32,
  orders,
  ordersByCustomerId,
  products,
  productsById,
} from './index.js';

test('seed has at least 50 customers, 100 products and 200 orders with sequential ids', () => {
  assert.ok(customers.length >= 50);
  assert.ok(products.length >= 100);
  assert.ok(orders.length >= 200);
  assert.deepEqual(customers.map((c) => c.id), customers.map((_, i) => `c${i + 1}`));
  assert.deepEqual(products.map((p) => p.id), products.map((_, i) => `p${i + 1}`));
  assert.deepEqual(orders.map((o) => o.id), orders.map((_, i) => `o${i + 1}`));
});

test('generating the seed twice gives deep-equal data, equal to the shared module data', () => {
  const first = generateSeed();
  const second = generateSeed();
  assert.deepEqual(first, second);
  assert.deepEqual(first, { customers, products, orders });
});

test('the PRNG is a pure function of its seed, and a different seed gives different data', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const drawsA = Array.from({ length: 5 }, a);
  assert.deepEqual(drawsA, Array.from({ length: 5 }, b));
  assert.ok(drawsA.every((x) => x >= 0 && x < 1));
  assert.notDeepEqual(generateSeed({ seed: 1 }).orders, orders);
});

test('every order references an existing customer and existing, distinct products', () => {
  for (const order of orders) {
    assert.ok(customersById.has(order.customerId), `${order.id} → ${order.customerId}`);
    assert.ok(order.items.length >= 1 && order.items.length <= 4, `${order.id} has ${order.items.length} items`);
    assert.equal(new Set(order.items.map((item) => item.productId)).size, order.items.length);
    for (const item of order.items) {
      assert.ok(productsById.has(item.productId), `${order.id} → ${item.productId}`);
      assert.ok(Number.isInteger(item.quantity) && item.quantity >= 1);
    }
    assert.ok((ORDER_STATUSES as readonly string[]).includes(order.status));
  }
});

test('order totals equal the sum of quantity × price, rounded to cents', () => {
  for (const order of orders) {
    const sum = order.items.reduce((acc, item) => acc + item.quantity * productsById.get(item.productId)!.price, 0);
    assert.equal(order.total, Math.round(sum * 100) / 100, order.id);
    assert.equal(Math.round(order.total * 100) / 100, order.total);
  }
});

test('prices have at most 2 decimals and stock is a non-negative integer', () => {
  for (const product of products) {
    assert.equal(Math.round(product.price * 100) / 100, product.price, product.id);
    assert.ok(product.price > 0);
    assert.ok(Number.isInteger(product.stock) && product.stock >= 0, product.id);
  }
});

test('customers have a name and, when present, a unique e-mail address', () => {
  const emails = customers.flatMap((c) => (c.email === null ? [] : [c.email]));
  assert.equal(new Set(emails).size, emails.length);
  for (const customer of customers) {
    assert.ok(customer.name.length > 0);
    if (customer.email !== null) assert.match(customer.email, /^[a-z.]+\.\d+@example\.com$/);
  }
});

test('ordersByCustomerId groups every order under its customer exactly once', () => {
  const grouped = [...ordersByCustomerId.values()].flat();
  assert.equal(grouped.length, orders.length);
  for (const [customerId, list] of ordersByCustomerId) {
    assert.ok(list.every((order) => order.customerId === customerId));
  }
});

test('seed data is frozen so one extension cannot change what another serves', () => {
  assert.ok(Object.isFrozen(orders));
  assert.ok(Object.isFrozen(orders[0]!.items[0]));
  assert.throws(() => {
    (customers[0] as { name: string }).name = 'changed';
  }, TypeError);
});
