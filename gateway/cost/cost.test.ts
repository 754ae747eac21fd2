// Static cost: a table of operations with the cost Apollo Router's demand control
// semantics give them (DESIGN.md "Reference facts"), each with the arithmetic that
// explains the number. The supergraphs are composed here from small Federation 2.9
// subgraphs, so the @cost / @listSize / @join__* applications are what composition emits.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { buildCostModel, CostEstimationError, CostModelError, estimateCost, type CostModel } from './index.js';

function compose(subgraphs: Record<string, string>): string {
  const result = composeServices(
    Object.entries(subgraphs).map(([name, sdl]) => ({ name, typeDefs: parse(sdl), url: `http://127.0.0.1/${name}` })),
  );
  if (result.errors) throw new Error(`composition failed:\n${result.errors.map((e) => e.message).join('\n')}`);
  return result.supergraphSdl;
}

const FED = (imports: string): string =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: [${imports}])`;

// "catalog" owns products and the search; "reviews" adds Product.reviews and a field that
// @requires an expensive catalog field.
const CATALOG = `${FED('"@key", "@cost", "@listSize", "@shareable"')}
scalar Money @cost(weight: 3)
enum Level @cost(weight: 2) { LOW HIGH }

type Product @key(fields: "id") {
  id: ID!
  name: String!
  price: Money
  level: Level
  tags: [String!]!
  related: [Product!]!
  expensive: String @cost(weight: 7)
  variants(limit: Int = 4): [Variant!]! @listSize(slicingArguments: ["limit"])
  warehouse: Warehouse
  dims: Dimensions @shareable
}
type Dimensions @shareable { width: Int }
type Warehouse @cost(weight: 5) { id: ID! }
type Variant { sku: String! }
type ProductPage { total: Int! items: [Product!]! }

input ProductFilter {
  name: String
  minPrice: Int @cost(weight: 4)
  nested: ProductFilter
}

interface Node { id: ID! }
type Book implements Node { id: ID! title: String! author: Author }
type Author { name: String! }
type Film implements Node { id: ID! director: Director cast: [Actor!]! }
type Director { name: String! }
type Actor { name: String! }
union SearchResult = Book | Film

type Query {
  version: String
  product(id: ID!): Product
  products(first: Int = 7, last: Int): [Product!]! @listSize(slicingArguments: ["first", "last"])
  top: [Product!]! @listSize(assumedSize: 5)
  page(first: Int!): ProductPage @listSize(slicingArguments: ["first"], sizedFields: ["items"])
  search(filter: ProductFilter): [Product!]! @listSize(assumedSize: 2)
  weighted(key: String @cost(weight: 6)): Product
  nodes: [Node!]! @listSize(assumedSize: 3)
  results: [SearchResult!]! @listSize(assumedSize: 3)
  matrix: [[Product]]
}

type Mutation {
  ping: Boolean
  rename(id: ID!, name: String!): Product
}`;

const REVIEWS = `${FED('"@key", "@cost", "@listSize", "@external", "@requires", "@shareable"')}
type Dimensions @shareable { width: Int }
type Product @key(fields: "id") {
  id: ID!
  dims: Dimensions @shareable
  expensive: String @external
  reviews: [Review!]! @listSize(assumedSize: 4)
  shippingEstimate: Int @requires(fields: "expensive")
}
type Review { stars: Int! }
type Query {
  latestReviews(first: Int = 3): [Review!]! @listSize(slicingArguments: ["first"])
}`;

const shop = buildCostModel(compose({ catalog: CATALOG, reviews: REVIEWS }));

interface CostCase {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  total: number;
  bySubgraph?: Record<string, number>;
  /** The arithmetic, with the rule each term comes from. */
  why: string;
}

const cases: CostCase[] = [
  // Operation base and leaves
  { name: 'scalars only, query', query: '{ version }', total: 0, why: 'query base 0; scalars cost 0' },
  { name: 'scalars only, mutation', query: 'mutation { ping }', total: 10, bySubgraph: {}, why: 'mutation base 10, charged to no subgraph' },
  {
    name: 'mutation returning objects',
    query: 'mutation { rename(id: "1", name: "n") { name related { name } } }',
    total: 21,
    bySubgraph: { catalog: 11 },
    why: '10 base + rename Product 1 + related 10 × Product 1',
  },
  // Objects
  { name: 'one object', query: '{ product(id: "1") { name } }', total: 1, bySubgraph: { catalog: 1 }, why: 'Product object 1, name 0' },
  {
    name: '@cost on an object type',
    query: '{ product(id: "1") { warehouse { id } } }',
    total: 6,
    why: 'Product 1 + Warehouse @cost(weight: 5) on the type, used for every field returning it',
  },
  // Lists
  { name: 'list, default size', query: '{ product(id: "1") { related { name } } }', total: 11, why: '1 + related: no @listSize, so the default list size 10 × Product 1' },
  { name: 'list of scalars', query: '{ product(id: "1") { tags } }', total: 1, why: '1 + 10 × String 0' },
  { name: 'slicing argument, literal', query: '{ products(first: 3) { name } }', total: 3, why: 'first: 3 → 3 × Product 1' },
  { name: 'slicing argument, schema default', query: '{ products { name } }', total: 7, why: 'first defaults to 7 → 7 × 1' },
  {
    name: 'slicing argument, variable',
    query: 'query Products($n: Int) { products(first: $n) { name } }',
    variables: { n: 42 },
    total: 42,
    why: 'first: $n with n = 42 → 42 × 1',
  },
  {
    name: 'slicing argument, variable default',
    query: 'query Products($n: Int = 6) { products(first: $n) { name } }',
    total: 6,
    why: '$n not sent, so its default 6 → 6 × 1',
  },
  { name: '@listSize assumedSize', query: '{ top { name } }', total: 5, why: 'assumedSize 5 × 1' },
  {
    name: 'sizedFields (connection pattern)',
    query: '{ page(first: 20) { total items { name } } }',
    total: 21,
    why: 'page is not a list: count 1 × ProductPage 1; items is sized by page\'s first: 20 × 1',
  },
  {
    name: 'nested lists multiply',
    query: '{ top { related { related { name } } } }',
    total: 555,
    why: '5 × (1 + 10 × (1 + 10 × 1)) = 5 × 111',
  },
  {
    name: 'slicing argument on a nested list, default and literal',
    query: '{ top { variants { sku } } second: top { variants(limit: 2) { sku } } }',
    total: 25 + 15,
    why: '5 × (1 + limit default 4 × 1) + 5 × (1 + 2 × 1)',
  },
  { name: 'nested list type counts once', query: '{ matrix { name } }', total: 10, why: '[[Product]] is one list for the router: 10 × 1' },
  // @cost
  { name: '@cost on a field', query: '{ product(id: "1") { expensive } }', total: 8, why: '1 + expensive @cost(weight: 7)' },
  {
    name: '@cost on a scalar and an enum type',
    query: '{ product(id: "1") { price level } }',
    total: 6,
    why: '1 + Money @cost 3 + Level @cost 2',
  },
  {
    name: '@cost on an argument',
    query: '{ a: weighted(key: "k") { name } b: weighted { name } }',
    total: 8,
    why: 'a: Product 1 + key @cost 6; b: the argument is not passed, so 1',
  },
  // Input objects
  {
    name: 'input object argument',
    query: '{ search(filter: { name: "x", minPrice: 5 }) { name } }',
    total: 7,
    why: '2 × Product 1 + filter (1 + name 0 + minPrice @cost 4)',
  },
  {
    name: 'nested input object',
    query: '{ search(filter: { nested: { minPrice: 1 } }) { name } }',
    total: 8,
    why: '2 + filter 1 + nested (1 + minPrice 4)',
  },
  {
    name: 'input object through a variable',
    query: 'query Search($f: ProductFilter) { search(filter: $f) { name } }',
    variables: { f: { minPrice: 1, nested: { name: 'a' } } },
    total: 8,
    why: '2 + filter 1 + minPrice 4 + nested 1',
  },
  // Fragments and abstract types
  {
    name: 'named fragment',
    query: '{ product(id: "1") { ...Details } } fragment Details on Product { warehouse { id } related { name } }',
    total: 16,
    why: '1 + Warehouse 5 + related 10 × 1, as if inlined',
  },
  {
    name: 'inline fragment',
    query: '{ product(id: "1") { ... on Product { warehouse { id } related { name } } } }',
    total: 16,
    why: 'same as the named fragment',
  },
  {
    name: 'union: the dearest member, not the sum',
    query: '{ results { ... on Book { author { name } } ... on Film { director { name } cast { name } } } }',
    total: 36,
    why: '3 × (SearchResult 1 + max(Book: author 1, Film: director 1 + cast 10 × 1)) = 3 × 12 (a sum would be 39)',
  },
  {
    name: 'interface: the dearest implementation',
    query: '{ nodes { id ... on Book { author { name } } ... on Film { cast { name } } } }',
    total: 33,
    why: '3 × (Node 1 + max(Book 1, Film 10))',
  },
  {
    name: 'union through named fragments',
    query: '{ results { ...BookParts ...FilmParts } } fragment BookParts on Book { author { name } } fragment FilmParts on Film { cast { name } }',
    total: 33,
    why: '3 × (1 + max(1, 10))',
  },
  // @skip / @include
  { name: '@skip(if: true)', query: '{ product(id: "1") { related @skip(if: true) { name } } }', total: 1, why: 'related skipped: 1' },
  { name: '@include(if: false)', query: '{ product(id: "1") { related @include(if: false) { name } } }', total: 1, why: 'related excluded: 1' },
  {
    name: '@skip with a variable, true',
    query: 'query Q($s: Boolean!) { product(id: "1") { related @skip(if: $s) { name } } }',
    variables: { s: true },
    total: 1,
    why: 's = true: related skipped',
  },
  {
    name: '@skip with a variable, false',
    query: 'query Q($s: Boolean!) { product(id: "1") { related @skip(if: $s) { name } } }',
    variables: { s: false },
    total: 11,
    why: 's = false: 1 + 10',
  },
  {
    name: '@include on a fragment spread with a variable',
    query: 'query Q($i: Boolean = false) { product(id: "1") { ...R @include(if: $i) } } fragment R on Product { related { name } }',
    total: 1,
    why: '$i defaults to false: the fragment is not executed',
  },
  { name: '__typename is free', query: '{ product(id: "1") { __typename } top { __typename } }', total: 6, why: '1 + 5 × 1; __typename 0' },
  // Federation
  {
    name: '@requires adds what it fetches',
    query: '{ product(id: "1") { shippingEstimate } }',
    total: 8,
    bySubgraph: { catalog: 8 },
    why: 'Product 1 + shippingEstimate Int 0 + @requires(fields: "expensive") 7, resolved by catalog',
  },
  {
    name: 'per-subgraph attribution across an entity',
    query: '{ top { name reviews { stars } } latestReviews { stars } }',
    total: 25 + 3,
    bySubgraph: { catalog: 5, reviews: 23 },
    why: 'top 5 × Product 1 → catalog 5; reviews 5 × 4 × Review 1 → reviews 20; latestReviews first default 3 → reviews 3',
  },
  {
    name: 'a field both subgraphs resolve is charged to each',
    query: '{ product(id: "1") { dims { width } } }',
    total: 2,
    bySubgraph: { catalog: 2, reviews: 1 },
    why: 'product → catalog 1; dims (@shareable, no @join__field, Product in both) → catalog 1 and reviews 1: conservative, the parts add up to more than the total',
  },
  {
    name: 'operationName picks the operation',
    query: 'query Cheap { version } query Dear { top { name } }',
    operationName: 'Dear',
    total: 5,
    why: 'only Dear runs: 5 × 1',
  },
];

describe('estimateCost: the table', () => {
  for (const c of cases) {
    it(`${c.name} = ${c.total} (${c.why})`, () => {
      const estimate = estimateCost(shop, parse(c.query), { operationName: c.operationName ?? null, variables: c.variables ?? {} });
      assert.equal(estimate.total, c.total, c.why);
      if (c.bySubgraph) assert.deepEqual(estimate.bySubgraph, c.bySubgraph, c.why);
      assert.deepEqual(estimate.problems, []);
    });
  }
});

describe('estimateCost: slicing argument rules', () => {
  it('several slicing arguments: the largest counts, and requireOneSlicingArgument is reported', () => {
    // products(first:, last:) has @listSize(slicingArguments: ["first", "last"]) and the
    // directive's default requireOneSlicingArgument: true; Apollo Router refuses this.
    const estimate = estimateCost(shop, parse('{ products(first: 3, last: 8) { name } }'), {});
    assert.equal(estimate.total, 8);
    assert.equal(estimate.problems.length, 1);
    assert.equal(estimate.problems[0]?.code, 'SLICING_ARGUMENT_REQUIRED');
    assert.equal(estimate.problems[0]?.coordinate, 'Query.products');
  });

  it('a slicing argument inside an input object ("page.first", IBM spec paths; Apollo composition 2.14 refuses them)', () => {
    const plain = `directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
      input PageInput { first: Int = 9 }
      type Item { id: ID }
      type Query { paged(page: PageInput): [Item!]! @listSize(slicingArguments: ["page.first"]) }`;
    const model = buildCostModel(plain);
    const query = 'query P($page: PageInput) { a: paged(page: { first: 12 }) { id } b: paged { id } c: paged(page: $page) { id } }';
    // a: 12 × Item 1 + the input object argument 1; b: no argument → PageInput.first's
    // default 9 × 1; c: $page.first = 4 → 4 × 1 + the input object 1
    assert.equal(estimateCost(model, parse(query), { variables: { page: { first: 4 } } }).total, 13 + 9 + 5);
  });

  it('a negative slicing value counts as 0, never as a negative cost', () => {
    assert.equal(estimateCost(shop, parse('{ products(first: -5) { name } }'), {}).total, 0);
  });

  it('defaultListSize is configurable', () => {
    const model = buildCostModel(compose({ catalog: CATALOG, reviews: REVIEWS }), { defaultListSize: 3 });
    // related: 3 × (1 + related 3 × 1)
    assert.equal(estimateCost(model, parse('{ product(id: "1") { related { related { name } } } }'), {}).total, 1 + 3 * (1 + 3));
  });
});

describe('estimateCost: directive names', () => {
  const query = '{ items(first: 4) { price } }';
  // 4 × (Item 1 + Money 3) + nothing else = 16 whatever the directives are called.
  const expected = 16;

  it('reads @cost / @listSize imported under other names', () => {
    const renamed = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", {name: "@cost", as: "@weight"}, {name: "@listSize", as: "@size"}])
      scalar Money @weight(weight: 3)
      type Item { price: Money }
      type Query { items(first: Int): [Item!]! @size(slicingArguments: ["first"]) }`;
    const supergraph = compose({ things: renamed });
    assert.match(supergraph, /import: \[\{name: "@cost", as: "@weight"\}, \{name: "@listSize", as: "@size"\}\]/);
    assert.equal(estimateCost(buildCostModel(supergraph), parse(query), {}).total, expected);
  });

  it('reads @federation__cost / @federation__listSize when a subgraph did not import them', () => {
    const prefixed = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
      scalar Money @federation__cost(weight: 3)
      type Item { price: Money }
      type Query { items(first: Int): [Item!]! @federation__listSize(slicingArguments: ["first"]) }`;
    const supergraph = compose({ things: prefixed });
    assert.match(supergraph, /directive @federation__cost/);
    assert.equal(estimateCost(buildCostModel(supergraph), parse(query), {}).total, expected);
  });

  it('reads a plain (non-federated) schema with the directives declared', () => {
    const plain = `directive @cost(weight: Int!) on FIELD_DEFINITION | SCALAR | OBJECT
      directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
      scalar Money @cost(weight: 3)
      type Item { price: Money }
      type Query { items(first: Int): [Item!]! @listSize(slicingArguments: ["first"]) }`;
    const estimate = estimateCost(buildCostModel(plain), parse(query), {});
    assert.equal(estimate.total, expected);
    assert.deepEqual(estimate.bySubgraph, {}, 'no join__Graph: nothing to attribute');
  });
});

describe('estimateCost: robustness', () => {
  it('walks each fragment once: a chain of fragments spreading the previous one twice stays linear', () => {
    // F0 costs top: 5; Fk spreads F(k-1) twice, so F40 costs 5 × 2^40. Expanding the
    // spreads would take 2^40 steps; the per-walk fragment memo takes 41.
    const fragments = ['fragment F0 on Query { top { name } }'];
    for (let k = 1; k <= 40; k++) fragments.push(`fragment F${k} on Query { ...F${k - 1} ...F${k - 1} }`);
    const started = performance.now();
    const estimate = estimateCost(shop, parse(`{ ...F40 } ${fragments.join(' ')}`), {});
    assert.equal(estimate.total, 5 * 2 ** 40);
    assert.ok(performance.now() - started < 500, 'fragment costs are memoized');
  });

  it('refuses a fragment cycle instead of recursing forever (validation refuses it first in the gateway)', () => {
    const cyclic = parse('{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }');
    assert.throws(() => estimateCost(shop, cyclic, {}), CostEstimationError);
  });

  it('refuses a field the supergraph does not have, and an unknown operation name', () => {
    assert.throws(() => estimateCost(shop, parse('{ nope }'), {}), /Query\.nope is not in the supergraph/);
    assert.throws(() => estimateCost(shop, parse('query A { version }'), { operationName: 'B' }), /Unknown operation named "B"/);
    assert.throws(() => estimateCost(shop, parse('query A { version } query B { version }'), {}), /Must provide operation name/);
  });

  it('refuses an SDL that does not parse', () => {
    assert.throws(() => buildCostModel('type Query {'), CostModelError);
  });

  it('the model is immutable and lists the subgraphs', () => {
    assert.deepEqual([...shop.subgraphNames], ['catalog', 'reviews']);
    assert.ok(Object.isFrozen(shop));
  });
});

describe('estimateCost: the example CRM', () => {
  const crossExtension = parse('{ customers(first: 1000) { orders { items { product { name stock } } } } }');
  const committedSupergraph = readFileSync(new URL('../../schema/supergraph.graphql', import.meta.url), 'utf8');

  it('the cross-extension query costs far above 10000 on the committed supergraph', () => {
    // crm declares @listSize(slicingArguments: ["first"]) on Query.customers, so first: 1000
    // counts: 1000 customers × (Customer 1 + 10 orders × (Order 1 + 10 items × (OrderItem 1
    // + product 1))) = 1000 × 211 = 211000 (orders and items have no @listSize: 10 each).
    const estimate = estimateCost(buildCostModel(committedSupergraph), crossExtension, {});
    assert.ok(estimate.total > 10000, `got ${estimate.total}`);
    // customers is crm's; orders, items and product (the Product reference) are resolved by
    // orders; inventory resolves only name and stock, scalars, which cost 0.
    assert.ok((estimate.bySubgraph.crm ?? 0) >= 1000, JSON.stringify(estimate.bySubgraph));
    assert.ok((estimate.bySubgraph.orders ?? 0) >= 210000, JSON.stringify(estimate.bySubgraph));
  });

  describe('when crm does not declare @listSize', () => {
    const unannotatedCrm = `${FED('"@key"')}
      type Customer @key(fields: "id") { id: ID! name: String! email: String }
      type Query { customers(first: Int = 10): [Customer!]! customer(id: ID!): Customer }`;
    // Inline copies of the example orders and inventory subgraphs as they were before they
    // gained directives, so that this arithmetic does not move when the examples change.
    const orders = `${FED('"@key"')}
      type Order @key(fields: "id") { id: ID! total: Float! customer: Customer! items: [OrderItem!]! }
      type OrderItem { quantity: Int! product: Product! }
      type Customer @key(fields: "id") { id: ID! orders: [Order!]! }
      type Product @key(fields: "id", resolvable: false) { id: ID! }
      type Query { order(id: ID!): Order }`;
    const inventory = `${FED('"@key"')}
      type Product @key(fields: "id") { id: ID! name: String! price: Float! stock: Int! }
      type Query { products(first: Int = 10): [Product!]! product(id: ID!): Product }`;
    const supergraph = compose({ crm: unannotatedCrm, orders, inventory });

    it('Apollo semantics ignore first: 1000 and count the default list size', () => {
      // 10 customers × (1 + 10 × (1 + 10 × (1 + 1))) = 2110: an un-annotated `first` is
      // just an argument for Apollo Router.
      const estimate = estimateCost(buildCostModel(supergraph), crossExtension, {});
      assert.equal(estimate.total, 2110);
      assert.deepEqual(estimate.bySubgraph, { crm: 10, orders: 2100 });
    });

    it('fallbackSlicingArguments: ["first"] counts it anyway: far above 10000', () => {
      const estimate = estimateCost(buildCostModel(supergraph, { fallbackSlicingArguments: ['first'] }), crossExtension, {});
      assert.equal(estimate.total, 211000);
    });
  });
});

// Keeps the exported type in use for consumers' sake (the gateway stores one per supergraph).
const _typed: CostModel = shop;
