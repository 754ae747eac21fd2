// The control plane's part of the RegistryStore contract (extension keys, webhooks), as tests that
// every store runs through a harness that opens it (sqlite-store's test file; the
// PostgreSQL store's too), so keys behave the same whichever database is behind the gateway.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import type { NewExtensionKey, RegistryStore } from './types.js';

export interface ControlStoreHarness {
  /** Before each test: a new empty registry. */
  setUp(): Promise<void>;
  /** After each test: closes what open() opened and removes the registry. */
  tearDown(): Promise<void>;
  /** A store on this test's registry; each call is another connection. */
  open(): Promise<RegistryStore>;
  /** Runs raw SQL over a separate connection, bypassing the store; rejects with the database's error. */
  exec(sql: string): Promise<void>;
}

function newKey(id: string, extension = 'orders', scopes: NewExtensionKey['scopes'] = ['check', 'publish']): NewExtensionKey {
  return { id, prefix: `graft_${id}`, hash: createHash('sha256').update(`secret-${id}`).digest('hex'), extension, scopes, description: `${extension} CI` };
}

async function rejectsWith(promise: Promise<unknown>, code: GraftErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof GraftError && error.code === code);
}

export function controlStoreContract(storeName: string, harness: ControlStoreHarness, options: { skip?: string | undefined } = {}): void {
  describe(`RegistryStore contract, control plane: ${storeName}`, { skip: options.skip ?? false }, () => {
    let store: RegistryStore;
    beforeEach(async () => {
      await harness.setUp();
      store = await harness.open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'admin');
      await store.createExtension({ name: 'billing', owner: 'team-b', description: '' }, 'admin');
    });
    afterEach(() => harness.tearDown());

    test('a created key is listed with its scopes and expiry, and only the key check sees its hash', async () => {
      const input = { ...newKey('0123456789abcdef'), expiresAt: '2030-01-01T00:00:00.000Z' };
      const created = await store.createExtensionKey(input, 'admin');
      assert.equal(created.extension, 'orders');
      assert.deepEqual(created.scopes, ['check', 'publish']);
      assert.equal(created.createdBy, 'admin');
      assert.equal(created.expiresAt, '2030-01-01T00:00:00.000Z');
      assert.equal(created.revokedAt, undefined);
      assert.equal('hash' in created, false);
      const [listed] = await store.listExtensionKeys();
      assert.deepEqual(listed, created);
      assert.equal('hash' in listed!, false);
      assert.equal((await store.findExtensionKey(input.id))?.hash, input.hash);
      assert.equal(await store.findExtensionKey('ffffffffffffffff'), undefined);
    });

    test('keys are listed per extension, and their creation is in the audit log', async () => {
      await store.createExtensionKey(newKey('0000000000000001', 'orders'), 'admin');
      await store.createExtensionKey(newKey('0000000000000002', 'billing', ['check']), 'admin');
      assert.deepEqual((await store.listExtensionKeys({ extension: 'billing' })).map((k) => k.id), ['0000000000000002']);
      assert.equal((await store.listExtensionKeys()).length, 2);
      const [event] = await store.listAuditEvents({ extension: 'billing', limit: 1 });
      assert.equal(event?.action, 'key-create');
      assert.equal(event?.details['key'], '0000000000000002');
      assert.equal(JSON.stringify(event).includes(newKey('0000000000000002').hash), false, 'the hash is not in the audit log');
    });

    test('a key for an unregistered extension is refused with EXTENSION_NOT_FOUND and nothing is stored', async () => {
      await rejectsWith(store.createExtensionKey(newKey('0000000000000003', 'nope'), 'admin'), GraftErrorCode.EXTENSION_NOT_FOUND);
      assert.deepEqual(await store.listExtensionKeys(), []);
    });

    test('revoking records who and when once; revoking again changes nothing; an unknown id is NOT_FOUND', async () => {
      await store.createExtensionKey(newKey('0000000000000004'), 'admin');
      const revoked = await store.revokeExtensionKey('0000000000000004', 'security');
      assert.equal(revoked.revokedBy, 'security');
      assert.ok(revoked.revokedAt);
      const changeId = await store.lastChangeId();
      assert.deepEqual(await store.revokeExtensionKey('0000000000000004', 'someone-else'), revoked);
      assert.equal(await store.lastChangeId(), changeId, 'the second revoke wrote nothing');
      await rejectsWith(store.revokeExtensionKey('ffffffffffffffff', 'admin'), GraftErrorCode.NOT_FOUND);
    });

    test('a revoked key cannot be brought back, nor a key changed, even with raw SQL', async () => {
      await store.createExtensionKey(newKey('0000000000000005'), 'admin');
      await store.revokeExtensionKey('0000000000000005', 'admin');
      await assert.rejects(harness.exec("UPDATE extension_keys SET revoked_at = NULL WHERE id = '0000000000000005'"), /stays revoked/);
      await store.createExtensionKey(newKey('0000000000000006'), 'admin');
      await assert.rejects(harness.exec(`UPDATE extension_keys SET scopes = '["check","publish"]', extension = 'billing' WHERE id = '0000000000000006'`), /cannot be changed/);
      assert.equal((await store.findExtensionKey('0000000000000006'))?.extension, 'orders');
    });

    test('a key use is noted as its last use, without counting as a registry change', async () => {
      await store.createExtensionKey(newKey('0000000000000007'), 'admin');
      const changeId = await store.lastChangeId();
      await store.touchExtensionKey('0000000000000007', '2026-01-02T03:04:05.000Z');
      assert.equal((await store.findExtensionKey('0000000000000007'))?.lastUsedAt, '2026-01-02T03:04:05.000Z');
      assert.equal(await store.lastChangeId(), changeId);
    });

    describe('webhooks', () => {
      const hook = (url: string, events: string[]) => ({ url, events, secret: 'whsec_test', description: '' });
      const event = (type: string, id: string, at = '2026-01-01T00:00:00.000Z') => ({ eventId: id, event: type, body: JSON.stringify({ id, type }), at });

      test('an event is queued once for every endpoint that wants it, and claimed with the endpoint URL and secret', async () => {
        const a = await store.createWebhook(hook('https://a.example/hook', ['release.applied', 'extension.paused']), 'admin');
        await store.createWebhook(hook('https://b.example/hook', ['drift.detected']), 'admin');
        assert.equal(await store.enqueueWebhookEvent(event('release.applied', 'e1')), 1);
        assert.equal(await store.enqueueWebhookEvent(event('breaker.opened', 'e2')), 0);
        const [claimed, ...rest] = await store.claimWebhookDeliveries('2026-01-01T00:00:01.000Z', 10, 60_000);
        assert.deepEqual(rest, []);
        assert.equal(claimed?.webhookId, a.id);
        assert.equal(claimed?.url, 'https://a.example/hook');
        assert.equal(claimed?.secret, 'whsec_test');
        assert.equal(claimed?.status, 'pending');
        assert.equal(claimed?.eventId, 'e1');
        assert.ok(!('secret' in (await store.listWebhooks())[0]!), 'no secret in listings');
      });

      test('a claimed delivery is not claimed again until its lease ends; one not yet due is not claimed', async () => {
        await store.createWebhook(hook('https://a.example/hook', ['release.applied']), 'admin');
        await store.enqueueWebhookEvent(event('release.applied', 'e1'));
        await store.enqueueWebhookEvent(event('release.applied', 'e2', '2026-01-01T01:00:00.000Z'));
        const other = await harness.open();
        assert.equal((await store.claimWebhookDeliveries('2026-01-01T00:00:01.000Z', 10, 60_000)).length, 1);
        assert.deepEqual(await other.claimWebhookDeliveries('2026-01-01T00:00:30.000Z', 10, 60_000), []);
        assert.deepEqual((await other.claimWebhookDeliveries('2026-01-01T00:01:02.000Z', 10, 60_000)).map((d) => d.eventId), ['e1'], 'the lease ran out');
      });

      test('attempts are logged: a retry stays pending until due, success and running out of attempts are final', async () => {
        await store.createWebhook(hook('https://a.example/hook', ['release.applied']), 'admin');
        await store.enqueueWebhookEvent(event('release.applied', 'e1'));
        await store.enqueueWebhookEvent(event('release.applied', 'e2'));
        const [first, second] = await store.claimWebhookDeliveries('2026-01-01T00:00:01.000Z', 10, 60_000);
        await store.recordWebhookAttempt(first!.id, { at: '2026-01-01T00:00:02.000Z', delivered: false, statusCode: 500, error: 'HTTP 500', retryAt: '2026-01-01T00:00:12.000Z' });
        await store.recordWebhookAttempt(second!.id, { at: '2026-01-01T00:00:02.000Z', delivered: true, statusCode: 204 });
        assert.deepEqual(await store.claimWebhookDeliveries('2026-01-01T00:00:05.000Z', 10, 60_000), [], 'not due yet');
        const [retry] = await store.claimWebhookDeliveries('2026-01-01T00:00:12.000Z', 10, 60_000);
        assert.equal(retry?.attempts, 1);
        await store.recordWebhookAttempt(retry!.id, { at: '2026-01-01T00:00:13.000Z', delivered: false, error: 'no answer within 5000 ms' });
        const log = await store.listWebhookDeliveries();
        assert.deepEqual(
          log.map((d) => [d.eventId, d.status, d.attempts, d.lastStatusCode ?? null, d.lastError ?? null]),
          [
            ['e2', 'delivered', 1, 204, null],
            ['e1', 'failed', 2, null, 'no answer within 5000 ms'],
          ],
        );
        assert.equal(log[0]?.deliveredAt, '2026-01-01T00:00:02.000Z');
        assert.deepEqual(await store.claimWebhookDeliveries('2026-01-02T00:00:00.000Z', 10, 60_000), []);
      });

      test('deleting an endpoint drops its queued deliveries and keeps its log; the queue is not a registry change', async () => {
        const a = await store.createWebhook(hook('https://a.example/hook', ['release.applied']), 'admin');
        const changeId = await store.lastChangeId();
        await store.enqueueWebhookEvent(event('release.applied', 'e1'));
        assert.equal(await store.lastChangeId(), changeId, 'queueing an event is not a change of the graph');
        await store.deleteWebhook(a.id, 'admin');
        assert.deepEqual(await store.listWebhooks(), []);
        assert.deepEqual(await store.claimWebhookDeliveries('2026-01-02T00:00:00.000Z', 10, 60_000), []);
        assert.deepEqual((await store.listWebhookDeliveries({ webhookId: a.id })).map((d) => [d.status, d.lastError]), [['failed', 'the webhook was deleted']]);
        await rejectsWith(store.deleteWebhook(a.id, 'admin'), GraftErrorCode.NOT_FOUND);
        assert.deepEqual((await store.listAuditEvents({ limit: 2 })).map((e) => e.action), ['webhook-delete', 'webhook-create']);
      });
    });

    test('a key and its state are seen by another connection to the same registry', async () => {
      await store.createExtensionKey(newKey('0000000000000008'), 'admin');
      const other = await harness.open();
      await other.revokeExtensionKey('0000000000000008', 'admin');
      assert.ok((await store.findExtensionKey('0000000000000008'))?.revokedAt);
    });
  });
}
