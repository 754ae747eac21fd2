// The versioning rules' pure parts: bump levels (with the 0.y.z shift), suggested versions,
// @deprecated detection and the deprecation period of removals.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SchemaChange } from '../checks/index.js';
import { bumpOf, deprecatedElements, judgeRemovals, newlyDeprecated, requiredBumpOf, satisfiesBump, suggestVersion } from './versioning.js';

describe('semver rule', () => {
  test('bump levels from 1.0.0 up follow semver', () => {
    assert.equal(bumpOf('1.2.3', '2.0.0'), 'major');
    assert.equal(bumpOf('1.2.3', '1.3.0'), 'minor');
    assert.equal(bumpOf('1.2.3', '1.2.4'), 'patch');
    assert.equal(bumpOf('1.9.0', '1.10.0'), 'minor');
  });

  test('in 0.y.z a y bump is the major one and a z bump the minor one', () => {
    assert.equal(bumpOf('0.2.3', '0.3.0'), 'major');
    assert.equal(bumpOf('0.2.3', '0.2.4'), 'minor');
    assert.equal(bumpOf('0.2.3', '1.0.0'), 'major');
    assert.equal(suggestVersion('0.2.3', 'major'), '0.3.0');
    assert.equal(suggestVersion('0.2.3', 'minor'), '0.2.4');
  });

  test('each verdict needs its bump', () => {
    assert.equal(requiredBumpOf('breaking'), 'major');
    assert.equal(requiredBumpOf('dangerous'), 'minor');
    assert.equal(requiredBumpOf('safe'), 'patch');
    assert.ok(satisfiesBump('major', 'minor'));
    assert.ok(!satisfiesBump('minor', 'major'));
    assert.equal(suggestVersion('1.4.2', 'major'), '2.0.0');
    assert.equal(suggestVersion('1.4.2', 'minor'), '1.5.0');
  });
});

describe('deprecations', () => {
  const sdl = `
    type Person @key(fields: "id") { id: ID! age: Int @deprecated(reason: "Use birthday.") nick: String @deprecated }
    extend type Query { old: Int @deprecated(reason: "gone") }
    input Filter { legacy: Boolean @deprecated }
    enum Mood { HAPPY SAD @deprecated(reason: "Say UNHAPPY.") UNHAPPY }`;

  test('finds deprecated fields, input fields and enum values with their reasons', () => {
    assert.deepEqual(
      [...deprecatedElements(sdl).values()],
      [
        { coordinate: 'Person.age', reason: 'Use birthday.' },
        { coordinate: 'Person.nick', reason: null },
        { coordinate: 'Query.old', reason: 'gone' },
        { coordinate: 'Filter.legacy', reason: null },
        { coordinate: 'Mood.SAD', reason: 'Say UNHAPPY.' },
      ],
    );
    assert.deepEqual(newlyDeprecated('type Person { id: ID! age: Int @deprecated(reason: "Use birthday.") }', 'type Person { id: ID! age: Int @deprecated(reason: "x") nick: String @deprecated }'), [
      { coordinate: 'Person.nick', reason: null },
    ]);
  });

  const removed = (path: string, type = 'FIELD_REMOVED'): SchemaChange => ({ level: 'api', type, criticality: 'breaking', path, message: `${path} removed` });
  const version = (v: string, publishedAt: string, body: string) => ({ version: v, publishedAt, sdl: `type Person { id: ID! ${body} }` });

  test('a removal needs an unbroken deprecation up to the latest version, published at least the period ago', () => {
    const versions = [
      version('1.2.0', '2025-03-10T00:00:00.000Z', 'age: Int @deprecated'),
      version('1.1.0', '2025-03-01T00:00:00.000Z', 'age: Int @deprecated'),
      version('1.0.0', '2025-02-01T00:00:00.000Z', 'age: Int'),
    ];
    const [early] = judgeRemovals([removed('Person.age')], versions, 14, new Date('2025-03-14T00:00:00.000Z'));
    assert.equal(early?.allowed, false);
    assert.equal(early?.deprecatedInVersion, '1.1.0');
    assert.equal(early?.earliestRemoval, '2025-03-15T00:00:00.000Z');
    const [onTime] = judgeRemovals([removed('Person.age')], versions, 14, new Date('2025-03-15T00:00:00.000Z'));
    assert.equal(onTime?.allowed, true);
    const [zero] = judgeRemovals([removed('Person.age')], versions.slice(0, 1), 0, new Date('2025-03-10T00:00:00.000Z'));
    assert.equal(zero?.allowed, true, 'a 0-day period needs only the deprecation in an earlier version');
  });

  test('a withdrawn deprecation does not count, and subgraph-level or safe changes are not removals', () => {
    const versions = [version('1.2.0', '2025-03-10T00:00:00.000Z', 'age: Int'), version('1.1.0', '2025-01-01T00:00:00.000Z', 'age: Int @deprecated')];
    const [withdrawn] = judgeRemovals([removed('Person.age')], versions, 0, new Date());
    assert.equal(withdrawn?.allowed, false);
    assert.equal(withdrawn?.neverDeprecated, false);
    assert.deepEqual(judgeRemovals([{ ...removed('Person.age'), level: 'subgraph' }, removed('Person', 'TYPE_REMOVED')], versions, 0, new Date()), []);
  });
});
