// The schema check's rule table, change by change, plus the federation-only failures,
// the operation check and the report formats. Every row says what we expect and why; rows
// marked `inspector:` pin what @graphql-inspector/core 8.0.0 says on its own, so an upgrade
// that fixes (or changes) inspector fails here and the override can be reconsidered.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CriticalityLevel, diff as inspectorDiff } from '@graphql-inspector/core';
import { buildSchema } from 'graphql';
import type { SubgraphInput } from '../composition/index.js';
import { GraftError } from '../errors/index.js';
import {
  applySubgraphChanges,
  changedSubgraphNames,
  diffSchemas,
  formatGithub,
  formatMarkdown,
  formatText,
  MARKDOWN_MARKER,
  mostSevere,
  parseOperations,
  runSchemaCheck,
  verdictOf,
  type Criticality,
  type SchemaCheckReport,
} from './index.js';

interface Row {
  name: string;
  before: string;
  after: string;
  expect: Criticality;
  /** Change types that must be reported (Graft's or inspector's names). */
  types?: string[];
  /** What inspector 8.0.0 alone says (most severe level) where Graft's rule table overrides it. */
  inspector?: Criticality;
}

const Q = 'type Query { a: String }\n';
const INPUT_USE = 'type Mutation { m(i: I): Int }\n';

const ROWS: Row[] = [
  // ---- types
  // A removed type breaks every operation that names it (fragments, variables, fields returning it).
  { name: 'type removed', before: `${Q}type T { x: Int } type Mutation { t: T }`, after: `${Q}type Mutation { t: Int }`, expect: 'breaking', types: ['TYPE_REMOVED'] },
  // Nothing existing can refer to a new type.
  { name: 'type added', before: Q, after: `${Q}type T { x: Int }`, expect: 'safe', types: ['TYPE_ADDED'] },
  // Selections on an object are invalid on an input (and the reverse for variables).
  { name: 'type kind changed (object to input)', before: `${Q}type T { x: Int }`, after: `${Q}input T { x: Int }`, expect: 'breaking', types: ['TYPE_KIND_CHANGED'] },
  // Still selectable, but introspection-driven clients and __typename checks see another kind.
  { name: 'type kind changed (object to interface)', before: `${Q}type T { x: Int }`, after: `${Q}interface T { x: Int }`, expect: 'breaking', types: ['TYPE_KIND_CHANGED'] },
  { name: 'scalar removed', before: `${Q}scalar Date`, after: Q, expect: 'breaking', types: ['TYPE_REMOVED'] },

  // ---- output fields
  // Operations selecting it stop validating.
  { name: 'field removed', before: 'type Query { a: String b: Int }', after: 'type Query { a: String }', expect: 'breaking', types: ['FIELD_REMOVED'] },
  // Deprecation is the waiting period (DESIGN decision 3), not a licence: an operation that still
  // selects the field breaks all the same; the operation check names who still does.
  { name: 'deprecated field removed', before: 'type Query { a: String b: Int @deprecated }', after: 'type Query { a: String }', expect: 'breaking', types: ['FIELD_REMOVED'] },
  { name: 'field added', before: 'type Query { a: String }', after: 'type Query { a: String b: Int }', expect: 'safe', types: ['FIELD_ADDED'] },
  // Output: a client that handles null also handles a value.
  { name: 'output field made non-null', before: 'type Query { a: String }', after: 'type Query { a: String! }', expect: 'safe', types: ['FIELD_TYPE_CHANGED'] },
  // Output: a client that relied on a value now gets null.
  { name: 'output field made nullable', before: 'type Query { a: String! }', after: 'type Query { a: String }', expect: 'breaking', types: ['FIELD_TYPE_CHANGED'] },
  { name: 'output list items made nullable', before: 'type Query { a: [String!] }', after: 'type Query { a: [String] }', expect: 'breaking' },
  { name: 'output list items made non-null', before: 'type Query { a: [String] }', after: 'type Query { a: [String!] }', expect: 'safe' },
  // A list where a scalar was: every client's parsing of the value changes.
  { name: 'output field wrapped in a list', before: 'type Query { a: String }', after: 'type Query { a: [String] }', expect: 'breaking' },
  { name: 'output field type changed (Int to Float)', before: 'type Query { a: Int }', after: 'type Query { a: Float }', expect: 'breaking' },

  // ---- input fields (the nullability rules are the mirror image of output)
  // Input: every value valid before (non-null) is still valid.
  { name: 'input field made nullable', before: `${Q}${INPUT_USE}input I { x: Int! }`, after: `${Q}${INPUT_USE}input I { x: Int }`, expect: 'safe', types: ['INPUT_FIELD_TYPE_CHANGED'] },
  // Input: operations that sent null or omitted it stop validating.
  { name: 'input field made non-null', before: `${Q}${INPUT_USE}input I { x: Int }`, after: `${Q}${INPUT_USE}input I { x: Int! }`, expect: 'breaking', types: ['INPUT_FIELD_TYPE_CHANGED'] },
  { name: 'input field type changed', before: `${Q}${INPUT_USE}input I { x: Int }`, after: `${Q}${INPUT_USE}input I { x: String }`, expect: 'breaking' },
  // Operations that omit a required field stop validating.
  { name: 'required input field added', before: `${Q}${INPUT_USE}input I { x: Int }`, after: `${Q}${INPUT_USE}input I { x: Int y: Int! }`, expect: 'breaking', types: ['INPUT_FIELD_ADDED'] },
  // Omitted, it is absent, as before.
  { name: 'optional input field added', before: `${Q}${INPUT_USE}input I { x: Int }`, after: `${Q}${INPUT_USE}input I { x: Int y: Int }`, expect: 'safe', types: ['INPUT_FIELD_ADDED'] },
  // Rule (1): a default makes it optional; omitted, it takes the default the subgraph (deployed
  // before the schema is published) already applies. inspector calls it dangerous.
  { name: 'non-null input field with a default added', before: `${Q}${INPUT_USE}input I { x: Int }`, after: `${Q}${INPUT_USE}input I { x: Int y: Int! = 1 }`, expect: 'safe', inspector: 'dangerous' },
  { name: 'input field removed', before: `${Q}${INPUT_USE}input I { x: Int y: Int }`, after: `${Q}${INPUT_USE}input I { x: Int }`, expect: 'breaking', types: ['INPUT_FIELD_REMOVED'] },
  // Clients that omit it silently get another value (graphql-js 16 does not even see this one).
  { name: 'input field default changed', before: `${Q}${INPUT_USE}input I { x: Int = 1 }`, after: `${Q}${INPUT_USE}input I { x: Int = 2 }`, expect: 'dangerous', types: ['INPUT_FIELD_DEFAULT_VALUE_CHANGED'] },
  // Rule (2): non-null without a default is required: operations that omitted it stop validating.
  { name: 'default removed from a non-null input field', before: `${Q}${INPUT_USE}input I { x: Int! = 1 }`, after: `${Q}${INPUT_USE}input I { x: Int! }`, expect: 'breaking', inspector: 'dangerous' },

  // ---- arguments
  { name: 'argument made nullable', before: 'type Query { a(x: Int!): String }', after: 'type Query { a(x: Int): String }', expect: 'safe', types: ['FIELD_ARGUMENT_TYPE_CHANGED'] },
  { name: 'argument made non-null', before: 'type Query { a(x: Int): String }', after: 'type Query { a(x: Int!): String }', expect: 'breaking', types: ['FIELD_ARGUMENT_TYPE_CHANGED'] },
  // The default still covers omission, but an explicit null (literal or variable) is now an error.
  { name: 'argument made non-null, default kept', before: 'type Query { a(x: Int = 1): String }', after: 'type Query { a(x: Int! = 1): String }', expect: 'breaking' },
  { name: 'argument list items made non-null', before: 'type Query { a(x: [Int]): String }', after: 'type Query { a(x: [Int!]): String }', expect: 'breaking' },
  { name: 'argument list items made nullable', before: 'type Query { a(x: [Int!]): String }', after: 'type Query { a(x: [Int]): String }', expect: 'safe' },
  // Literals coerce to a one-item list, but a variable declared Int is not allowed where [Int] is expected.
  { name: 'argument wrapped in a list', before: 'type Query { a(x: Int): String }', after: 'type Query { a(x: [Int]): String }', expect: 'breaking' },
  { name: 'required argument added', before: 'type Query { a: String }', after: 'type Query { a(x: Int!): String }', expect: 'breaking', types: ['FIELD_ARGUMENT_ADDED'] },
  // Rule (1): omitted, the argument is absent, as before. inspector: dangerous (yet an optional input field is safe to it).
  { name: 'optional argument added', before: 'type Query { a: String }', after: 'type Query { a(x: Int): String }', expect: 'safe', inspector: 'dangerous' },
  { name: 'non-null argument with a default added', before: 'type Query { a: String }', after: 'type Query { a(x: Int! = 3): String }', expect: 'safe', inspector: 'dangerous' },
  { name: 'argument removed', before: 'type Query { a(x: Int): String }', after: 'type Query { a: String }', expect: 'breaking', types: ['FIELD_ARGUMENT_REMOVED'] },
  // Clients that omit it silently get different results.
  { name: 'argument default changed', before: 'type Query { a(x: Int = 1): String }', after: 'type Query { a(x: Int = 2): String }', expect: 'dangerous', types: ['FIELD_ARGUMENT_DEFAULT_CHANGED'] },
  { name: 'argument default added', before: 'type Query { a(x: Int): String }', after: 'type Query { a(x: Int = 2): String }', expect: 'dangerous' },
  { name: 'argument default removed (nullable)', before: 'type Query { a(x: Int = 1): String }', after: 'type Query { a(x: Int): String }', expect: 'dangerous' },
  // Rule (2): the argument becomes required.
  { name: 'default removed from a non-null argument', before: 'type Query { a(x: Int! = 1): String }', after: 'type Query { a(x: Int!): String }', expect: 'breaking', inspector: 'dangerous' },

  // ---- enums
  // A client switching over the values meets one it does not know.
  { name: 'enum value added (enum returned by a field)', before: 'type Query { a: E } enum E { A B }', after: 'type Query { a: E } enum E { A B C }', expect: 'dangerous', types: ['ENUM_VALUE_ADDED'] },
  // Rule (3): no field returns it, so no client ever receives the new value.
  { name: 'enum value added (input-only enum)', before: 'type Query { a(e: E): String } enum E { A B }', after: 'type Query { a(e: E): String } enum E { A B C }', expect: 'safe', inspector: 'dangerous' },
  // Operations that send the value stop validating.
  { name: 'enum value removed (enum taken as an argument)', before: 'type Query { a(e: E): E } enum E { A B }', after: 'type Query { a(e: E): E } enum E { A }', expect: 'breaking', types: ['ENUM_VALUE_REMOVED'] },
  // Rule (3): no operation can contain an output-only value; dangerous because a resolver still
  // returning it now fails to serialise.
  { name: 'enum value removed (output-only enum)', before: 'type Query { a: E } enum E { A B }', after: 'type Query { a: E } enum E { A }', expect: 'dangerous', inspector: 'breaking' },
  { name: 'enum value deprecated', before: 'type Query { a: E } enum E { A B }', after: 'type Query { a: E } enum E { A B @deprecated(reason: "use A") }', expect: 'safe' },

  // ---- unions and interfaces
  // Clients branching on __typename meet a type they do not handle.
  { name: 'union member added', before: `${Q}type A { x: Int } type B { x: Int } union U = A`, after: `${Q}type A { x: Int } type B { x: Int } union U = A | B`, expect: 'dangerous', types: ['UNION_MEMBER_ADDED'] },
  // Fragments on the removed member stop validating.
  { name: 'union member removed', before: `${Q}type A { x: Int } type B { x: Int } union U = A | B`, after: `${Q}type A { x: Int } type B { x: Int } union U = A`, expect: 'breaking', types: ['UNION_MEMBER_REMOVED'] },
  // The interface's fields may now return a type that clients do not expect.
  { name: 'interface added to an object type', before: `${Q}interface N { id: ID } type T { id: ID }`, after: `${Q}interface N { id: ID } type T implements N { id: ID }`, expect: 'dangerous', types: ['OBJECT_TYPE_INTERFACE_ADDED'] },
  // Fragments on the interface inside selections of T stop validating.
  { name: 'interface removed from an object type', before: `${Q}interface N { id: ID } type T implements N { id: ID }`, after: `${Q}interface N { id: ID } type T { id: ID }`, expect: 'breaking', types: ['OBJECT_TYPE_INTERFACE_REMOVED'] },
  { name: 'interface added to an interface', before: `${Q}interface A { x: Int } interface B { x: Int }`, after: `${Q}interface A { x: Int } interface B implements A { x: Int }`, expect: 'dangerous' },
  { name: 'field added to an interface', before: `${Q}interface N { id: ID }`, after: `${Q}interface N { id: ID x: Int }`, expect: 'safe' },

  // ---- directive definitions
  // Operations that use an executable directive stop validating.
  { name: 'executable directive removed', before: `${Q}directive @d on FIELD`, after: Q, expect: 'breaking', types: ['DIRECTIVE_REMOVED'] },
  // Rule (5): no operation can use a type-system directive.
  { name: 'type-system directive removed', before: `${Q}directive @d on OBJECT`, after: Q, expect: 'dangerous', inspector: 'breaking' },
  { name: 'directive added', before: Q, after: `${Q}directive @d(x: Int) on FIELD | QUERY`, expect: 'safe', types: ['DIRECTIVE_ADDED'] },
  { name: 'executable directive location removed', before: `${Q}directive @d on FIELD | QUERY`, after: `${Q}directive @d on FIELD`, expect: 'breaking', types: ['DIRECTIVE_LOCATION_REMOVED'] },
  { name: 'type-system directive location removed', before: `${Q}directive @d on FIELD_DEFINITION | OBJECT`, after: `${Q}directive @d on FIELD_DEFINITION`, expect: 'dangerous', inspector: 'breaking' },
  { name: 'directive location added', before: `${Q}directive @d on FIELD`, after: `${Q}directive @d on FIELD | QUERY`, expect: 'safe' },
  { name: 'required argument added to an executable directive', before: `${Q}directive @d on FIELD`, after: `${Q}directive @d(x: Int!) on FIELD`, expect: 'breaking' },
  { name: 'required argument added to a type-system directive', before: `${Q}directive @d on OBJECT`, after: `${Q}directive @d(x: Int!) on OBJECT`, expect: 'dangerous', inspector: 'breaking' },
  { name: 'executable directive argument removed', before: `${Q}directive @d(x: Int) on FIELD`, after: `${Q}directive @d on FIELD`, expect: 'breaking' },
  // Rule (4): an operation that repeats the directive stops validating.
  { name: 'repeatable removed from an executable directive', before: `${Q}directive @d repeatable on FIELD`, after: `${Q}directive @d on FIELD`, expect: 'breaking', inspector: 'dangerous' },
  { name: 'repeatable removed from a type-system directive', before: `${Q}directive @d repeatable on OBJECT`, after: `${Q}directive @d on OBJECT`, expect: 'dangerous' },
  { name: 'directive argument default changed', before: `${Q}directive @d(x: Int = 1) on FIELD`, after: `${Q}directive @d(x: Int = 2) on FIELD`, expect: 'dangerous' },

  // ---- deprecation and descriptions: documentation, nothing stops working
  { name: 'deprecation added', before: 'type Query { a: String }', after: 'type Query { a: String @deprecated(reason: "use b") }', expect: 'safe', types: ['FIELD_DEPRECATION_ADDED'] },
  { name: 'deprecation removed', before: 'type Query { a: String @deprecated }', after: 'type Query { a: String }', expect: 'safe', types: ['FIELD_DEPRECATION_REMOVED'] },
  // Rule (6): inspector adds "argument 'reason' was removed from @deprecated" at dangerous.
  { name: 'deprecation reason changed', before: 'type Query { a: String @deprecated(reason: "x") }', after: 'type Query { a: String @deprecated(reason: "y") }', expect: 'safe', inspector: 'dangerous' },
  { name: 'argument deprecated', before: 'type Query { a(x: Int): String }', after: 'type Query { a(x: Int @deprecated): String }', expect: 'safe' },
  { name: 'field description changed', before: 'type Query { "old" a: String }', after: 'type Query { "new" a: String }', expect: 'safe', types: ['FIELD_DESCRIPTION_CHANGED'] },
  { name: 'field description added', before: 'type Query { a: String }', after: 'type Query { "new" a: String }', expect: 'safe' },
  { name: 'type description changed', before: '"old" type Query { a: String }', after: '"new" type Query { a: String }', expect: 'safe', types: ['TYPE_DESCRIPTION_CHANGED'] },
  { name: 'enum value description changed', before: 'type Query { a: E } enum E { "x" A }', after: 'type Query { a: E } enum E { "y" A }', expect: 'safe' },
  { name: 'argument description added', before: 'type Query { a(x: Int): String }', after: 'type Query { a("how many" x: Int): String }', expect: 'safe' },

  // ---- other directives and roots
  // Operations that set several fields of the input, or none, stop validating.
  { name: '@oneOf added to an input', before: `${Q}${INPUT_USE}input I { x: Int y: Int }`, after: `${Q}${INPUT_USE}input I @oneOf { x: Int y: Int }`, expect: 'breaking' },
  // Rule (6): documentation of a scalar; inspector reports the new URL as "argument removed" at dangerous.
  { name: '@specifiedBy URL changed', before: `${Q}scalar S @specifiedBy(url: "https://a")`, after: `${Q}scalar S @specifiedBy(url: "https://b")`, expect: 'safe', inspector: 'dangerous' },
  { name: 'mutation root added', before: Q, after: `${Q}type Mutation { m: Int }`, expect: 'safe' },
  { name: 'mutation root removed', before: `${Q}type Mutation { m: Int }`, after: Q, expect: 'breaking' },
];

function inspectorLevel(level: CriticalityLevel): Criticality {
  return level === CriticalityLevel.Breaking ? 'breaking' : level === CriticalityLevel.Dangerous ? 'dangerous' : 'safe';
}

describe('rule table: one change at a time', () => {
  for (const row of ROWS) {
    test(`${row.name}: ${row.expect}`, async () => {
      const before = buildSchema(row.before);
      const after = buildSchema(row.after);
      const changes = await diffSchemas(before, after);
      assert.ok(changes.length > 0, 'the change is detected');
      assert.equal(mostSevere(changes.map((c) => c.criticality)), row.expect, JSON.stringify(changes, null, 1));
      for (const type of row.types ?? []) assert.ok(changes.some((c) => c.type === type), `reports ${type}: ${JSON.stringify(changes)}`);
      if (row.inspector) {
        const raw = await inspectorDiff(before, after);
        assert.equal(mostSevere(raw.map((c) => inspectorLevel(c.criticality.level))), row.inspector, 'inspector 8.0.0 on its own (the reason for the override)');
        assert.notEqual(row.inspector, row.expect);
      }
    });
  }
});

describe('inspector echoes Graft removes', () => {
  test('a deprecation is one change, not three', async () => {
    const changes = await diffSchemas(buildSchema('type Query { a: String }'), buildSchema('type Query { a: String @deprecated(reason: "use b") }'));
    assert.deepEqual(changes.map((c) => c.type), ['FIELD_DEPRECATION_ADDED']);
    const raw = await inspectorDiff(buildSchema('type Query { a: String }'), buildSchema('type Query { a: String @deprecated(reason: "use b") }'));
    assert.equal(raw.length, 3, 'inspector: FIELD_DEPRECATION_ADDED + DIRECTIVE_USAGE_FIELD_DEFINITION_ADDED + DIRECTIVE_USAGE_ARGUMENT_ADDED');
  });

  test('a new type is one change, not one per field and argument', async () => {
    const changes = await diffSchemas(buildSchema(Q), buildSchema(`${Q}type T { x(y: Int): Int z: Int } enum E { A B }`));
    assert.deepEqual(changes.map((c) => `${c.type} ${c.path}`).sort(), ['TYPE_ADDED E', 'TYPE_ADDED T']);
  });

  test('a changed directive argument is one DIRECTIVE_USAGE_ARGUMENT_CHANGED with both values', async () => {
    const schema = (url: string) => buildSchema(`${Q}scalar S @specifiedBy(url: "${url}")`);
    const changes = await diffSchemas(schema('https://a'), schema('https://b'));
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.type, 'DIRECTIVE_USAGE_ARGUMENT_CHANGED');
    assert.match(changes[0]!.message, /from "https:\/\/a" to "https:\/\/b"/);
  });

  test('the message of a removed default says so (inspector prints "to \'undefined\'")', async () => {
    const changes = await diffSchemas(buildSchema('type Query { a(x: Int! = 1): String }'), buildSchema('type Query { a(x: Int!): String }'));
    assert.match(changes[0]!.message, /was removed: it is non-null, so it is now required/);
  });
});

// ------------------------------------------------------------------ federation

const fed = (imports: string[], body: string) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: [${imports.map((i) => (i.startsWith('{') ? i : `"${i}"`)).join(', ')}])\n${body}\n`;
const sg = (name: string, sdl: string): SubgraphInput => ({ name, url: 'http://subgraph.invalid/graphql', sdl });

async function check(base: SubgraphInput[], replace: SubgraphInput[], remove: string[] = [], operations: Array<{ file: string; source: string }> = []): Promise<SchemaCheckReport> {
  const proposed = applySubgraphChanges(base, { replace, remove });
  return runSchemaCheck({ base, proposed, changedSubgraphs: [...replace.map((s) => s.name), ...remove], operations });
}

const codes = (report: SchemaCheckReport) => report.compositionErrors.map((e) => e.code);
const types = (report: SchemaCheckReport, level: 'api' | 'subgraph') => report.changes.filter((c) => c.level === level).map((c) => c.type);

const CRM = fed(['@key', '@shareable'], 'type Customer @key(fields: "id") { id: ID! email: String! name: String @shareable } type Query { customers: [Customer!]! }');
const ORDERS = fed(['@key', '@shareable'], 'type Customer @key(fields: "id") { id: ID! name: String @shareable orders: [Int!]! } type Query { top: Customer }');

describe('federation-only failures and changes', () => {
  test('removing a field that another subgraph @requires: composition-error EXTERNAL_MISSING_ON_BASE', async () => {
    const inventory = fed(['@key'], 'type Product @key(fields: "id") { id: ID! weight: Int! price: Float! } type Query { products: [Product!]! }');
    const shipping = fed(['@key', '@external', '@requires'], 'type Product @key(fields: "id") { id: ID! weight: Int! @external cost: Float! @requires(fields: "weight") }');
    const report = await check([sg('inventory', inventory), sg('shipping', shipping)], [sg('inventory', inventory.replace('weight: Int! ', ''))]);
    // Inside the inventory subgraph the removal is plain GraphQL; only composition knows shipping needs it.
    assert.equal(report.verdict, 'composition-error');
    assert.deepEqual(codes(report), ['EXTERNAL_MISSING_ON_BASE']);
    assert.deepEqual(report.compositionErrors[0]!.coordinates, ['Product.weight']);
    assert.deepEqual(types(report, 'api'), [], 'no API diff without a composed graph');
  });

  test('removing the @key field: composition-error KEY_INVALID_FIELDS', async () => {
    const report = await check([sg('crm', CRM), sg('orders', ORDERS)], [sg('crm', CRM.replace('id: ID! email', 'email'))]);
    assert.equal(report.verdict, 'composition-error');
    assert.deepEqual(codes(report), ['KEY_INVALID_FIELDS']);
    assert.match(report.notes.join(' '), /crm.*not a valid subgraph/);
  });

  test('changing the @key to another field while another subgraph keys on the old one: composition-error, and KEY_CHANGED', async () => {
    const report = await check([sg('crm', CRM), sg('orders', ORDERS)], [sg('crm', CRM.replace('@key(fields: "id")', '@key(fields: "email")'))]);
    assert.equal(report.verdict, 'composition-error');
    // crm no longer has id as a key, so its Customer.id is an ordinary, non-shareable field also resolved by orders.
    assert.deepEqual(codes(report), ['INVALID_FIELD_SHARING']);
    const key = report.changes.find((c) => c.type === 'KEY_CHANGED');
    assert.equal(key?.criticality, 'dangerous');
    assert.match(key?.message ?? '', /from @key\(fields: "id"\) to @key\(fields: "email"\)/);
  });

  test('a second @key is safe (more ways in); removing one of two is dangerous', async () => {
    const added = await check([sg('crm', CRM), sg('orders', ORDERS)], [sg('crm', CRM.replace('@key(fields: "id")', '@key(fields: "id") @key(fields: "email")'))]);
    assert.equal(added.verdict, 'safe');
    assert.deepEqual(types(added, 'subgraph'), ['KEY_ADDED']);
    assert.equal(added.compositionErrors.length, 0);
  });

  test('rule (7): @key usages are compared as sets, under any import name; inspector pairs them by position', async () => {
    const before = fed(['{ name: "@key", as: "@pk" }'], 'type Customer @pk(fields: "id") @pk(fields: "email") { id: ID! email: String! } type Query { c: Customer }');
    const after = before.replace('@pk(fields: "id") ', '');
    const report = await check([sg('crm', before)], [sg('crm', after)]);
    const keys = report.changes.filter((c) => c.type.startsWith('KEY_'));
    assert.deepEqual(keys.map((c) => c.message), ['Key @key(fields: "id") was removed from entity \'Customer\'']);
    assert.equal(report.verdict, 'dangerous');
    const { buildSubgraphSchema } = await import('@apollo/subgraph');
    const { parse } = await import('graphql');
    const raw = await inspectorDiff(buildSubgraphSchema(parse(before)), buildSubgraphSchema(parse(after)));
    // inspector: the first usage's "fields" changed from "id" to "email", and a second usage was removed.
    assert.ok(raw.some((c) => c.type === 'DIRECTIVE_USAGE_ARGUMENT_ADDED' && (c.meta as { oldArgumentValue?: string }).oldArgumentValue === '"id"'));
  });

  test('the same field in two subgraphs without @shareable: composition-error INVALID_FIELD_SHARING', async () => {
    const a = fed(['@key'], 'type Money { amount: Int } type Query { a: Money }');
    const b = fed(['@key'], 'type Query { b: Int }');
    const report = await check([sg('a', a), sg('b', b)], [sg('b', fed(['@key'], 'type Money { amount: Int } type Query { b: Money }'))]);
    assert.deepEqual(codes(report), ['INVALID_FIELD_SHARING']);
    assert.deepEqual(report.compositionErrors[0]!.subgraphs, ['a', 'b']);
  });

  test('@shareable removed while another subgraph resolves the field: composition-error; the usage change itself is dangerous', async () => {
    const report = await check([sg('crm', CRM), sg('orders', ORDERS)], [sg('crm', CRM.replace('name: String @shareable', 'name: String'))]);
    assert.deepEqual(codes(report), ['INVALID_FIELD_SHARING']);
    const usage = report.changes.find((c) => c.path === 'Customer.name.@shareable');
    assert.equal(usage?.criticality, 'dangerous');
  });

  test('a shared entity field removed from one subgraph while the other still resolves it: safe (the API does not change)', async () => {
    const report = await check([sg('crm', CRM), sg('orders', ORDERS)], [sg('crm', CRM.replace(' name: String @shareable', ''))]);
    assert.equal(report.verdict, 'safe');
    const removed = report.changes.find((c) => c.level === 'subgraph' && c.type === 'FIELD_REMOVED');
    assert.equal(removed?.criticality, 'safe', 'inspector alone says breaking; clients only see the API schema');
    assert.match(removed?.reason ?? '', /API schema does not change/);
    assert.deepEqual(types(report, 'api'), []);
  });

  test('an enum used as input in one subgraph and output in another, value added in one: composition-error ENUM_VALUE_MISMATCH', async () => {
    const a = fed(['@key'], 'enum Status { OPEN CLOSED } type Query { a(s: Status): Int }');
    const b = fed(['@key'], 'enum Status { OPEN CLOSED } type Query { b: Status }');
    const report = await check([sg('a', a), sg('b', b)], [sg('a', a.replace('OPEN CLOSED', 'OPEN CLOSED ARCHIVED'))]);
    assert.deepEqual(codes(report), ['ENUM_VALUE_MISMATCH']);
  });

  test('an input-only enum value added in one subgraph only: safe (composition keeps the intersection)', async () => {
    const a = fed(['@key'], 'enum Status { OPEN CLOSED } type Query { a(s: Status): Int }');
    const b = fed(['@key'], 'enum Status { OPEN CLOSED } type Query { b(s: Status): Int }');
    const report = await check([sg('a', a), sg('b', b)], [sg('a', a.replace('OPEN CLOSED', 'OPEN CLOSED ARCHIVED'))]);
    assert.equal(report.verdict, 'safe');
    assert.deepEqual(types(report, 'api'), [], 'the value is not in the API until every subgraph takes it');
  });

  test('an output-only enum value added in one subgraph only: dangerous (composition keeps the union)', async () => {
    const a = fed(['@key'], 'enum Status { OPEN CLOSED } type Query { a: Status }');
    const b = fed(['@key'], 'enum Status { OPEN CLOSED } type Query { b: Status }');
    const report = await check([sg('a', a), sg('b', b)], [sg('a', a.replace('OPEN CLOSED', 'OPEN CLOSED ARCHIVED'))]);
    assert.equal(report.verdict, 'dangerous');
    assert.deepEqual(types(report, 'api'), ['ENUM_VALUE_ADDED']);
  });

  test('input types across subgraphs: an optional field in one is safe, a required one is REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH, a type mismatch FIELD_TYPE_MISMATCH', async () => {
    const g = fed(['@key'], 'input Filter { q: String } type Query { g(f: Filter): Int }');
    const h = fed(['@key'], 'input Filter { q: String } type Query { h(f: Filter): Int }');
    const base = [sg('g', g), sg('h', h)];
    const optional = await check(base, [sg('g', g.replace('q: String', 'q: String limit: Int'))]);
    assert.equal(optional.verdict, 'safe');
    const required = await check(base, [sg('g', g.replace('q: String', 'q: String limit: Int!'))]);
    assert.deepEqual(codes(required), ['REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH']);
    const mismatch = await check(base, [sg('g', g.replace('q: String', 'q: Int'))]);
    assert.deepEqual(codes(mismatch), ['FIELD_TYPE_MISMATCH']);
    assert.deepEqual(mismatch.compositionErrors[0]!.coordinates, ['Filter.q']);
  });

  test('federation plumbing (_Entity, _entities, link__*) is not reported as the author\'s change', async () => {
    const report = await check([sg('crm', CRM)], [sg('crm', `${CRM}type Invoice @key(fields: "id") { id: ID! }`)]);
    assert.deepEqual(report.changes.filter((c) => c.level === 'subgraph').map((c) => `${c.type} ${c.path}`), ['TYPE_ADDED Invoice']);
  });

  test('access and cost directives have no API counterpart, so their subgraph-level changes carry the verdict', async () => {
    const z = fed(['@key', '@authenticated', '@requiresScopes', '@cost'], 'type Query { z: String @requiresScopes(scopes: [["a"]]) w: Int }');
    const report = await check([sg('z', z)], [sg('z', z.replace('w: Int', 'w: Int @authenticated @cost(weight: 3)').replace('[["a"]]', '[["b"]]'))]);
    assert.equal(report.verdict, 'dangerous');
    assert.deepEqual(types(report, 'subgraph').sort(), ['DIRECTIVE_USAGE_ARGUMENT_CHANGED', 'DIRECTIVE_USAGE_FIELD_DEFINITION_ADDED', 'DIRECTIVE_USAGE_FIELD_DEFINITION_ADDED']);
    assert.deepEqual(types(report, 'api'), []);
  });

  test('@inaccessible added: dangerous in the subgraph, a breaking field removal in the API', async () => {
    const z = fed(['@key', '@inaccessible'], 'type Query { z: String w: Int }');
    const report = await check([sg('z', z)], [sg('z', z.replace('w: Int', 'w: Int @inaccessible'))]);
    assert.equal(report.verdict, 'breaking');
    assert.deepEqual(types(report, 'api'), ['FIELD_REMOVED']);
  });

  test('a Federation 1 subgraph (no @link) composes with Federation 2 peers and diffs like any other', async () => {
    const fed1 = 'type Customer @key(fields: "id") { id: ID! name: String } type Query { customers: [Customer] }';
    const report = await check([sg('crm', fed1), sg('orders', fed(['@key'], 'type Customer @key(fields: "id") { id: ID! orders: [Int!]! } type Query { x: Customer }'))], [sg('crm', fed1.replace('name: String', 'name: String vip: Boolean'))]);
    assert.equal(report.verdict, 'safe');
    assert.deepEqual(report.changes.map((c) => `${c.level} ${c.type} ${c.path}`), ['subgraph FIELD_ADDED Customer.vip', 'api FIELD_ADDED Customer.vip']);
  });

  test('removing a subgraph: its fields leave the API (breaking); adding one is safe', async () => {
    const removed = await check([sg('crm', CRM), sg('orders', ORDERS)], [], ['orders']);
    assert.equal(removed.verdict, 'breaking');
    assert.deepEqual(types(removed, 'subgraph'), ['SUBGRAPH_REMOVED']);
    assert.deepEqual(removed.changes.filter((c) => c.level === 'api').map((c) => c.path).sort(), ['Customer.orders', 'Query.top']);
    const added = await check([sg('crm', CRM)], [sg('orders', ORDERS)]);
    assert.equal(added.verdict, 'safe');
    assert.deepEqual(types(added, 'subgraph'), ['SUBGRAPH_ADDED']);
  });

  test('an unchanged graph full of directives reports no change (base and proposed API schemas are built alike)', async () => {
    const rich = fed(
      ['@key', '@shareable', '@requiresScopes', '@authenticated', '@cost', '@listSize', '@tag', '@composeDirective'],
      `type Query { items(first: Int = 5): [Item!]! @listSize(slicingArguments: ["first"]) @cost(weight: 2) old: Int @deprecated(reason: "use items") }
type Item @key(fields: "id") { id: ID! secret: String @requiresScopes(scopes: [["s"]]) mine: String @authenticated @tag(name: "t") label: String @upper }
scalar Url @specifiedBy(url: "https://url.spec.whatwg.org")
enum Kind { A B @deprecated }`,
    ).replace('import: [', 'import: [').replace(/\)\n/, ')\n@link(url: "https://graft.dev/upper/v1.0", import: ["@upper"])\n@composeDirective(name: "@upper")\ndirective @upper on FIELD_DEFINITION\n');
    const other = fed(['@key'], 'type Query { ping: Int } type Item @key(fields: "id") { id: ID! n: Int }');
    const report = await check([sg('rich', rich), sg('other', other)], [sg('other', other.replace('ping: Int', 'ping: Int pong: Int'))]);
    assert.deepEqual(report.compositionErrors, []);
    assert.deepEqual(report.changes.map((c) => `${c.level} ${c.type} ${c.path}`), ['subgraph FIELD_ADDED Query.pong', 'api FIELD_ADDED Query.pong']);
  });

  test('a federation version bump in @link is safe', async () => {
    const report = await check([sg('crm', CRM)], [sg('crm', CRM.replace('v2.9', 'v2.7'))]);
    assert.equal(report.verdict, 'safe');
    assert.equal(report.changes[0]?.path, 'schema.@link.url');
  });
});

// ------------------------------------------------------------------ operations

describe('operation impact', () => {
  const base = [sg('crm', CRM), sg('orders', ORDERS)];
  const OPS = [
    { file: 'ops/customers.graphql', source: 'query CustomerEmails { customers { id email } }\nquery CustomerNames { customers { ...Named } }' },
    { file: 'ops/fragments.graphql', source: 'fragment Named on Customer { name }' },
    { file: 'ops/broken.graphql', source: 'query AlreadyBroken { customers { id nope } }' },
    { file: 'ops/anonymous.graphql', source: '{ top { orders } }' },
  ];

  test('an operation using a removed field is named, with its file, line and errors', async () => {
    const report = await check(base, [sg('crm', CRM.replace('email: String! ', ''))], [], OPS);
    assert.equal(report.verdict, 'breaking');
    assert.deepEqual(report.affectedOperations, [
      { name: 'CustomerEmails', file: 'ops/customers.graphql', line: 1, errors: ['Cannot query field "email" on type "Customer".'] },
    ]);
    assert.equal(report.operationsChecked, 4);
  });

  test('an operation that already fails on the base is reported apart and not blamed on the change', async () => {
    const report = await check(base, [sg('crm', `${CRM}type Invoice { id: ID! }`)], [], OPS);
    assert.equal(report.verdict, 'safe');
    assert.deepEqual(report.affectedOperations, []);
    assert.deepEqual(report.operationsFailingOnBase.map((o) => o.name), ['AlreadyBroken']);
  });

  test('fragments are shared across files: a change under a fragment names the operation that spreads it', async () => {
    // Removing name from both subgraphs removes it from the API.
    const report = await check(base, [sg('crm', CRM.replace(' name: String @shareable', '')), sg('orders', ORDERS.replace(' name: String @shareable', ''))], [], OPS);
    assert.deepEqual(report.affectedOperations.map((o) => o.name), ['CustomerNames']);
  });

  test('anonymous operations are named by kind and position', () => {
    const parsed = parseOperations([{ file: 'a.graphql', source: '{ a }\nmutation { b }\nquery { c }' }]);
    assert.deepEqual(parsed.map((o) => [o.name, o.line]), [['<anonymous query #1>', 1], ['<anonymous mutation #2>', 2], ['<anonymous query #3>', 3]]);
  });

  test('an operation file that does not parse is bad input (BAD_REQUEST with the position)', () => {
    assert.throws(() => parseOperations([{ file: 'bad.graphql', source: 'query { a ' }]), (error: unknown) => error instanceof GraftError && error.code === 'BAD_REQUEST' && /bad\.graphql:1:11/.test(error.message));
  });

  test('a broken operation makes the verdict at least breaking, whatever the diff says', () => {
    const operation = { name: 'X', file: 'x.graphql', line: 1, errors: ['e'] };
    const change = { level: 'api' as const, type: 'FIELD_ADDED', criticality: 'safe' as const, path: 'Query.a', message: 'm' };
    assert.equal(verdictOf({ compositionErrors: [], changes: [change], affectedOperations: [operation] }), 'breaking');
    assert.equal(verdictOf({ compositionErrors: [], changes: [{ ...change, criticality: 'dangerous' }], affectedOperations: [] }), 'dangerous');
    assert.equal(verdictOf({ compositionErrors: [{ code: 'C', message: 'm', subgraphs: [], coordinates: [] }], changes: [], affectedOperations: [operation] }), 'composition-error');
  });
});

// ------------------------------------------------------------------ pipeline helpers and formats

describe('pipeline helpers', () => {
  test('applySubgraphChanges replaces, adds and removes by name; removing an unknown subgraph is BAD_REQUEST', () => {
    const base = [sg('a', 'A'), sg('b', 'B')];
    assert.deepEqual(applySubgraphChanges(base, { replace: [sg('b', 'B2'), sg('c', 'C')], remove: ['a'] }).map((s) => [s.name, s.sdl]), [['b', 'B2'], ['c', 'C']]);
    assert.throws(() => applySubgraphChanges(base, { remove: ['z'] }), /no such subgraph/);
  });

  test('changedSubgraphNames finds additions, removals and edits', () => {
    assert.deepEqual(changedSubgraphNames([sg('a', 'A'), sg('b', 'B'), sg('c', 'C')], [sg('a', 'A'), sg('b', 'B2'), sg('d', 'D')]), ['b', 'c', 'd']);
  });

  test('an SDL that does not parse is SDL_INVALID naming the subgraph, not a check result', async () => {
    await assert.rejects(check([sg('crm', CRM)], [sg('crm', 'type Query {')]), (error: unknown) => error instanceof GraftError && error.code === 'SDL_INVALID' && error.extension === 'crm');
  });
});

describe('report formats', () => {
  const removeEmail = () => check([sg('crm', CRM), sg('orders', ORDERS)], [sg('crm', CRM.replace('email: String! ', ''))], [], [{ file: 'ops/a.graphql', source: 'query A { customers { email } }' }]);

  test('markdown: marker, verdict summary, a table per level, affected operations', async () => {
    const md = formatMarkdown(await removeEmail());
    assert.ok(md.startsWith(`${MARKDOWN_MARKER}\n## ❌ Graft schema check: \`breaking\``));
    assert.match(md, /changed: crm · API changes: 1 breaking, 0 dangerous, 0 safe · 1 of 1 operations broken/);
    assert.match(md, /\*\*Subgraph `crm`\*\* \(1 breaking, 0 dangerous, 0 safe\)/);
    assert.match(md, /\*\*API schema\*\*/);
    assert.match(md, /\| 🔴 breaking \| `FIELD_REMOVED` \| `Customer.email` \| Field 'email' was removed from object type 'Customer'/);
    assert.match(md, /### Operations broken by this change\n\n\| Operation \| File \| Errors \|\n\| --- \| --- \| --- \|\n\| `A` \| `ops\/a.graphql:1` \| Cannot query field "email" on type "Customer". \|/);
  });

  test('markdown: composition errors table; cells cannot break the table or hide as HTML', async () => {
    const report = await check([sg('crm', CRM), sg('orders', ORDERS)], [sg('crm', CRM.replace('name: String @shareable', 'name: String'))]);
    const md = formatMarkdown({ ...report, notes: ['a | b <c>'] });
    assert.match(md, /### Composition errors\n\n\| Code \| Subgraphs \| Coordinates \| Message \|/);
    assert.match(md, /\| `INVALID_FIELD_SHARING` \| crm, orders \| `Customer.name` \|/);
    assert.match(md, /a \\\| b &lt;c&gt;/);
  });

  test('github: ::error on the changed line of the subgraph file, ::warning for dangerous, escaped properties', async () => {
    const report = await check([sg('crm', CRM), sg('orders', ORDERS)], [sg('crm', CRM.replace('email: String! ', '').replace('name: String @shareable', 'name: String @shareable @deprecated(reason: "x")'))]);
    const sdl = CRM.replace('email: String! ', '');
    const out = formatGithub(report, new Map([['crm', { file: 'schema/subgraphs/crm.graphql', sdl }]]));
    // The removed field points at its type's line (line 2 of the SDL).
    assert.match(out, /^::error file=schema\/subgraphs\/crm\.graphql,line=2,title=breaking change \(subgraph crm\)%3A FIELD_REMOVED Customer\.email::Field 'email' was removed/m);
    assert.equal(out.match(/FIELD_REMOVED/g)?.length, 1, 'the same change at both levels is annotated once');
    assert.match(out, /^::error title=Graft schema check%3A breaking::/m);
  });

  test('github: composition errors are placed on the subgraph file by their coordinates', async () => {
    const changed = CRM.replace('name: String @shareable', 'name: String');
    const report = await check([sg('crm', CRM), sg('orders', ORDERS)], [sg('crm', changed)]);
    const out = formatGithub(report, new Map([['crm', { file: 'crm.graphql', sdl: changed }]]));
    assert.match(out, /^::error file=crm\.graphql,line=2,title=Composition error INVALID_FIELD_SHARING::Non-shareable field "Customer\.name"/m);
    assert.match(out, /^::warning file=crm\.graphql,line=2,title=dangerous change/m);
  });

  test('text: verdict first, each level, broken operations', async () => {
    const text = formatText(await removeEmail());
    assert.match(text, /^Schema check: BREAKING\n/);
    assert.match(text, /Changes to the subgraph crm:\n {2}✖ breaking {2}Customer\.email/);
    assert.match(text, /Operations broken by this change:\n {2}A {2}ops\/a\.graphql:1\n {6}Cannot query field "email"/);
  });
});
