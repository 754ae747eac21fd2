// Usage recording on a real SQLite registry: one signature per normalised operation (Apollo's
// usage-reporting signature), coordinates from the GraphQL core, client headers bounded and
// never failing a request, per-minute counts summed by the store, counts kept across a
// registry that does not answer.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { buildSchema, parse } from 'graphql';
import pino from 'pino';
import { openSqliteRegistry, type RegistryStore } from '../registry/index.js';
import { operationUsageOf, UsageRecorder } from './index.js';

const schema = buildSchema('type Query { customers(first: Int): [Customer!]! } type Customer { id: ID! name: String email: String }');
const logger = pino({ level: 'silent' });

describe('usage recording', () => {
  let dir: string;
  let store: RegistryStore;
  let clock = Date.parse('2026-12-08T01:00:30.000Z');
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'graft-usage-'));
    store = openSqliteRegistry({ file: join(dir, 'registry.sqlite') });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('operations that differ only in aliases, literals and layout share one signature', () => {
    const a = operationUsageOf(schema, parse('query List { customers(first: 5) { id n: name } }'), 'List');
    const b = operationUsageOf(schema, parse('query List {\n  customers(first: 50) { name id }\n}'), 'List');
    assert.ok(a && b);
    assert.equal(a.hash, b.hash);
    assert.equal(a.signature, 'query List{customers(first:0){id name}}');
    assert.deepEqual(a.coordinates, ['Customer', 'Customer.id', 'Customer.name', 'ID', 'Int', 'Query', 'Query.customers', 'Query.customers.first', 'String']);
    assert.equal(operationUsageOf(schema, parse('query A { customers { id } }'), 'Missing'), undefined);
  });

  test('per-minute counts per client are written in one batch and summed across recorders (processes)', async () => {
    const document = parse('query List { customers { id name } }');
    const recorders = [new UsageRecorder({ store, logger, now: () => clock }), new UsageRecorder({ store, logger, now: () => clock })];
    const [first, second] = recorders as [UsageRecorder, UsageRecorder];
    for (let i = 0; i < 3; i++) first.record({ schema, document, operationName: 'List', clientName: 'crm-portal', clientVersion: '3.2.0' });
    second.record({ schema, document, operationName: 'List', clientName: 'crm-portal', clientVersion: '3.2.0' });
    second.record({ schema, document, operationName: 'List', clientName: undefined, clientVersion: undefined });
    clock += 60_000;
    first.record({ schema, document, operationName: 'List', clientName: ['mobile', 'x'], clientVersion: '1.0.0' });
    await Promise.all(recorders.map((r) => r.flush()));
    const [usage] = await store.queryUsage({ since: '2026-12-08T00:00:00.000Z' });
    assert.equal(usage?.count, 6);
    assert.equal(usage?.lastSeen, '2026-12-08T01:01:00.000Z');
    assert.deepEqual(usage?.clients, [
      { name: 'crm-portal', version: '3.2.0', count: 4 },
      { name: 'mobile', version: '1.0.0', count: 1 },
      { name: 'unknown', version: 'unknown', count: 1 },
    ]);
    // Nothing pending: a second flush writes nothing more.
    await first.flush();
    assert.equal((await store.queryUsage({ since: '2026-12-08T00:00:00.000Z' }))[0]?.count, 6);
  });

  test('client headers are untrusted: too long, odd or too many distinct values count as other', async () => {
    const document = parse('{ customers { id } }');
    const recorder = new UsageRecorder({ store, logger, now: () => clock, maxClients: 2, maxClientVersions: 2 });
    const record = (clientName: string | undefined, clientVersion: string | undefined) => recorder.record({ schema, document, operationName: null, clientName, clientVersion });
    record('a'.repeat(65), '1');
    record('<script>', '1');
    record('web', '1.0.0');
    record('ios', '2.0.0');
    record('android', '3.0.0');
    record('web', '9'.repeat(40));
    record('web', '1.0.1');
    await recorder.flush();
    const [usage] = await store.queryUsage({ since: '2026-12-08T00:00:00.000Z' });
    assert.deepEqual(
      usage?.clients.map((c) => `${c.name}@${c.version}=${c.count}`).sort(),
      ['ios@2.0.0=1', 'other@other=3', 'web@1.0.0=1', 'web@other=2'],
    );
  });

  test('counts survive a registry that does not answer, and are written by the next flush', async () => {
    const document = parse('{ customers { id } }');
    let failing = true;
    const flaky = {
      recordUsage: (batch: Parameters<RegistryStore['recordUsage']>[0]) => (failing ? Promise.reject(new Error('registry down')) : store.recordUsage(batch)),
      compactUsage: store.compactUsage.bind(store),
    };
    const recorder = new UsageRecorder({ store: flaky, logger, now: () => clock });
    recorder.record({ schema, document, operationName: null, clientName: 'web', clientVersion: '1' });
    await recorder.flush();
    recorder.record({ schema, document, operationName: null, clientName: 'web', clientVersion: '1' });
    failing = false;
    await recorder.close();
    assert.equal((await store.queryUsage({ since: '2026-12-08T00:00:00.000Z' }))[0]?.count, 2);
  });
});
