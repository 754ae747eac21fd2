// One meaning of a federation directive's name (issue 13): every @link form a subgraph can
// use goes through every feature that looks for @requiresScopes or @cost — the grant check
// at publish, the policy metadata and the cost model (from the composed supergraph), the
// directive catalog, the toolkit and the SDK — and each must find the same scopes and weight.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildSchema, parse } from 'graphql';
import { composeOrThrow } from '../../gateway/composition/index.js';
import { buildCostModel, estimateCost } from '../../gateway/cost/index.js';
import { prepareDirectives } from '../../gateway/directives/index.js';
import { authorizationUsageOf, extractAuthorizationMetadata } from '../../gateway/policy/index.js';
import { readSubgraph } from '../../gateway/toolkit/index.js';
import { readSdlDirectives } from '../../subgraphs/sdk/index.js';

const FEDERATION = 'https://specs.apollo.dev/federation/v2.9';
const DIRECTIVES = 'https://graft.dev/directives/probe/v1.0';

interface Form {
  name: string;
  links: string;
  /** How the SDL writes @requiresScopes, @cost and the extension's @shout in this form. */
  scopes: string;
  cost: string;
  shout: string;
}

const FORMS: Form[] = [
  {
    name: 'string imports',
    links: `@link(url: "${FEDERATION}", import: ["@requiresScopes", "@cost", "@composeDirective"]) @link(url: "${DIRECTIVES}", import: ["@shout"]) @composeDirective(name: "@shout")`,
    scopes: '@requiresScopes',
    cost: '@cost',
    shout: '@shout',
  },
  {
    name: 'imports renamed with as:',
    links: `@link(url: "${FEDERATION}", import: [{ name: "@requiresScopes", as: "@needs" }, { name: "@cost", as: "@weight" }, "@composeDirective"]) @link(url: "${DIRECTIVES}", import: [{ name: "@shout", as: "@yell" }]) @composeDirective(name: "@yell")`,
    scopes: '@needs',
    cost: '@weight',
    shout: '@yell',
  },
  {
    name: 'the namespace of a link renamed with as: (@fed__x)',
    links: `@link(url: "${FEDERATION}", as: "fed", import: ["@composeDirective"]) @link(url: "${DIRECTIVES}", as: "pr") @composeDirective(name: "@pr__shout")`,
    scopes: '@fed__requiresScopes',
    cost: '@fed__cost',
    shout: '@pr__shout',
  },
  {
    name: 'the default namespace (@federation__x)',
    links: `@link(url: "${FEDERATION}", import: ["@composeDirective"]) @link(url: "${DIRECTIVES}") @composeDirective(name: "@probe__shout")`,
    scopes: '@federation__requiresScopes',
    cost: '@federation__cost',
    shout: '@probe__shout',
  },
];

const sdlOf = (form: Form) => `extend schema ${form.links}
directive ${form.shout} on FIELD_DEFINITION
type Query {
  secret: String ${form.scopes}(scopes: [["probe:read"]]) ${form.cost}(weight: 7) ${form.shout}
  open: String
}`;

describe('every reader of @link names federation directives the same way', () => {
  for (const form of FORMS) {
    describe(form.name, () => {
      const sdl = sdlOf(form);
      const composed = composeOrThrow([{ name: 'probe', url: 'http://127.0.0.1:1/graphql', sdl }]);

      test('the grant check at publish finds the scopes', () => {
        assert.deepEqual([...authorizationUsageOf(sdl).scopes], ['probe:read']);
      });

      test('the policy metadata of the supergraph requires them on the field', () => {
        const metadata = extractAuthorizationMetadata(composed.supergraphSdl);
        assert.deepEqual(metadata.fields.get('Query.secret'), [{ kind: 'scopes', anyOf: [['probe:read']] }]);
        assert.equal(metadata.fields.get('Query.open'), undefined);
      });

      test('the cost model charges the weight', () => {
        assert.equal(estimateCost(buildCostModel(composed.supergraphSdl), parse('{ secret open }')).total, 7);
      });

      test("the directive catalog finds the extension's directive on the field", () => {
        const prepared = prepareDirectives(composed.supergraphSdl, buildSchema(composed.apiSdl), []);
        const query = buildSchema(composed.apiSdl).getQueryType()!;
        const applications = prepared.fieldApplications(query, 'secret');
        assert.deepEqual(applications.map((a) => `${a.entry.extension}/${a.entry.name}`), ['probe/shout']);
      });

      test('the toolkit reads the same requirement', () => {
        assert.deepEqual(readSubgraph(sdl).requirementOf('Query', 'secret')?.scopes, [[['probe:read']]]);
        assert.equal(readSubgraph(sdl).requirementOf('Query', 'open'), undefined);
      });

      test('the SDK enforces the same scopes and cost', () => {
        const applied = readSdlDirectives(parse(sdl)).fields.get('Query')?.get('secret');
        assert.deepEqual(applied?.scopes, [[['probe:read']]]);
        assert.equal(applied?.cost, 7);
      });
    });
  }
});
