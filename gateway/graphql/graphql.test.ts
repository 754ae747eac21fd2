// The GraphQL core: @link forms, operation selection with graphql-js's messages, field
// collection against graphql-js's execute, typed paths and null propagation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLError, buildSchema, execute, parse, type GraphQLObjectType, type OperationDefinitionNode } from 'graphql';
import {
  canonicalDirectiveNames,
  collectFields,
  federationDirectiveNames,
  fragmentsOf,
  isIncluded,
  listMarkedPathOf,
  nullAtPath,
  operationVariables,
  propagateNull,
  readLinks,
  schemaCoordinatesOf,
  selectOperation,
  specElementResolver,
  typedPathOf,
  type ResponseTrail,
  type SelectionTrail,
} from './index.js';

const FED = 'https://specs.apollo.dev/federation/v2.9';

describe('@link imports', () => {
  const cases: Array<{ form: string; sdl: string; expected: string }> = [
    { form: 'string import', sdl: `extend schema @link(url: "${FED}", import: ["@requiresScopes"])`, expected: 'requiresScopes' },
    { form: 'renamed with as:', sdl: `extend schema @link(url: "${FED}", import: [{ name: "@requiresScopes", as: "@scopes" }])`, expected: 'scopes' },
    { form: 'namespaced with the link as:', sdl: `extend schema @link(url: "${FED}", as: "fed", import: ["@key"])`, expected: 'fed__requiresScopes' },
    { form: 'default namespace when not imported', sdl: `extend schema @link(url: "${FED}", import: ["@key"])`, expected: 'federation__requiresScopes' },
    { form: 'dedicated spec (a supergraph)', sdl: `schema @link(url: "https://specs.apollo.dev/link/v1.0") @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY) { query: Query }`, expected: 'requiresScopes' },
    { form: 'dedicated spec renamed', sdl: `schema @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", as: "scopes") { query: Query }`, expected: 'scopes' },
    { form: 'no link (Federation 1)', sdl: 'type Query { a: Int }', expected: 'requiresScopes' },
  ];
  for (const { form, sdl, expected } of cases) {
    it(`names @requiresScopes by the document's ${form}`, () => {
      const document = parse(`${sdl}\ntype Query { a: Int }`);
      assert.equal(federationDirectiveNames(document).get('requiresScopes'), expected);
      assert.equal(canonicalDirectiveNames(document).get(expected), 'requiresScopes');
    });
  }

  it('reads links on schema extensions too, with the spec name, namespace and imports', () => {
    const [link] = readLinks(parse(`extend schema @link(url: "${FED}", as: "fed", import: [{ name: "@key", as: "@pk" }, "@shareable"]) type Query { a: Int }`));
    assert.deepEqual(
      { identity: link?.identity, specName: link?.specName, namespace: link?.namespace, imports: [...(link?.imports ?? [])] },
      { identity: 'https://specs.apollo.dev/federation', specName: 'federation', namespace: 'fed', imports: [['@key', 'pk'], ['@shareable', 'shareable']] },
    );
  });

  it('resolves any local directive name to its spec element', () => {
    const resolve = specElementResolver(parse(`extend schema @link(url: "${FED}", as: "fed", import: [{ name: "@key", as: "@pk" }]) type Query { a: Int }`));
    assert.deepEqual(['pk', 'fed__shareable', 'mine', 'other__x'].map(resolve), ['key', 'shareable', 'mine', 'other__x']);
  });
});

describe('selectOperation', () => {
  const document = parse('query A { a } query B { b }');
  it('picks the named operation', () => {
    assert.equal((selectOperation(document, 'B') as OperationDefinitionNode).name?.value, 'B');
  });
  it("answers graphql-js's errors for a missing name and an unknown one", () => {
    for (const [name, message] of [
      [undefined, 'Must provide operation name if query contains multiple operations.'],
      ['C', 'Unknown operation named "C".'],
    ] as const) {
      const selected = selectOperation(document, name);
      assert.ok(selected instanceof GraphQLError);
      const executed = execute({ schema: buildSchema('type Query { a: Int b: Int }'), document, operationName: name });
      assert.equal(selected.message, message);
      assert.equal((executed as { errors: GraphQLError[] }).errors[0]?.message, message);
    }
  });
  it('picks the only operation without a name', () => {
    assert.equal((selectOperation(parse('{ a }'), null) as OperationDefinitionNode).operation, 'query');
  });
});

describe('field collection', () => {
  const schema = buildSchema(`
    type Query { node: Node a: Int b: Int }
    interface Node { id: ID }
    type User implements Node { id: ID email: String }
    type Bot implements Node { id: ID owner: String }
  `);
  const cases: Array<{ name: string; query: string; variables?: Record<string, unknown>; keys: string[] }> = [
    { name: 'a literal @skip leaves the field out', query: '{ a @skip(if: true) b }', keys: ['b'] },
    { name: 'a literal @include(if: false) on an inline fragment leaves it out', query: '{ a ... @include(if: false) { b } }', keys: ['a'] },
    { name: 'a variable decides', query: 'query ($s: Boolean!) { a @skip(if: $s) b }', variables: { s: true }, keys: ['b'] },
    { name: 'a variable default decides when none is given', query: 'query ($i: Boolean = false) { a @include(if: $i) b }', keys: ['b'] },
    { name: 'aliases are response keys', query: '{ x: a y: a b }', keys: ['x', 'y', 'b'] },
    { name: 'named fragments are followed, skipped spreads are not', query: '{ ...F ...G @skip(if: true) } fragment F on Query { a } fragment G on Query { b }', keys: ['a'] },
  ];
  for (const { name, query, variables, keys } of cases) {
    it(name, () => {
      const document = parse(query);
      const operation = selectOperation(document) as OperationDefinitionNode;
      const context = { schema, fragments: fragmentsOf(document), variables: operationVariables(operation, variables) };
      assert.deepEqual([...collectFields(context, schema.getQueryType()!, operation.selectionSet).keys()], keys);
      // The same answer as graphql-js's execution gives.
      const executed = execute({ schema, document, variableValues: variables ?? {}, rootValue: { a: 1, b: 2 } }) as { data: object };
      assert.deepEqual(Object.keys(executed.data), keys);
    });
  }

  it('type conditions against an abstract type apply per concrete type', () => {
    const document = parse('{ node { id ... on User { email } ...B } } fragment B on Bot { owner }');
    const operation = selectOperation(document) as OperationDefinitionNode;
    const context = { schema, fragments: fragmentsOf(document), variables: {} };
    const node = operation.selectionSet.selections[0] as { selectionSet: OperationDefinitionNode['selectionSet'] };
    const keysFor = (type: string) => [...collectFields(context, schema.getType(type) as GraphQLObjectType, node.selectionSet).keys()];
    assert.deepEqual(keysFor('User'), ['id', 'email']);
    assert.deepEqual(keysFor('Bot'), ['id', 'owner']);
  });

  it('counts a condition it cannot know as included (static upper bound)', () => {
    const field = (parse('query ($s: Boolean!) { a @skip(if: $s) }').definitions[0] as OperationDefinitionNode).selectionSet.selections[0]!;
    assert.equal(isIncluded(field), true);
    assert.equal(isIncluded(field, { s: true }), false);
  });
});

describe('paths and null propagation', () => {
  const schema = buildSchema('type Query { list: [Item!]! maybe: [Item] } type Item { id: ID! name: String! note: String }');
  const query = schema.getQueryType()!;
  const item = schema.getType('Item') as GraphQLObjectType;
  const trail = (...steps: Array<[string, GraphQLObjectType, string]>): SelectionTrail => {
    let t: SelectionTrail | undefined;
    for (const [key, parent, field] of steps) t = { key, type: parent.getFields()[field]!.type, parent: t };
    return t!;
  };

  it('marks list levels with "@" in a response path', () => {
    assert.deepEqual(listMarkedPathOf(trail(['list', query, 'list'], ['n', item, 'name'])), ['list', '@', 'n']);
  });

  it('a null at a nullable field stays there', () => {
    const data = { maybe: [{ id: '1', name: 'a', note: 'x' }] };
    assert.equal(nullAtPath(data, typedPathOf(trail(['maybe', query, 'maybe'], ['note', item, 'note']))), true);
    assert.deepEqual(data, { maybe: [{ id: '1', name: 'a', note: null }] });
  });

  it('a null at a non-null field bubbles to the nearest nullable parent: the list item', () => {
    const data = { maybe: [{ id: '1', name: 'a' }, { id: '2', name: 'b' }] };
    assert.equal(nullAtPath(data, typedPathOf(trail(['maybe', query, 'maybe'], ['name', item, 'name']))), true);
    assert.deepEqual(data, { maybe: [null, null] });
  });

  it('through non-null items and a non-null list up to the root: the whole data', () => {
    const data = { list: [{ id: '1', name: 'a' }] };
    assert.equal(nullAtPath(data, typedPathOf(trail(['list', query, 'list'], ['name', item, 'name']))), false);
  });

  it('propagateNull on a response trail stops at the first nullable place', () => {
    const value = { maybe: [{ id: '1', name: 'a' }] };
    const itemTrail: ResponseTrail = { holder: value.maybe, key: 0, type: item, parent: { holder: value, key: 'maybe', type: query.getFields()['maybe']!.type, parent: undefined } };
    assert.equal(propagateNull({ holder: value.maybe[0]!, key: 'name', type: item.getFields()['name']!.type, parent: itemTrail }), true);
    assert.deepEqual(value, { maybe: [null] });
  });
});

describe('schema coordinates of an operation', () => {
  const schema = buildSchema(`
    type Query { customers(filter: CustomerFilter, first: Int): [Customer!]! node(id: ID!): Node }
    interface Node { id: ID! }
    type Customer implements Node { id: ID! name: String email: String tier: Tier orders: [Order!]! }
    type Order implements Node { id: ID! total: Float }
    input CustomerFilter { tier: Tier nested: NameFilter }
    input NameFilter { prefix: String }
    enum Tier { GOLD SILVER BRONZE }
  `);
  const coordinatesOf = (source: string, name?: string) => {
    const document = parse(source);
    const operation = selectOperation(document, name);
    assert.ok(!(operation instanceof GraphQLError));
    return schemaCoordinatesOf(schema, document, operation);
  };

  it('lists types, fields, arguments, input fields and literal enum values, through fragments', () => {
    const coordinates = coordinatesOf(`
      query A { customers(filter: { tier: GOLD }, first: 2) { ...C } node(id: "1") { ... on Order { total } __typename } }
      fragment C on Customer { name orders { id } }
    `);
    assert.deepEqual(coordinates, [
      'Customer', 'Customer.name', 'Customer.orders', 'CustomerFilter', 'CustomerFilter.tier', 'Float', 'ID', 'String', 'Int', 'Node', 'Order', 'Order.id', 'Order.total',
      'Query', 'Query.customers', 'Query.customers.filter', 'Query.customers.first', 'Query.node', 'Query.node.id', 'Tier', 'Tier.GOLD',
    ].sort());
    assert.ok(!coordinates.includes('Customer.email'), 'a field not selected is not touched');
    assert.ok(!coordinates.includes('Tier.SILVER'), 'an enum value not given is not touched');
  });

  it('counts every field and value a variable of an input type can carry (its value is not known statically)', () => {
    const coordinates = coordinatesOf('query B($f: CustomerFilter) { customers(filter: $f) { id } }');
    for (const c of ['CustomerFilter.tier', 'CustomerFilter.nested', 'NameFilter.prefix', 'Tier.GOLD', 'Tier.SILVER', 'Tier.BRONZE']) assert.ok(coordinates.includes(c), c);
  });

  it('counts fields under @skip/@include (an upper bound) and only the operation asked for', () => {
    const source = 'query A($s: Boolean!) { customers { email @skip(if: $s) } } query B { node(id: "1") { id } }';
    assert.ok(coordinatesOf(source, 'A').includes('Customer.email'));
    assert.ok(!coordinatesOf(source, 'B').includes('Query.customers'));
  });
});
