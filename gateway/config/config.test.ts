// Configuration: bad values are refused with a ConfigError naming the variable and what
// to set; the optional GRAFT_CONFIG module supplies @policy functions and settings.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, GRAFT_NODE_FLAGS, loadConfig, loadGraftConfig } from './index.js';

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

test('GRAFT_WORKERS: one process by default; a number of processes or auto (one per CPU) runs several, polling the registry every 2 s', () => {
  const single = loadConfig({});
  assert.equal(single.workers, 1);
  assert.equal(single.registrySyncMs, 0, 'one process has no one to sync with');

  const several = loadConfig({ GRAFT_WORKERS: '3' });
  assert.equal(several.workers, 3);
  assert.equal(several.registrySyncMs, 2000);
  assert.equal(loadConfig({ GRAFT_WORKERS: 'auto' }).workers, Math.min(availableParallelism(), 256));
  assert.equal(loadConfig({ GRAFT_WORKERS: '1' }).registrySyncMs, 0);
  assert.equal(loadConfig({}, { workers: 2 }).registrySyncMs, 2000, 'the default follows workers set from code or GRAFT_CONFIG too');
});

test('GRAFT_REGISTRY_SYNC_MS sets the poll, 0 turns it off', () => {
  assert.equal(loadConfig({ GRAFT_WORKERS: '2', GRAFT_REGISTRY_SYNC_MS: '500' }).registrySyncMs, 500);
  assert.equal(loadConfig({ GRAFT_WORKERS: '2', GRAFT_REGISTRY_SYNC_MS: '0' }).registrySyncMs, 0);
  assert.equal(loadConfig({ GRAFT_REGISTRY_SYNC_MS: '1000' }).registrySyncMs, 1000, 'a single process may poll too (another process writes the registry)');
  assert.throws(() => loadConfig({ GRAFT_REGISTRY_SYNC_MS: 'often' }), (e: unknown) => e instanceof ConfigError && /GRAFT_REGISTRY_SYNC_MS must be an integer/.test(e.message));
  assert.throws(() => loadConfig({ GRAFT_REGISTRY_SYNC_MS: '-1' }), (e: unknown) => e instanceof ConfigError && /GRAFT_REGISTRY_SYNC_MS/.test(e.message));
});

test('GRAFT_WORKERS that is not a whole number of processes from 1 is refused with a ConfigError naming it', () => {
  for (const raw of ['0', 'abc', '-2', '1.5', '2x', ' 2', '0x2', '257']) {
    assert.throws(
      () => loadConfig({ GRAFT_WORKERS: raw }),
      (e: unknown) => e instanceof ConfigError && e.message.startsWith('GRAFT_WORKERS must be a whole number') && e.message.includes(`"${raw}"`) && /"auto"/.test(e.message),
      raw,
    );
  }
  assert.throws(() => loadConfig({}, { workers: 0 }), (e: unknown) => e instanceof ConfigError && /workers must be a whole number/.test(e.message));
});

test('GRAFT_UPSTREAM_BATCHING: on by default, 0 turns it off, anything else is refused naming it', () => {
  assert.equal(loadConfig({}).upstream.batching, true);
  assert.equal(loadConfig({ GRAFT_UPSTREAM_BATCHING: '0' }).upstream.batching, false);
  assert.equal(loadConfig({ GRAFT_UPSTREAM_BATCHING: 'true' }).upstream.batching, true);
  assert.throws(() => loadConfig({ GRAFT_UPSTREAM_BATCHING: 'sometimes' }), (e: unknown) => e instanceof ConfigError && /GRAFT_UPSTREAM_BATCHING/.test(e.message));
});

test('npm start launches the gateway with GRAFT_NODE_FLAGS (the flags the benchmarks measure)', async () => {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  const start = pkg.scripts['start'] ?? '';
  for (const flag of GRAFT_NODE_FLAGS) assert.ok(start.split(' ').includes(flag), `"npm start" (${start}) passes ${flag}`);
});

test('GRAFT_REGISTRY_URL: a postgres:// URL puts the registry in PostgreSQL (polled every second beside LISTEN/NOTIFY); an http URL is the CLI\'s and keeps SQLite', () => {
  const sqlite = loadConfig({ GRAFT_REGISTRY_URL: 'http://127.0.0.1:4000' });
  assert.equal(sqlite.registry.url, undefined);
  assert.equal(sqlite.registrySyncMs, 0);
  const postgres = loadConfig({ GRAFT_REGISTRY_URL: 'postgresql://graft@db:5432/registry?sslmode=verify-full', GRAFT_PG_POOL_MAX: '4', GRAFT_PG_STATEMENT_TIMEOUT_MS: '2000', GRAFT_PG_SSL_CA: 'ca.pem' });
  assert.equal(postgres.registry.url, 'postgresql://graft@db:5432/registry?sslmode=verify-full');
  assert.equal(postgres.registry.poolMax, 4);
  assert.equal(postgres.registry.statementTimeoutMs, 2000);
  assert.match(postgres.registry.sslCaFile ?? '', /\/ca\.pem$/);
  assert.equal(postgres.registrySyncMs, 1000);
  assert.equal(loadConfig({ GRAFT_REGISTRY_URL: 'postgres://db/r', GRAFT_REGISTRY_SYNC_MS: '5000' }).registrySyncMs, 5000);
  assert.throws(() => loadConfig({ GRAFT_PG_POOL_MAX: '0' }), (e: unknown) => e instanceof ConfigError && /GRAFT_PG_POOL_MAX/.test(e.message));
  assert.throws(
    () => loadConfig({}, { registry: { url: 'mysql://user:pw@db/r' } }),
    (e: unknown) => e instanceof ConfigError && /postgres:\/\//.test(e.message) && !e.message.includes('pw'),
  );
});
