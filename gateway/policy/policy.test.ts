// Unit tests of the edge policy's pure parts: directive metadata, the document walk,
// null insertion with propagation, and what a subgraph SDL asks for.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildSchema, parse, print } from 'graphql';
import type { Principal } from '../auth/index.js';
import { composeSubgraphs } from '../composition/index.js';
import { OperationAuthorizer, authorizationUsageOf, extractAuthorizationMetadata, insertDeniedNulls } from './index.js';

const SUBGRAPH = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@requiresScopes", "@authenticated", "@policy"])
type Query { me: User @authenticated users: [User!]! }
type User @key(fields: "id") { id: ID! name: String! email: String @requiresScopes(scopes: [["a"], ["b", "c"]]) secret: Secret }
type Secret @policy(policies: [["owner"]]) { value: String }`;

function supergraph() {
  const composed = composeSubgraphs([{ name: 'users', url: 'http://127.0.0.1:1/graphql', sdl: SUBGRAPH }]);
  assert.ok(composed.ok);
  return composed;
}

const principal = (scopes: string[], anonymous = false): Principal => ({
  subject: anonymous ? 'anonymous' : 'u1',
  anonymous,
  scopes: new Set(scopes),
  tenant: undefined,
  claims: {},
});

describe('extractAuthorizationMetadata', () => {
  test('reads field and type requirements from the composed supergraph', () => {
    const metadata = extractAuthorizationMetadata(supergraph().supergraphSdl);
    assert.deepEqual(metadata.fields.get('Query.me'), [{ kind: 'authenticated' }]);
    assert.deepEqual(metadata.fields.get('User.email'), [{ kind: 'scopes', anyOf: [['a'], ['b', 'c']] }]);
    assert.deepEqual(metadata.types.get('Secret'), [{ kind: 'policy', anyOf: [['owner']] }]);
    assert.deepEqual([...metadata.scopeNames].sort(), ['a', 'b', 'c']);
  });

  test('a supergraph without authorization directives yields no requirement', () => {
    const metadata = extractAuthorizationMetadata('type Query { a: Int }');
    assert.equal(metadata.fields.size + metadata.types.size, 0);
  });
});

describe('OperationAuthorizer', () => {
  const composed = supergraph();
  const schema = buildSchema(composed.apiSdl);
  const authorizer = new OperationAuthorizer(schema, extractAuthorizationMetadata(composed.supergraphSdl), { owner: (p) => p.subject === 'u1' });

  test('an allowed operation is returned as the very same document (no copy)', () => {
    const document = parse('{ users { id email } }');
    const outcome = authorizer.authorize(document, undefined, principal(['a']));
    assert.equal(outcome.document, document);
    assert.deepEqual(outcome.denied, []);
  });

  test('scope alternatives: any one complete inner list grants access', () => {
    assert.equal(authorizer.authorize(parse('{ users { email } }'), undefined, principal(['b', 'c'])).denied.length, 0);
    const partial = authorizer.authorize(parse('{ users { email } }'), undefined, principal(['b']));
    assert.deepEqual(partial.denied[0]?.missingScopes, [['a'], ['c']]);
  });

  test('denied fields are removed from the document and reported with their response paths (aliases, @ for list items)', () => {
    const outcome = authorizer.authorize(parse('{ users { id renamed: email } me { id } }'), undefined, principal([], true));
    assert.deepEqual(outcome.denied.map((d) => d.path), [['users', '@', 'renamed'], ['me']]);
    assert.equal(print(outcome.document).replace(/\s+/g, ' '), '{ users { id } }');
  });

  test('a type-level @policy guards every field returning that type', () => {
    const outcome = authorizer.authorize(parse('{ users { secret { value } } }'), undefined, { ...principal([]), subject: 'u2' });
    assert.deepEqual(outcome.denied.map((d) => d.coordinate), ['User.secret']);
    assert.deepEqual(outcome.denied[0]?.unmetPolicies, [['owner']]);
  });
});

describe('insertDeniedNulls', () => {
  const schema = buildSchema('type Query { list: [Item!]! one: Item } type Item { a: String b: String! }');
  const item = schema.getType('Item') as import('graphql').GraphQLObjectType;
  const query = schema.getQueryType()!;

  test('puts null at a nullable denied field in every list item', () => {
    const data = { list: [{ b: 'x' }, { b: 'y' }] };
    insertDeniedNulls(data, [
      { code: 'UNAUTHORIZED_FIELD_OR_TYPE' as never, path: [], coordinate: 'Item.a', missingScopes: [], unmetPolicies: [], needsAuthentication: false, typedPath: [{ key: 'list', type: query.getFields()['list']!.type }, { key: 'a', type: item.getFields()['a']!.type }] },
    ]);
    assert.deepEqual(data, { list: [{ b: 'x', a: null }, { b: 'y', a: null }] });
  });

  test('a denied non-null field nulls the nearest nullable ancestor', () => {
    const data = { one: { a: 'x' } } as Record<string, unknown>;
    const result = insertDeniedNulls(data, [
      { code: 'UNAUTHORIZED_FIELD_OR_TYPE' as never, path: [], coordinate: 'Item.b', missingScopes: [], unmetPolicies: [], needsAuthentication: false, typedPath: [{ key: 'one', type: query.getFields()['one']!.type }, { key: 'b', type: item.getFields()['b']!.type }] },
    ]);
    assert.deepEqual(result, { one: null });
    const listData = { list: [{ a: 'x' }] } as Record<string, unknown>;
    const propagated = insertDeniedNulls(listData, [
      { code: 'UNAUTHORIZED_FIELD_OR_TYPE' as never, path: [], coordinate: 'Item.b', missingScopes: [], unmetPolicies: [], needsAuthentication: false, typedPath: [{ key: 'list', type: query.getFields()['list']!.type }, { key: 'b', type: item.getFields()['b']!.type }] },
    ]);
    assert.equal(propagated, null, 'non-null items in a non-null list propagate to the root');
  });
});

describe('authorizationUsageOf', () => {
  // An imported directive has only its imported name (composition refuses
  // `@federation__requiresScopes` once `@requiresScopes` is imported); one not imported
  // has only the namespaced one.
  test('collects the scopes and policies a subgraph SDL requires, through renamed imports and namespaced names', () => {
    const usage = authorizationUsageOf(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: [{ name: "@requiresScopes", as: "@needs" }])
      type Query { a: Int @needs(scopes: [["x:read"], ["x:admin"]]) b: Int @federation__policy(policies: [["p1", "p2"]]) }`);
    assert.deepEqual([...usage.scopes].sort(), ['x:admin', 'x:read']);
    assert.deepEqual([...usage.policies].sort(), ['p1', 'p2']);
  });
});
