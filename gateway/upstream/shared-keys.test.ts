// One upstream key set for every replica, kept in the registry (schema 6): tokens minted by
// any replica verify against any replica's JWKS; rotation publishes before it signs and keeps
// the old key published until its tokens expired, on every replica; private keys are sealed.
// Two issuers on one registry stand for two replicas (the store contract pins the storage on
// PostgreSQL too; test/integration/replicas.test.ts runs real replicas on it).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import type { Principal } from '../auth/index.js';
import { openSqliteRegistry, type RegistryStore } from '../registry/index.js';
import { UpstreamTokenIssuer } from './index.js';

const alice: Principal = { subject: 'alice', anonymous: false, scopes: new Set(['crm:read']), tenant: undefined, claims: {} };
const stores: RegistryStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

function registry(): RegistryStore {
  const store = openSqliteRegistry({ file: ':memory:' });
  stores.push(store);
  return store;
}

const replica = (store: RegistryStore, encryptionKey: Buffer) => UpstreamTokenIssuer.create({ issuer: 'graft-gateway', shared: { store, encryptionKey } });

async function verifies(token: string, by: UpstreamTokenIssuer): Promise<boolean> {
  try {
    await jwtVerify(token, createLocalJWKSet(by.jwks()), { issuer: 'graft-gateway', audience: 'crm' });
    return true;
  } catch {
    return false;
  }
}

test('replicas on one registry sign with one key set: a token minted by either verifies against the other\'s JWKS', async () => {
  const store = registry();
  const encryptionKey = randomBytes(32);
  const [a, b] = [await replica(store, encryptionKey), await replica(store, encryptionKey)];
  assert.deepEqual(a.jwks(), b.jwks());
  assert.equal(a.activeKid, b.activeKid);
  assert.ok(await verifies(await a.tokenFor(alice, 'crm', ['crm:read']), b));
  assert.ok(await verifies(await b.tokenFor(alice, 'crm', ['crm:read']), a));
  assert.equal((await store.listSigningKeys()).length, 1, 'the second replica adopted the first one\'s key');
});

test('rotation through one replica: published by every replica before it signs, the old key kept until its tokens expired', async () => {
  const store = registry();
  const encryptionKey = randomBytes(32);
  const [a, b] = [await replica(store, encryptionKey), await replica(store, encryptionKey)];
  const oldKid = a.activeKid;
  const oldToken = await b.tokenFor(alice, 'crm', ['crm:read']);
  const { kid: newKid } = await a.rotate({ activationDelayMs: 300 });
  await b.refresh(); // what the registry change (NOTIFY / poll) triggers on the other replica
  for (const issuer of [a, b]) {
    assert.equal(issuer.activeKid, oldKid, 'the new key does not sign yet');
    assert.deepEqual(issuer.jwks().keys.map((k) => k.kid).sort(), [oldKid, newKid].sort(), 'but it is published');
  }
  await sleep(350);
  for (const issuer of [a, b]) {
    assert.equal(issuer.activeKid, newKid, 'the new key signs once its time came');
    assert.ok(issuer.jwks().keys.some((k) => k.kid === oldKid), 'the old key stays published while its tokens live');
  }
  const newToken = await b.tokenFor(alice, 'crm', ['crm:read']);
  assert.equal(decodeProtectedHeader(newToken).kid, newKid);
  assert.ok(await verifies(newToken, a));
  assert.ok(await verifies(oldToken, a), 'a token signed before the rotation still verifies');
});

test('private keys are stored sealed, and a replica with another key encryption key is refused with a message', async () => {
  const store = registry();
  const encryptionKey = randomBytes(32);
  await replica(store, encryptionKey);
  const [row] = await store.listSigningKeys();
  assert.ok(row);
  assert.equal('d' in row.publicJwk, false, 'no private part in the public JWK');
  assert.doesNotMatch(row.sealedPrivateJwk, /"d"|"kty"/, 'the private JWK is not stored in plain text');
  await assert.rejects(replica(store, randomBytes(32)), /GRAFT_KEY_ENCRYPTION_KEY does not open.*same key encryption key/);
});
