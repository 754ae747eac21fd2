// The store contract of usage (RegistryStore.recordUsage / queryUsage / compactUsage): counts
// of several processes add up, a query sums a window per operation and client and finds
// operations by the coordinates they touch, compaction rolls minutes into hours without
// losing a count and deletes what is older than the retention. Run against every store
// (sqlite-store.test.ts, postgres-store.test.ts) through how to open a fresh, empty one.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import type { RegistryStore, UsageOperation } from './types.js';

function operation(name: string, coordinates: string[]): UsageOperation {
  const signature = `query ${name}{${coordinates.join(' ')}}`;
  return { hash: createHash('sha256').update(signature).digest('hex'), name, signature, coordinates };
}

const customers = operation('Customers', ['Customer', 'Customer.name', 'Query', 'Query.customers']);
const orders = operation('Orders', ['Order', 'Order.total', 'Query', 'Query.orders']);

export function usageContract(storeName: string, open: () => Promise<RegistryStore>): void {
  describe(`usage contract: ${storeName}`, () => {
    test('counts from several processes for the same minute, operation and client add up', async () => {
      const first = await open();
      await first.recordUsage({
        operations: [customers, orders],
        counts: [
          { minute: '2026-12-08T01:00:00.000Z', operation: customers.hash, clientName: 'crm-portal', clientVersion: '3.2.0', count: 5 },
          { minute: '2026-12-08T01:01:00.000Z', operation: orders.hash, clientName: 'unknown', clientVersion: 'unknown', count: 1 },
        ],
      });
      // Another process: knows the operation again, adds to the same minute.
      await first.recordUsage({
        operations: [customers],
        counts: [
          { minute: '2026-12-08T01:00:00.000Z', operation: customers.hash, clientName: 'crm-portal', clientVersion: '3.2.0', count: 7 },
          { minute: '2026-12-08T01:02:00.000Z', operation: customers.hash, clientName: 'mobile', clientVersion: '1.0.0', count: 2 },
        ],
      });
      const changeId = await first.lastChangeId();
      const usage = await first.queryUsage({ since: '2026-12-08T00:00:00.000Z' });
      assert.deepEqual(
        usage.map((u) => [u.name, u.count, u.lastSeen, u.clients]),
        [
          ['Customers', 14, '2026-12-08T01:02:00.000Z', [{ name: 'crm-portal', version: '3.2.0', count: 12 }, { name: 'mobile', version: '1.0.0', count: 2 }]],
          ['Orders', 1, '2026-12-08T01:01:00.000Z', [{ name: 'unknown', version: 'unknown', count: 1 }]],
        ],
      );
      assert.deepEqual(usage[0]?.coordinates, customers.coordinates);
      assert.equal(usage[0]?.signature, customers.signature);
      assert.equal(await first.lastChangeId(), changeId, 'usage is not a registry change');
    });

    test('a query keeps to its window, the operations touching the coordinates asked for, and the clients not excluded', async () => {
      const store = await open();
      await store.recordUsage({
        operations: [customers, orders],
        counts: [
          { minute: '2026-12-01T00:00:00.000Z', operation: customers.hash, clientName: 'crm-portal', clientVersion: '3.2.0', count: 100 },
          { minute: '2026-12-08T01:00:00.000Z', operation: customers.hash, clientName: 'crm-portal', clientVersion: '3.2.0', count: 3 },
          { minute: '2026-12-08T01:00:00.000Z', operation: customers.hash, clientName: 'load-test', clientVersion: '0', count: 50 },
          { minute: '2026-12-08T01:00:00.000Z', operation: orders.hash, clientName: 'crm-portal', clientVersion: '3.2.0', count: 4 },
        ],
      });
      const since = '2026-12-07T00:00:00.000Z';
      assert.deepEqual((await store.queryUsage({ since })).map((u) => [u.name, u.count]), [['Customers', 53], ['Orders', 4]]);
      assert.deepEqual((await store.queryUsage({ since, coordinates: ['Customer.name'] })).map((u) => [u.name, u.count]), [['Customers', 53]]);
      assert.deepEqual((await store.queryUsage({ since, coordinates: ['Customer.email'] })), []);
      assert.deepEqual((await store.queryUsage({ since, coordinates: ['Query'], excludeClients: ['load-test'] })).map((u) => [u.name, u.count]), [['Orders', 4], ['Customers', 3]]);
      assert.deepEqual((await store.queryUsage({ since: '2026-11-01T00:00:00.000Z', coordinates: ['Customer.name'] })).map((u) => u.count), [153]);
    });

    test('compaction rolls old minutes into hours without losing a count, and deletes what is past the retention', async () => {
      const store = await open();
      await store.recordUsage({
        operations: [customers, orders],
        counts: [
          { minute: '2026-11-01T10:05:00.000Z', operation: orders.hash, clientName: 'a', clientVersion: '1', count: 9 },
          { minute: '2026-12-07T10:05:00.000Z', operation: customers.hash, clientName: 'a', clientVersion: '1', count: 2 },
          { minute: '2026-12-07T10:59:00.000Z', operation: customers.hash, clientName: 'a', clientVersion: '1', count: 3 },
          { minute: '2026-12-08T01:00:00.000Z', operation: customers.hash, clientName: 'a', clientVersion: '1', count: 1 },
        ],
      });
      const compacted = await store.compactUsage({ rollUpBefore: '2026-12-08T00:00:00.000Z', deleteBefore: '2026-11-08T00:00:00.000Z' });
      assert.deepEqual(compacted, { rolledUp: 3, deleted: 1 });
      const usage = await store.queryUsage({ since: '2026-10-01T00:00:00.000Z' });
      assert.deepEqual(usage.map((u) => [u.name, u.count, u.lastSeen]), [['Customers', 6, '2026-12-08T01:00:00.000Z']], 'the Orders operation went with its last count');
      // A window starting inside a rolled-up hour counts that hour.
      assert.deepEqual((await store.queryUsage({ since: '2026-12-07T10:30:00.000Z' })).map((u) => u.count), [6]);
      // Rolling up again changes nothing; new minutes of a rolled-up hour add to it.
      await store.recordUsage({ operations: [], counts: [{ minute: '2026-12-07T10:07:00.000Z', operation: customers.hash, clientName: 'a', clientVersion: '1', count: 4 }] });
      await store.compactUsage({ rollUpBefore: '2026-12-08T00:00:00.000Z', deleteBefore: '2026-11-08T00:00:00.000Z' });
      assert.deepEqual((await store.queryUsage({ since: '2026-12-07T00:00:00.000Z' })).map((u) => [u.count, u.lastSeen]), [[10, '2026-12-08T01:00:00.000Z']]);
      assert.deepEqual((await store.queryUsage({ since: '2026-12-07T00:00:00.000Z', coordinates: ['Order.total'] })), []);
    });

    test('a count that is not a positive integer is refused and nothing of its batch is stored', async () => {
      const store = await open();
      await assert.rejects(
        store.recordUsage({ operations: [customers], counts: [{ minute: '2026-12-08T01:00:00.000Z', operation: customers.hash, clientName: 'a', clientVersion: '1', count: 0 }] }),
        /positive integer/,
      );
      assert.deepEqual(await store.queryUsage({ since: '2026-01-01T00:00:00.000Z' }), []);
    });
  });
}
