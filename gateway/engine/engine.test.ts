// GraftGateway's snapshot life cycle: prepare builds without serving, activate serves from
// the next request on, discard drops a snapshot that was never served, listeners hear
// each activation. Real ApolloGateway instances over composed supergraphs (nothing fetched).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildSchema } from 'graphql';
import { Agent } from 'undici';
import { composeOrThrow, supergraphHash } from '../composition/index.js';
import { DEFAULT_RESILIENCE, ExtensionRuntimeTable, UpstreamTokenIssuer } from '../upstream/index.js';
import { GraftGateway } from './index.js';

const sdl = (field: string) =>
  composeOrThrow([{ name: 'one', url: 'http://127.0.0.1:1/graphql', sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"]) type Query { ${field}: String }` }]).supergraphSdl;

describe('GraftGateway snapshots', () => {
  let gateway: GraftGateway;
  let agent: Agent;
  const silent = { debug() {}, info() {}, warn() {}, error() {} };

  before(async () => {
    agent = new Agent();
    gateway = new GraftGateway({
      runtime: new ExtensionRuntimeTable(),
      agent,
      upstream: { defaultTimeoutMs: 1000, tokens: await UpstreamTokenIssuer.create({ issuer: 'graft-test' }) },
      resilience: DEFAULT_RESILIENCE,
      logger: silent,
    });
  });
  after(async () => {
    await gateway.stop();
    await agent.close();
  });

  test('load() before any activation refuses: there is nothing to serve', async () => {
    await assert.rejects(gateway.load(), /before any supergraph was activated/);
  });

  test('prepare() builds a snapshot without serving it; activate() serves it and tells the listeners', async () => {
    const first = sdl('a');
    const prepared = await gateway.prepare({ hash: supergraphHash(first), sdl: first });
    assert.equal(gateway.current === undefined, true, 'nothing is served yet');
    assert.ok(prepared.apiSchema.getQueryType()?.getFields()['a']);

    const heard: string[] = [];
    const unsubscribe = gateway.onSchemaLoadOrUpdate(({ apiSchema }) => heard.push(Object.keys(apiSchema.getQueryType()!.getFields()).join()));
    gateway.activate(prepared, 1);
    assert.equal(gateway.current?.id, 1);
    assert.equal(gateway.current?.hash, supergraphHash(first));
    assert.deepEqual(heard, ['a']);
    unsubscribe();
    const { executor } = await gateway.load();
    assert.equal(typeof executor, 'function');
  });

  test('a discarded snapshot never becomes current; the next activation replaces the current one', async () => {
    const second = sdl('b');
    const discarded = await gateway.prepare({ hash: supergraphHash(second), sdl: second });
    await gateway.discard(discarded);
    assert.equal(gateway.current?.id, 1);

    const third = sdl('c');
    const next = await gateway.prepare({ hash: supergraphHash(third), sdl: third });
    gateway.activate(next, 3);
    assert.equal(gateway.current?.id, 3);
    assert.ok(gateway.current?.apiSchema.getQueryType()?.getFields()['c']);
    assert.equal(gateway.requestsInFlightAtSwaps, 0, 'no request ran during these swaps');
  });

  test('activate() only takes a snapshot prepare() returned', () => {
    assert.throws(() => gateway.activate({ ...gateway.current!, apiSchema: buildSchema('type Query { d: String }') }, 4), /returned by prepare/);
  });
});
