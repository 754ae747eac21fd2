import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildSchema, parse, validate } from 'graphql';
import { isBatchable, mergeParts } from './batching.js';

// Two fetches @apollo/gateway sends to one subgraph for parallel branches of a plan.
const PRODUCTS = 'query Q__inventory__1($representations:[_Any!]!){_entities(representations:$representations){...on Product{__typename shippingEstimate}}}';
const USERS = 'query Q__inventory__2($representations:[_Any!]!,$first:Int){_entities(representations:$representations){...F}} fragment F on User{__typename stock(first:$first)}';

const SUBGRAPH = buildSchema(`
  scalar _Any
  union _Entity = Product | User
  type Product { upc: String shippingEstimate: Int }
  type User { id: ID stock(first: Int): Int }
  type Query { _entities(representations: [_Any!]!): [_Entity]! top: Product }
  type Mutation { touch: Int }
`);

describe('merging fetches into one operation', () => {
  test('aliases each part, renames its variables and fragments, and gives a valid query', () => {
    const merged = mergeParts([
      { query: PRODUCTS, variables: { representations: [{ __typename: 'Product', upc: '1' }] } },
      { query: USERS, variables: { representations: [{ __typename: 'User', id: 'u1' }], first: 2 } },
    ]);
    assert.ok(merged);
    assert.deepEqual(validate(SUBGRAPH, parse(merged.query)), []);
    assert.match(merged.query, /_b0__entities: _entities\(representations: \$_b0_representations\)/);
    assert.match(merged.query, /_b1__entities: _entities\(representations: \$_b1_representations\)/);
    assert.match(merged.query, /fragment _b1_F on User/);
    assert.match(merged.query, /stock\(first: \$_b1_first\)/);
    assert.equal(merged.operationName, 'Q__inventory__1__batch_2');
    assert.deepEqual(merged.variables, {
      _b0_representations: [{ __typename: 'Product', upc: '1' }],
      _b1_representations: [{ __typename: 'User', id: 'u1' }],
      _b1_first: 2,
    });
  });

  test('the same parts give the same text (memoized), only the variables change', () => {
    const a = mergeParts([{ query: PRODUCTS, variables: { representations: [1] } }, { query: PRODUCTS, variables: { representations: [2] } }]);
    const b = mergeParts([{ query: PRODUCTS, variables: { representations: [3] } }, { query: PRODUCTS, variables: { representations: [4] } }]);
    assert.ok(a && b);
    assert.equal(a.query, b.query);
    assert.deepEqual(b.variables, { _b0_representations: [3], _b1_representations: [4] });
  });

  test('splits the answer back into one response per part, errors at their own paths', () => {
    const merged = mergeParts([
      { query: PRODUCTS, variables: { representations: [] } },
      { query: USERS, variables: { representations: [] } },
    ]);
    assert.ok(merged);
    const parts = merged.split({
      data: { _b0__entities: [{ __typename: 'Product', shippingEstimate: 3 }], _b1__entities: [{ __typename: 'User', stock: null }] },
      errors: [
        { message: 'no stock', path: ['_b1__entities', 0, 'stock'], extensions: { code: 'X' } },
        { message: 'the subgraph is degraded' },
      ],
    });
    assert.deepEqual(parts, [
      { data: { _entities: [{ __typename: 'Product', shippingEstimate: 3 }] }, errors: [{ message: 'the subgraph is degraded' }] },
      { data: { _entities: [{ __typename: 'User', stock: null }] }, errors: [{ message: 'no stock', path: ['_entities', 0, 'stock'], extensions: { code: 'X' } }] },
    ]);
  });

  test('an answer without data, or without a part, cannot be split (the parts are then sent one by one)', () => {
    const merged = mergeParts([
      { query: PRODUCTS, variables: { representations: [] } },
      { query: PRODUCTS, variables: { representations: [] } },
    ]);
    assert.ok(merged);
    assert.equal(merged.split({ data: null, errors: [{ message: 'Cannot return null for non-nullable field Query._entities.', path: ['_b1__entities'] }] }), undefined);
    assert.equal(merged.split({ data: { _b0__entities: [] } }), undefined);
  });

  test('mutations, several operations, operation directives and fragments at the root are not batched', () => {
    assert.equal(isBatchable('mutation { touch }'), false);
    assert.equal(isBatchable('query A { top { upc } } query B { top { upc } }'), false);
    assert.equal(isBatchable('query { ...Root } fragment Root on Query { top { upc } }'), false);
    assert.equal(isBatchable('query { ... on Query { top { upc } } }'), false);
    assert.equal(isBatchable('not graphql'), false);
    assert.equal(isBatchable('query Q @cached { top { upc } }'), false);
    assert.equal(isBatchable(PRODUCTS), true);
    assert.equal(mergeParts([{ query: PRODUCTS }, { query: 'mutation { touch }' }]), undefined);
  });
});
