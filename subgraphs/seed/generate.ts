// Builds the CRM fixture: customers, products and orders that reference them.
// Everything derives from one PRNG seed, and prices are handled in integer cents,
// so totals are exact and the output is byte-for-byte the same on every run.
import { mulberry32, pick, randomInt, type RandomSource } from './random.js';

export const ORDER_STATUSES = ['PENDING', 'PAID', 'SHIPPED', 'CANCELLED'] as const;
export type OrderStatusValue = (typeof ORDER_STATUSES)[number];

export interface CustomerRecord {
  readonly id: string;
  readonly name: string;
  readonly email: string | null;
}

export interface ProductRecord {
  readonly id: string;
  readonly name: string;
  /** Currency units with at most 2 decimals, e.g. 12.5 */
  readonly price: number;
  readonly stock: number;
}

export interface OrderItemRecord {
  readonly productId: string;
  readonly quantity: number;
}

export interface OrderRecord {
  readonly id: string;
  readonly customerId: string;
  readonly status: OrderStatusValue;
  readonly items: readonly OrderItemRecord[];
  /** sum(quantity × price), rounded to cents */
  readonly total: number;
}

export interface SeedData {
  readonly customers: readonly CustomerRecord[];
  readonly products: readonly ProductRecord[];
  readonly orders: readonly OrderRecord[];
}

export interface SeedOptions {
  seed: number;
  customerCount: number;
  productCount: number;
  orderCount: number;
}

export const DEFAULT_SEED_OPTIONS: Readonly<SeedOptions> = Object.freeze({
  seed: 20240611,
  customerCount: 50,
  productCount: 100,
  orderCount: 200,
});

const FIRST_NAMES = [
  'Ada', 'Grace', 'Alan', 'Linus', 'Margaret', 'Edsger', 'Barbara', 'Ken', 'Radia', 'Donald',
  'Frances', 'Dennis', 'Katherine', 'Tim', 'Hedy', 'John', 'Sophie', 'Guido', 'Anita', 'Bjarne',
] as const;
const LAST_NAMES = [
  'Lovelace', 'Hopper', 'Turing', 'Torvalds', 'Hamilton', 'Dijkstra', 'Liskov', 'Thompson',
  'Perlman', 'Knuth', 'Allen', 'Ritchie', 'Johnson', 'Berners-Lee', 'Lamarr', 'Backus',
  'Wilson', 'van Rossum', 'Borg', 'Stroustrup',
] as const;
const PRODUCT_ADJECTIVES = [
  'Compact', 'Deluxe', 'Eco', 'Ergonomic', 'Heavy-duty', 'Mini', 'Portable', 'Pro', 'Smart',
  'Wireless', 'Classic', 'Modular',
] as const;
const PRODUCT_NOUNS = [
  'Desk Lamp', 'Keyboard', 'Monitor Stand', 'Notebook', 'Office Chair', 'Headset', 'Webcam',
  'Label Printer', 'Whiteboard', 'Coffee Maker', 'Filing Cabinet', 'Stapler', 'Router',
  'Power Strip',
] as const;

function emailFor(name: string, index: number): string {
  const local = name.toLowerCase().replaceAll(/[^a-z]+/g, '.');
  return `${local}.${index}@example.com`;
}

function generateCustomers(random: RandomSource, count: number): CustomerRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `${pick(random, FIRST_NAMES)} ${pick(random, LAST_NAMES)}`;
    // Every 10th customer has no e-mail so that clients exercise the nullable field.
    const email = (i + 1) % 10 === 0 ? null : emailFor(name, i + 1);
    return { id: `c${i + 1}`, name, email };
  });
}

function generateProducts(random: RandomSource, count: number): ProductRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `p${i + 1}`,
    name: `${pick(random, PRODUCT_ADJECTIVES)} ${pick(random, PRODUCT_NOUNS)}`,
    price: randomInt(random, 199, 49_999) / 100,
    stock: randomInt(random, 0, 500),
  }));
}

function generateOrderItems(random: RandomSource, products: readonly ProductRecord[]): OrderItemRecord[] {
  const itemCount = randomInt(random, 1, 4);
  const chosen = new Set<string>();
  // Distinct products per order, as a cart would merge duplicates into one line.
  while (chosen.size < itemCount) chosen.add(pick(random, products).id);
  return [...chosen].map((productId) => ({ productId, quantity: randomInt(random, 1, 5) }));
}

function totalOf(items: readonly OrderItemRecord[], priceCentsById: ReadonlyMap<string, number>): number {
  let cents = 0;
  for (const item of items) {
    const priceCents = priceCentsById.get(item.productId);
    if (priceCents === undefined) throw new Error(`unknown product ${item.productId}`);
    cents += item.quantity * priceCents;
  }
  return cents / 100;
}

function generateOrders(
  random: RandomSource,
  count: number,
  customers: readonly CustomerRecord[],
  products: readonly ProductRecord[],
): OrderRecord[] {
  const priceCentsById = new Map(products.map((p) => [p.id, Math.round(p.price * 100)]));
  return Array.from({ length: count }, (_, i) => {
    const customerId = pick(random, customers).id;
    const status = pick(random, ORDER_STATUSES);
    const items = generateOrderItems(random, products);
    return { id: `o${i + 1}`, customerId, status, items, total: totalOf(items, priceCentsById) };
  });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Generates the fixture. Pure: same options, same output. The result is deeply frozen
 * because every extension in the process shares it and a resolver must not mutate it.
 */
export function generateSeed(options: Partial<SeedOptions> = {}): SeedData {
  const { seed, customerCount, productCount, orderCount } = { ...DEFAULT_SEED_OPTIONS, ...options };
  const random = mulberry32(seed);
  const customers = generateCustomers(random, customerCount);
  const products = generateProducts(random, productCount);
  const orders = generateOrders(random, orderCount, customers, products);
  return deepFreeze({ customers, products, orders });
}
