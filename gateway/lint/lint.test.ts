// The schema lint policy: each rule finds what it names, at its schema coordinate, only when
// it is on; federation directives count under any name @link gives them; an invalid policy
// is refused with a message naming the rule.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lintSubgraph, validateLintConfig, type LintConfig } from './index.js';

const paths = (sdl: string, config: LintConfig) => lintSubgraph(sdl, config).map((f) => `${f.rule} ${f.severity} ${f.path}`);

const FED = (imports: string) => `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: [${imports}])\n`;

describe('lint rules', () => {
  test('naming-convention: PascalCase types, camelCase fields and arguments, SCREAMING_SNAKE_CASE enum values', () => {
    const sdl = `type order_line { id: ID! Total: Int }\ntype Query { lines(Max_Count: Int): [order_line] }\nenum Status { OPEN closedNow }`;
    assert.deepEqual(paths(sdl, { rules: { 'naming-convention': 'error' } }), [
      'naming-convention error order_line',
      'naming-convention error order_line.Total',
      'naming-convention error Query.lines(Max_Count:)',
      'naming-convention error Status.closedNow',
    ]);
  });

  test('require-description: every type and field clients see, not root types, @external or @inaccessible ones', () => {
    const sdl = `${FED('"@key", "@external", "@inaccessible"')}
"A customer." type Customer @key(fields: "id") { "Its id." id: ID! name: String secret: String @inaccessible }
type Order @key(fields: "id") { id: ID! @external }
type Query { "All customers." customers(first: Int): [Customer] orders: [Order] }`;
    assert.deepEqual(paths(sdl, { rules: { 'require-description': 'warn' } }), [
      'require-description warn Customer.name',
      'require-description warn Order',
      'require-description warn Query.orders',
    ]);
  });

  test('require-list-size: a list of objects needs @listSize (under any @link name) or a slicing argument; lists of scalars and enums do not', () => {
    const sdl = `${FED('{ name: "@listSize", as: "@size" }')}
type Item { id: ID! }
enum Colour { RED }
type Query {
  all: [Item!]!
  sized: [Item] @size(assumedSize: 10)
  page(first: Int): [Item]
  tags: [String!]!
  colours: [Colour]
}`;
    assert.deepEqual(paths(sdl, { rules: { 'require-list-size': 'error' } }), ['require-list-size error Query.all']);
    assert.deepEqual(paths(sdl, { rules: { 'require-list-size': ['error', { slicingArguments: ['take'] }] } }), ['require-list-size error Query.all', 'require-list-size error Query.page']);
    const namespaced = `${FED('"@key"')}type Item { id: ID! }\ntype Query { all: [Item] @federation__listSize(assumedSize: 10) }`;
    assert.deepEqual(paths(namespaced, { rules: { 'require-list-size': 'error' } }), []);
  });

  test('require-scopes-on-sensitive-fields: matching fields need @requiresScopes on themselves or their type, renamed or not', () => {
    const sdl = `${FED('{ name: "@requiresScopes", as: "@scoped" }')}
type User { email: String phone: String @scoped(scopes: [["pii"]]) resetToken: String homePhone: String }
type Secret @scoped(scopes: [["admin"]]) { apiToken: String }
type Query { me: User }`;
    assert.deepEqual(paths(sdl, { rules: { 'require-scopes-on-sensitive-fields': 'error' } }), [
      'require-scopes-on-sensitive-fields error User.email',
      'require-scopes-on-sensitive-fields error User.resetToken',
    ]);
    assert.deepEqual(paths(sdl, { rules: { 'require-scopes-on-sensitive-fields': ['warn', { patterns: ['*phone'] }] } }), ['require-scopes-on-sensitive-fields warn User.homePhone']);
  });

  test('forbidden-names: types, fields, arguments and enum values matching a pattern, case-insensitively', () => {
    const sdl = `type TempThing { id: ID! foo: Int }\ntype Query { things(tmpFilter: Int): [TempThing] }\nenum Mode { FOO BAR }`;
    assert.deepEqual(paths(sdl, { rules: { 'forbidden-names': ['error', { names: ['temp*', 'foo', 'tmp*'] }] } }), [
      'forbidden-names error TempThing',
      'forbidden-names error TempThing.foo',
      'forbidden-names error Query.things(tmpFilter:)',
      'forbidden-names error Mode.FOO',
    ]);
  });

  test('rules that are off, or not set, find nothing; federation and link names are never judged', () => {
    const sdl = `${FED('"@key"')}type bad_type { Bad: [bad_type] }\ntype Query { _service: String }`;
    assert.deepEqual(paths(sdl, { rules: { 'naming-convention': 'off', 'require-list-size': 'off' } }), []);
    assert.deepEqual(paths(sdl, { rules: {} }), []);
    assert.deepEqual(paths('type Query { _entities: [String] }', { rules: { 'naming-convention': 'error' } }), []);
  });

  test('each finding says what to do and names its rule', () => {
    const [finding] = lintSubgraph('type Query { users: [User] }\ntype User { id: ID }', { rules: { 'require-list-size': 'error' } });
    assert.match(finding!.message, /Add @listSize\(assumedSize: N\) or an argument that bounds it\. \[require-list-size\]$/);
  });
});

describe('lint config', () => {
  test('a valid policy is returned as given; none is every rule off', () => {
    const config = { rules: { 'naming-convention': 'error', 'forbidden-names': ['warn', { names: ['tmp*'] }] } };
    assert.deepEqual(validateLintConfig(config), config);
    assert.deepEqual(validateLintConfig(undefined), { rules: {} });
  });

  test('an unknown rule, severity or option, or a malformed setting is refused naming it', () => {
    const refused: Array<[unknown, RegExp]> = [
      [{ rules: { 'no-typos': 'error' } }, /unknown rule "no-typos": the rules are naming-convention, require-description/],
      [{ rules: { 'naming-convention': 'fatal' } }, /"naming-convention"\] has severity "fatal": use "off", "warn" or "error"/],
      [{ rules: { 'require-list-size': ['error', { sizes: ['first'] }] } }, /unknown option "sizes": it takes slicingArguments/],
      [{ rules: { 'forbidden-names': ['error', { names: [] }] } }, /names must be a non-empty list/],
      [{ rules: { 'forbidden-names': 'error' } }, /needs its names/],
      [{ rule: {} }, /unknown setting "rule"/],
      ['strict', /lint must be an object/],
    ];
    for (const [config, message] of refused) assert.throws(() => validateLintConfig(config), message, JSON.stringify(config));
  });
});
