// Key files in the data dir are created exactly once, whoever comes first: processes that
// start together (GRAFT_WORKERS) must end up signing with one key.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { UpstreamTokenIssuer } from '../upstream/index.js';
import { loadOrCreateDevIssuer, loadOrCreateKeyFile } from './index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'graft-keys-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const key = (kid: string) => async () => ({ kty: 'OKP', crv: 'Ed25519', x: kid, d: kid, kid });

test('two creators racing on a missing key file both get the one key that was written', async () => {
  const file = join(dir, 'nested', 'k.jwk.json');
  const [a, b] = await Promise.all([loadOrCreateKeyFile(file, key('first')), loadOrCreateKeyFile(file, key('second'))]);
  assert.deepEqual(a, b);
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), a);
  assert.equal((await loadOrCreateKeyFile(file, key('third'))).kid, a.kid, 'an existing key is read, never replaced');
});

test('a key file another process is still writing is waited for', async () => {
  const file = join(dir, 'k.jwk.json');
  await writeFile(file, ''); // created (wx), not written yet
  const finishing = new Promise<void>((resolve) => setTimeout(() => void writeFile(file, JSON.stringify({ kty: 'OKP', kid: 'theirs' })).then(resolve), 50));
  const jwk = await loadOrCreateKeyFile(file, key('mine'));
  await finishing;
  assert.equal(jwk.kid, 'theirs');
});

test('a key file that never holds a key is refused with a message naming it, not replaced', async () => {
  const file = join(dir, 'k.jwk.json');
  await writeFile(file, '{"not":"a key"}');
  await assert.rejects(loadOrCreateKeyFile(file, key('mine')), (error: unknown) => {
    assert.ok(error instanceof GraftError);
    assert.equal(error.code, GraftErrorCode.INTERNAL_SERVER_ERROR);
    assert.ok(error.message.includes(file));
    assert.match(error.message, /delete it/);
    return true;
  });
  assert.equal(await readFile(file, 'utf8'), '{"not":"a key"}');
});

test('gateway processes starting together on one data dir sign upstream tokens and dev tokens with the same keys', async () => {
  const issuers = await Promise.all([1, 2, 3].map(() => UpstreamTokenIssuer.create({ issuer: 'graft-gateway', dataDir: dir })));
  assert.equal(new Set(issuers.map((i) => JSON.stringify(i.jwks()))).size, 1);
  for (const issuer of issuers) issuer.stop();
  const devIssuers = await Promise.all([1, 2, 3].map(() => loadOrCreateDevIssuer(dir)));
  assert.equal(new Set(devIssuers.map((i) => JSON.stringify(i.jwks))).size, 1);
});
