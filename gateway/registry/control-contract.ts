// The control plane's part of the RegistryStore contract (extension keys), as tests that
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

    test('a key and its state are seen by another connection to the same registry', async () => {
      await store.createExtensionKey(newKey('0000000000000008'), 'admin');
      const other = await harness.open();
      await other.revokeExtensionKey('0000000000000008', 'admin');
      assert.ok((await store.findExtensionKey('0000000000000008'))?.revokedAt);
    });
  });
}
