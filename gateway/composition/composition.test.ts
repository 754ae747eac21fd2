import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApolloGateway } from '@apollo/gateway';
import { composeSubgraphs, gatewayCompatibleSupergraph } from './index.js';

const SECURED = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@requiresScopes", "@authenticated", "@policy"])
type Query { customers: [Customer!]! @requiresScopes(scopes: [["crm:read"]]) }
type Customer @key(fields: "id") { id: ID! email: String @policy(policies: [["owner"]]) secret: String @authenticated }`;

test('a supergraph with security directives loads in @apollo/gateway only without the SECURITY purpose', async () => {
  const composed = composeSubgraphs([{ name: 'crm', url: 'http://127.0.0.1:1/graphql', sdl: SECURED }]);
  assert.ok(composed.ok);
  assert.match(composed.supergraphSdl, /requiresScopes\/v0\.1", for: SECURITY\)/);

  await assert.rejects(new ApolloGateway({ supergraphSdl: composed.supergraphSdl, logger: silent }).load(), /UNSUPPORTED_LINKED_FEATURE|for: SECURITY|not supported/i);

  const compatible = gatewayCompatibleSupergraph(composed.supergraphSdl);
  assert.doesNotMatch(compatible, /for: SECURITY/);
  assert.match(compatible, /@requiresScopes\(scopes: \[\["crm:read"\]\]\)/, 'the directives themselves stay');
  const gateway = new ApolloGateway({ supergraphSdl: compatible, logger: silent });
  await gateway.load();
  await gateway.stop();
});

test('composition errors carry their code, the subgraphs involved and the coordinates', () => {
  const a = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { a: String } type T @key(fields: "id") { id: ID! x: Int }';
  const b = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { b: String } type T @key(fields: "id") { id: ID! x: String }';
  const outcome = composeSubgraphs([
    { name: 'a', url: 'http://a', sdl: a },
    { name: 'b', url: 'http://b', sdl: b },
  ]);
  assert.equal(outcome.ok, false);
  if (outcome.ok) return;
  const mismatch = outcome.errors.find((e) => e.code === 'FIELD_TYPE_MISMATCH');
  assert.deepEqual(mismatch?.subgraphs, ['a', 'b']);
  assert.deepEqual(mismatch?.coordinates, ['T.x']);
});

const silent = { debug() {}, info() {}, warn() {}, error() {} };
