// Error paths: a fetch that failed surfaces from @apollo/gateway as one error without a
// path; attributeExtensionErrors puts one error at each path the failed extension left null.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GraphQLError, buildSchema, parse } from 'graphql';
import { composeOrThrow, extractFieldOwnership } from '../composition/index.js';
import { attributeExtensionErrors } from './error-paths.js';

const FED = '@link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])';
const composed = composeOrThrow([
  { name: 'accounts', url: 'http://127.0.0.1:1/graphql', sdl: `extend schema ${FED} type Query { me: User users: [User!]! } type User @key(fields: "id") { id: ID! name: String }` },
  { name: 'mail', url: 'http://127.0.0.1:2/graphql', sdl: `extend schema ${FED} type User @key(fields: "id") { id: ID! email: String }` },
]);
const schema = buildSchema(composed.apiSdl);
const ownership = extractFieldOwnership(composed.supergraphSdl);
const mailDown = () => new GraphQLError('mail is down', { extensions: { code: 'SUBREQUEST_HTTP_ERROR', extension: 'mail' } });

const attribute = (query: string, data: Record<string, unknown> | null, variables?: Record<string, unknown>) =>
  attributeExtensionErrors({ data, errors: [mailDown()] }, parse(query), undefined, schema, ownership, variables).errors ?? [];

describe('attributeExtensionErrors', () => {
  test("puts the failed extension's error at each null field it resolves, list items included", () => {
    const errors = attribute('{ users { name email } }', { users: [{ name: 'a', email: null }, { name: 'b', email: null }] });
    assert.deepEqual(errors.map((e) => e.path), [['users', 0, 'email'], ['users', 1, 'email']]);
    assert.deepEqual(errors.map((e) => e.extensions['extension']), ['mail', 'mail']);
  });

  test('uses the response key of an aliased field', () => {
    const errors = attribute('{ me { address: email } }', { me: { address: null } });
    assert.deepEqual(errors.map((e) => e.path), [['me', 'address']]);
  });

  test('blames a null parent whose selection needed the failed extension', () => {
    const errors = attribute('{ me { email } }', { me: null });
    assert.deepEqual(errors.map((e) => e.path), [['me']]);
  });

  test('does not blame a field the operation left out with @skip/@include (the error stays pathless)', () => {
    assert.deepEqual(attribute('{ me { name email @skip(if: true) } }', { me: { name: 'a' } }).map((e) => e.path), [undefined]);
    assert.deepEqual(attribute('query ($m: Boolean!) { me { name ... @include(if: $m) { email } } }', { me: { name: 'a' } }, { m: false }).map((e) => e.path), [undefined]);
  });

  test('keeps the pathless error when the extension left nothing null', () => {
    const errors = attribute('{ me { name } }', { me: { name: 'a' } });
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.path, undefined);
  });

  test('without data, keeps one pathless error', () => {
    const errors = attribute('{ me { email } }', null);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.message, 'mail is down');
  });

  test('leaves errors that already have a path, and results without failures, alone', () => {
    const result = { data: { me: null }, errors: [new GraphQLError('boom', { path: ['me'] })] };
    assert.equal(attributeExtensionErrors(result, parse('{ me { name } }'), undefined, schema, ownership), result);
  });
});
