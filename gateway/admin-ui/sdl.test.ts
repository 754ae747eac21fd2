// The catalog page's SDL outline (sdl.js runs in the browser) against graphql-js's parser.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Kind, parse, print, type DefinitionNode } from 'graphql';
import { contributedFields, outlineSdl } from './sdl.js';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Type name -> field names, enum values or union members, as graphql-js reads them. */
function reference(sdl: string): Array<{ name: string; kind: string; members: string[] }> {
  const kinds: Partial<Record<Kind, string>> = {
    [Kind.OBJECT_TYPE_DEFINITION]: 'type',
    [Kind.OBJECT_TYPE_EXTENSION]: 'type',
    [Kind.INTERFACE_TYPE_DEFINITION]: 'interface',
    [Kind.INTERFACE_TYPE_EXTENSION]: 'interface',
    [Kind.INPUT_OBJECT_TYPE_DEFINITION]: 'input',
    [Kind.INPUT_OBJECT_TYPE_EXTENSION]: 'input',
    [Kind.ENUM_TYPE_DEFINITION]: 'enum',
    [Kind.ENUM_TYPE_EXTENSION]: 'enum',
    [Kind.UNION_TYPE_DEFINITION]: 'union',
    [Kind.UNION_TYPE_EXTENSION]: 'union',
    [Kind.SCALAR_TYPE_DEFINITION]: 'scalar',
    [Kind.SCALAR_TYPE_EXTENSION]: 'scalar',
  };
  return parse(sdl).definitions.flatMap((definition: DefinitionNode) => {
    const kind = kinds[definition.kind];
    if (!kind || !('name' in definition) || !definition.name) return [];
    const node = definition as { fields?: Array<{ name: { value: string } }>; values?: Array<{ name: { value: string } }>; types?: Array<{ name: { value: string } }> };
    const members = (node.fields ?? node.values ?? node.types ?? []).map((m) => m.name.value);
    return [{ name: definition.name.value, kind, members }];
  });
}

function outlined(sdl: string) {
  return outlineSdl(sdl).map((type) => ({
    name: type.name,
    kind: type.kind,
    members: type.fields.length ? type.fields.map((f) => f.name) : type.values.length ? type.values.map((v) => v.name) : type.members,
  }));
}

const TRICKY = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
directive @mask(keep: Int = 4, chars: [String!] = ["*"]) repeatable on FIELD_DEFINITION | FIELD
# a comment with { braces } and "quotes"
"""
A description with { braces }, ( parens ) and a \\""" escaped quote.
"""
type Widget implements Node & Named @key(fields: "id sku { code }") {
  id: ID!
  "one-line { description }"
  name(locale: String = "en", fallback: [String!] = ["en", "de"]): String! @mask(keep: 2)
  matrix: [[Int!]]!
}
interface Node { id: ID! }
interface Named { name: String! }
extend type Query { widgets(filter: WidgetFilter = { size: 3, tags: ["a"] }): [Widget!]! }
input WidgetFilter @oneOf { size: Int = 3 tags: [String!] = ["x"] }
enum Size { S @deprecated(reason: "use M") M, L }
union Thing = | Widget | Gadget
scalar JSON @specifiedBy(url: "https://example.com/json")
type Gadget { id: ID! }
`;

describe('catalog page: SDL outline', () => {
  for (const name of ['crm', 'orders', 'inventory']) {
    it(`reads the ${name} example like graphql-js does`, async () => {
      const sdl = await readFile(join(ROOT, 'subgraphs', name, `${name}.graphql`), 'utf8');
      assert.deepEqual(outlined(sdl), reference(sdl));
    });
  }

  it('reads descriptions, comments, nested types, defaults, extensions and every kind of type', () => {
    assert.deepEqual(outlined(TRICKY), reference(TRICKY));
    const types = outlineSdl(TRICKY);
    const widget = types.find((t) => t.name === 'Widget')!;
    assert.equal(widget.description, 'A description with { braces }, ( parens ) and a """ escaped quote.');
    assert.deepEqual(widget.interfaces, ['Node', 'Named']);
    assert.deepEqual(widget.directives, ['@key(fields: "id sku { code }")']);
    const field = widget.fields.find((f) => f.name === 'name')!;
    assert.equal(field.args, '(locale: String = "en", fallback: [String!] = ["en", "de"])');
    assert.equal(field.type, 'String!');
    assert.equal(field.description, 'one-line { description }');
    assert.deepEqual(field.directives, ['@mask(keep: 2)']);
    assert.equal(widget.fields.find((f) => f.name === 'matrix')!.type, '[[Int!]]!');
    const query = types.find((t) => t.name === 'Query')!;
    assert.equal(query.extend, true);
    assert.equal(query.fields[0]!.args, '(filter: WidgetFilter = { size: 3, tags: ["a"] })');
    const filter = types.find((t) => t.name === 'WidgetFilter')!;
    assert.deepEqual(filter.fields.map((f) => [f.name, f.type, f.defaultValue]), [['size', 'Int', '3'], ['tags', '[String!]', '["x"]']]);
    assert.deepEqual(types.find((t) => t.name === 'Size')!.values[0]!.directives, ['@deprecated(reason: "use M")']);
  });

  it('prints each field type exactly as graphql-js prints it', async () => {
    const sdl = await readFile(join(ROOT, 'subgraphs', 'orders', 'orders.graphql'), 'utf8');
    const document = parse(sdl);
    const expected = new Map<string, string>();
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
      for (const f of definition.fields ?? []) expected.set(`${definition.name.value}.${f.name.value}`, print(f.type));
    }
    const rows = contributedFields(outlineSdl(sdl));
    assert.deepEqual(new Map(rows.map((r) => [r.coordinate, r.field.type])), expected);
    assert.ok(rows.some((r) => r.coordinate === 'Customer.orders'));
  });

  it('never stalls on text that is not GraphQL', () => {
    for (const junk of ['type { ] ) % "unterminated\n type A { b: [C }', '}}}{{{ type', '"""never closed', 'type A implements']) {
      assert.ok(Array.isArray(outlineSdl(junk)), junk);
    }
  });
});
