// One meaning of "selected" (issue 13): the same operations go through every feature that
// walks an operation — edge authorization, cost, query limits, resolver directives and the
// engine's error paths — and each must see exactly the fields graphql-js executes.
//
// The probe graph: every leaf the operations can select carries @requiresScopes (a token
// without the scope is denied exactly the selected leaves), a distinct @cost weight (the
// estimate spells out which leaves it counted, and how often), and the resolver directive
// @probe (the result step transforms exactly the selected leaves). The error-path attribution
// blames a failed extension at exactly the selected leaves it left null.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { GraphQLError, buildSchema, execute, parse, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { Principal } from '../../gateway/auth/index.js';
import { composeOrThrow, extractFieldOwnership } from '../../gateway/composition/index.js';
import { buildCostModel, estimateCost } from '../../gateway/cost/index.js';
import { DEFAULT_BREAKER_OPTIONS, DirectiveBreaker, QuickJSSandbox, applyDirectives, prepareDirectives, type PreparedDirectives } from '../../gateway/directives/index.js';
import { attributeExtensionErrors } from '../../gateway/engine/index.js';
import { fragmentsOf, selectOperation } from '../../gateway/graphql/index.js';
import { measureOperation } from '../../gateway/limits/index.js';
import { OperationAuthorizer, extractAuthorizationMetadata } from '../../gateway/policy/index.js';

const LEAF = '@requiresScopes(scopes: [["probe:read"]]) @probe';
const WEIGHT = { 'Query.version': 1 << 10, 'User.name': 1 << 14, 'User.email': 1 << 18, 'Bot.owner': 1 << 22 } as const;
const SDL = `extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@requiresScopes", "@cost", "@composeDirective"])
  @link(url: "https://graft.dev/directives/probe/v1.0", import: ["@probe"])
  @composeDirective(name: "@probe")
directive @probe on FIELD_DEFINITION
type Query {
  version: String ${LEAF} @cost(weight: ${WEIGHT['Query.version']})
  me: User
  node: Node
}
interface Node { id: ID! }
type User implements Node @key(fields: "id") {
  id: ID!
  name: String ${LEAF} @cost(weight: ${WEIGHT['User.name']})
  email: String ${LEAF} @cost(weight: ${WEIGHT['User.email']})
}
type Bot implements Node @key(fields: "id") {
  id: ID!
  owner: String ${LEAF} @cost(weight: ${WEIGHT['Bot.owner']})
}`;

interface Case {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  /** The selected leaves, as response paths: what graphql-js executes (checked too). */
  selected: string[];
  /** Conditions only a variable decides: query limits (validation, cached per document) count them. */
  variableConditions?: boolean;
}

const CASES: Case[] = [
  { name: 'a field skipped with a literal', query: '{ version me { name email @skip(if: true) } }', selected: ['version', 'me.name'] },
  { name: 'an inline fragment left out with @include(if: false)', query: '{ me { name ... @include(if: false) { email } } }', selected: ['me.name'] },
  { name: 'an inline fragment included with @include(if: true)', query: '{ me { ... @include(if: true) { email } } }', selected: ['me.email'] },
  { name: 'aliases are separate response keys', query: '{ me { n1: name n2: name mail: email } }', selected: ['me.n1', 'me.n2', 'me.mail'] },
  {
    name: 'nested named fragments, one spread skipped',
    query: '{ me { ...Outer } } fragment Outer on User { ...Inner ...Mail @skip(if: true) } fragment Inner on User { name } fragment Mail on User { email }',
    selected: ['me.name'],
  },
  {
    name: 'abstract type: fragments on the interface and the runtime type',
    query: '{ node { ... on Node { ... on User { name } } ...U } } fragment U on User { email @include(if: false) }',
    selected: ['node.name'],
  },
  {
    name: 'a variable in @skip',
    query: 'query Q($hide: Boolean!) { version @skip(if: $hide) me { name } }',
    variables: { hide: true },
    selected: ['me.name'],
    variableConditions: true,
  },
  {
    name: 'a variable default in @include on a named fragment',
    query: 'query Q($pii: Boolean = false) { me { name ...Pii @include(if: $pii) } } fragment Pii on User { email }',
    selected: ['me.name'],
    variableConditions: true,
  },
  {
    name: 'a variable that includes',
    query: 'query Q($pii: Boolean!) { me { ... @include(if: $pii) { email } } }',
    variables: { pii: true },
    selected: ['me.email'],
    variableConditions: true,
  },
];

/** The leaf paths present in a response (a leaf: any value that is not an object). */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return [prefix];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, inner]) => leafPaths(inner, prefix ? `${prefix}.${key}` : key));
}

/** The probe data: `leaf` at every leaf, a User behind `node`. */
function rootValue(leaf: string | null) {
  const user = { __typename: 'User', id: 'u1', name: leaf, email: leaf };
  return { version: leaf, me: user, node: user };
}

const PRINCIPAL: Principal = { subject: 'probe', anonymous: false, scopes: new Set(), tenant: undefined, claims: {} };
const sorted = (paths: Iterable<string>) => [...paths].sort();

describe('every walker of an operation selects what graphql-js executes', () => {
  let supergraphSdl: string;
  let apiSchema: GraphQLSchema;
  let prepared: PreparedDirectives;
  let sandbox: QuickJSSandbox;

  before(async () => {
    const composed = composeOrThrow([{ name: 'probe', url: 'http://127.0.0.1:1/graphql', sdl: SDL }]);
    supergraphSdl = composed.supergraphSdl;
    apiSchema = buildSchema(composed.apiSdl);
    prepared = prepareDirectives(supergraphSdl, apiSchema, [
      { extension: 'probe', version: '1.0.0', name: 'probe', definition: 'directive @probe on FIELD_DEFINITION', modulePath: 'probe.js', source: 'export function transform() { return "probed"; }' },
    ]);
    sandbox = await QuickJSSandbox.create({ callTimeoutMs: 1000, responseBudgetMs: 10_000 });
  });
  after(() => sandbox?.close());

  const run = (document: DocumentNode, value: string | null, variables?: Record<string, unknown>) =>
    execute({ schema: apiSchema, document, rootValue: rootValue(value), variableValues: variables ?? {}, typeResolver: (v) => (v as { __typename: string }).__typename }) as GatewayExecutionResult;

  for (const c of CASES) {
    describe(c.name, () => {
      const document = parse(c.query);
      const operation = selectOperation(document) as OperationDefinitionNode;

      test('graphql-js executes the expected leaves', () => {
        assert.deepEqual(sorted(leafPaths(run(document, 'v', c.variables).data)), sorted(c.selected));
      });

      test('authorization denies exactly the selected leaves', () => {
        const authorizer = new OperationAuthorizer(apiSchema, extractAuthorizationMetadata(supergraphSdl), {});
        const outcome = authorizer.authorize(document, undefined, PRINCIPAL, c.variables);
        assert.deepEqual(sorted(outcome.denied.map((d) => d.path.join('.'))), sorted(c.selected));
      });

      test('the cost estimate counts exactly the selected leaves', () => {
        const estimate = estimateCost(buildCostModel(supergraphSdl), document, { variables: c.variables ?? {} });
        const counted: string[] = [];
        for (const [coordinate, weight] of Object.entries(WEIGHT)) {
          const times = Math.floor(estimate.total / weight) % 16;
          for (let i = 0; i < times; i += 1) counted.push(coordinate);
        }
        assert.deepEqual(sorted(counted), sorted(c.selected.map(leafCoordinate)));
      });

      test('query limits measure the selected depth and root fields (an upper bound when a variable decides)', () => {
        const shape = measureOperation(operation, (name) => fragmentsOf(document)[name]);
        const depth = Math.max(...c.selected.map((p) => p.split('.').length));
        const roots = new Set(c.selected.map((p) => p.split('.')[0])).size;
        if (c.variableConditions) {
          assert.ok(shape.depth >= depth && shape.rootFields >= roots, JSON.stringify(shape));
        } else {
          assert.equal(shape.depth, depth);
          assert.equal(shape.rootFields, roots);
        }
      });

      test('resolver directives transform exactly the selected leaves', async () => {
        const result = run(document, 'v', c.variables);
        const requestContext = { request: { variables: c.variables ?? {} }, context: {}, operationName: undefined } as unknown as GatewayGraphQLRequestContext;
        const applied = await applyDirectives(prepared, result, requestContext, document, {
          sandbox,
          breakerFor: () => new DirectiveBreaker(DEFAULT_BREAKER_OPTIONS),
          onFailure: (event) => assert.fail(`directive failed: ${JSON.stringify(event)}`),
        });
        const probed = leafPaths(applied.data).filter((path) => path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], applied.data) === 'probed');
        assert.deepEqual(sorted(probed), sorted(c.selected));
      });

      test('error paths blame a failed extension at exactly the selected leaves', () => {
        const failed = { ...run(document, null, c.variables), errors: [new GraphQLError('probe is down', { extensions: { code: 'SUBREQUEST_HTTP_ERROR', extension: 'probe' } })] };
        const attributed = attributeExtensionErrors(failed, document, undefined, apiSchema, extractFieldOwnership(supergraphSdl), c.variables);
        assert.deepEqual(sorted((attributed.errors ?? []).map((e) => (e.path ?? []).join('.'))), sorted(c.selected));
      });
    });
  }
});

/** "Type.field" of the leaf a response path of the probe operations ends at (their aliases spelt out). */
function leafCoordinate(path: string): string {
  const keys = path.split('.');
  const aliases: Record<string, string> = { n1: 'name', n2: 'name', mail: 'email' };
  const field = aliases[keys.at(-1)!] ?? keys.at(-1)!;
  if (keys.length === 1) return `Query.${field}`;
  return field === 'owner' ? `Bot.${field}` : `User.${field}`;
}
