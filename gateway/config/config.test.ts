// Configuration: bad values are refused with a ConfigError naming the variable and what
// to set; the optional GRAFT_CONFIG module supplies @policy functions and settings.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, loadGraftConfig } from './index.js';

test('defaults: loopback, port 4000, filter mode, cost limit 10000', () => {
  const config = loadConfig({});
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.port, 4000);
  assert.equal(config.mode, 'development');
  assert.equal(config.authorization.mode, 'filter');
  assert.equal(config.cost.maxCost, 10_000);
});

test('bad values are refused with a ConfigError that names the variable', () => {
  assert.throws(() => loadConfig({ PORT: 'eighty' }), (e: unknown) => e instanceof ConfigError && /PORT must be an integer/.test(e.message));
  assert.throws(() => loadConfig({ GRAFT_AUTHZ_MODE: 'lenient' }), (e: unknown) => e instanceof ConfigError && /GRAFT_AUTHZ_MODE/.test(e.message));
  assert.throws(() => loadConfig({ GRAFT_JWT_ALGORITHMS: 'EdDSA,HS256' }), (e: unknown) => e instanceof ConfigError && /HS256/.test(e.message));
  assert.throws(
    () => loadConfig({ GRAFT_UPSTREAM_TIMEOUT_MS: '9000', GRAFT_UPSTREAM_MAX_TIMEOUT_MS: '1000' }),
    (e: unknown) => e instanceof ConfigError && /cannot exceed/.test(e.message),
  );
});

test('production refuses to start without a real issuer and keys', () => {
  assert.throws(() => loadConfig({ NODE_ENV: 'production' }), /GRAFT_JWT_ISSUER is required/);
  assert.throws(() => loadConfig({ NODE_ENV: 'production', GRAFT_JWT_ISSUER: 'https://idp' }), /GRAFT_JWKS_URL or GRAFT_JWKS_FILE/);
  const ok = loadConfig({ NODE_ENV: 'production', GRAFT_JWT_ISSUER: 'https://idp', GRAFT_JWKS_URL: 'https://idp/jwks' });
  assert.equal(ok.mode, 'production');
});

test('GRAFT_CONFIG supplies @policy functions and settings; a policy that is not a function is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'graft-config-'));
  try {
    const good = join(dir, 'graft.config.mjs');
    await writeFile(good, "export default { authorization: { mode: 'reject', policies: { admin: (p) => p.claims.role === 'admin' } }, cost: { maxCost: 500 } };\n");
    const config = await loadGraftConfig({ GRAFT_CONFIG: good });
    assert.equal(config.authorization.mode, 'reject');
    assert.equal(config.cost.maxCost, 500);
    assert.equal(config.cost.defaultListSize, 10, 'unset settings keep their defaults');
    const admin = config.authorization.policies['admin'];
    assert.ok(admin);
    assert.equal(admin({ subject: 's', anonymous: false, scopes: new Set(), tenant: undefined, claims: { role: 'admin' } }), true);

    const bad = join(dir, 'bad.config.mjs');
    await writeFile(bad, "export default { authorization: { policies: { admin: 'yes' } } };\n");
    await assert.rejects(loadGraftConfig({ GRAFT_CONFIG: bad }), (e: unknown) => e instanceof ConfigError && /must be a function/.test(e.message));
    await assert.rejects(loadGraftConfig({ GRAFT_CONFIG: join(dir, 'missing.mjs') }), (e: unknown) => e instanceof ConfigError && /Cannot load GRAFT_CONFIG/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
