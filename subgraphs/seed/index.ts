// Deterministic seed data shared by the example extensions (crm, orders, inventory),
// with lookup maps so batch loaders answer in O(keys).
import { generateSeed, type CustomerRecord, type OrderRecord, type ProductRecord } from './generate.js';

export {
  DEFAULT_SEED_OPTIONS,
  ORDER_STATUSES,
  generateSeed,
  type CustomerRecord,
  type OrderItemRecord,
  type OrderRecord,
  type OrderStatusValue,
  type ProductRecord,
  type SeedData,
  type SeedOptions,
} from './generate.js';
export { mulberry32 } from './random.js';

const seed = generateSeed();

export const customers: readonly CustomerRecord[] = seed.customers;
export const products: readonly ProductRecord[] = seed.products;
export const orders: readonly OrderRecord[] = seed.orders;

export const customersById: ReadonlyMap<string, CustomerRecord> = new Map(customers.map((c) => [c.id, c]));
export const productsById: ReadonlyMap<string, ProductRecord> = new Map(products.map((p) => [p.id, p]));
export const ordersById: ReadonlyMap<string, OrderRecord> = new Map(orders.map((o) => [o.id, o]));

function groupOrdersByCustomer(all: readonly OrderRecord[]): ReadonlyMap<string, readonly OrderRecord[]> {
  const byCustomer = new Map<string, OrderRecord[]>();
  for (const order of all) {
    const list = byCustomer.get(order.customerId);
    if (list) list.push(order);
    else byCustomer.set(order.customerId, [order]);
  }
  return byCustomer;
}

/** Orders of each customer in id order; customers without orders are absent (treat as []). */
export const ordersByCustomerId: ReadonlyMap<string, readonly OrderRecord[]> = groupOrdersByCustomer(orders);

/**
 * A shallow copy of a record (null when absent), as a database would hand out a fresh
 * row: the seed is frozen and shared, while @apollo/subgraph tags each resolved entity
 * object with __typename, so resolvers must not return the shared object itself.
 */
export function freshCopy<T extends object>(record: T | undefined): T | null {
  return record === undefined ? null : { ...record };
}
