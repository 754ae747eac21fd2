// Extension keys over real HTTP (issue 16, item 1): an operator issues a key for one
// extension's CI; the key may check and publish that extension and read what
// `graft check --registry` needs, and nothing else. Every bad key gets 401 UNAUTHENTICATED,
// every use beyond the key's rights 403 FORBIDDEN naming them, and nothing changes.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExtensionKeys } from '../../gateway/keys/index.js';
import { openSqliteRegistry, registryFileIn } from '../../gateway/registry/index.js';
import { exampleManifest, http, runGraft, startGateway, startGraftWithExamples, tempDir, tokenFor } from '../helpers/index.js';

const graft = (args: string[], env: Record<string, string>, cwd: string) => runGraft(args, { cwd, env: { GRAFT_TOKEN: '', ...env } });

describe('extension keys', () => {
  let graftEnv: Awaited<ReturnType<typeof startGraftWithExamples>>;
  let url: string;
  let crmKey: string;
  let crmKeyId: string;
  let crmCheckOnly: string;

  async function createKey(extension: string, body: Record<string, unknown>) {
    return http<{ key: { id: string; prefix: string; scopes: string[] }; secret: string }>(`${url}/admin/extensions/${extension}/keys`, { token: graftEnv.admin, body });
  }

  /** What a refused request must leave as it was. */
  async function registryState(): Promise<string> {
    const extensions = await http(`${url}/admin/extensions`, { token: graftEnv.admin });
    const supergraph = await http<Record<string, unknown>>(`${url}/admin/supergraph`, { token: graftEnv.admin });
    return JSON.stringify({ extensions: extensions.body, supergraph: supergraph.body['id'] });
  }

  async function expectRefused(result: { status: number; body: any }, status: number, code: string, message?: RegExp, before?: string): Promise<void> {
    assert.equal(result.status, status, JSON.stringify(result.body));
    assert.equal(result.body.code, code);
    if (message) assert.match(result.body.message, message);
    assert.ok(!/\n\s+at /.test(result.body.message), 'no stack trace');
    if (before !== undefined) assert.equal(await registryState(), before, 'nothing changed');
  }

  before(async () => {
    graftEnv = await startGraftWithExamples();
    url = graftEnv.server.url;
    const created = await createKey('crm', { scopes: ['check', 'publish'], expiresInDays: 90, description: 'crm CI' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    crmKey = created.body.secret;
    crmKeyId = created.body.key.id;
    crmCheckOnly = (await createKey('crm', { scopes: ['check'] })).body.secret;
  });
  after(async () => {
    await graftEnv?.close();
  });

  test('a key is a high-entropy value with a recognisable prefix, shown once; listings never show it nor its hash', async () => {
    assert.match(crmKey, /^graft_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const listed = await http<{ keys: Array<Record<string, unknown>> }>(`${url}/admin/extensions/crm/keys`, { token: graftEnv.admin });
    assert.equal(listed.status, 200);
    const text = JSON.stringify(listed.body);
    assert.ok(!text.includes(crmKey.slice(24)), 'no secret in the listing');
    assert.ok(!('hash' in listed.body.keys[0]!));
    const key = listed.body.keys.find((k) => k['id'] === crmKeyId)!;
    assert.deepEqual(key['scopes'], ['check', 'publish']);
    assert.equal(key['description'], 'crm CI');
    assert.ok(typeof key['expiresAt'] === 'string' && Date.parse(key['expiresAt']) > Date.now() + 89 * 24 * 3600 * 1000);
  });

  test('a key reads what graft check --registry needs: the active graph, its versions, the registered operations, its own history', async () => {
    const supergraph = await http<{ members: Array<{ extension: string; version: string }> }>(`${url}/admin/supergraph`, { token: crmCheckOnly });
    assert.equal(supergraph.status, 200);
    for (const { extension, version } of supergraph.body.members) {
      assert.equal((await http(`${url}/admin/extensions/${extension}/versions/${version}`, { token: crmCheckOnly })).status, 200, `${extension}@${version}`);
    }
    assert.equal((await http(`${url}/admin/operations`, { token: crmCheckOnly })).status, 200);
    assert.equal((await http(`${url}/admin/extensions/crm/versions`, { token: crmCheckOnly })).status, 200);
    const visible = await http<{ extensions: Array<{ name: string }> }>(`${url}/admin/extensions`, { token: crmCheckOnly });
    assert.deepEqual(visible.body.extensions.map((e) => e.name), ['crm']);
  });

  test('a key publishes its own extension; the audit log names the key as the actor and the key list its last use', async () => {
    const next = await exampleManifest('crm', graftEnv.examples.crm.url, { version: '1.1.0' });
    const published = await http<Record<string, any>>(`${url}/admin/extensions/crm/versions`, { token: crmKey, body: next });
    assert.equal(published.status, 201, JSON.stringify(published.body));
    assert.equal(published.body['version'].publishedBy, `key:${crmKeyId}`);
    const audit = await http<{ events: Array<{ actor: string; action: string }> }>(`${url}/admin/audit?extension=crm&limit=1`, { token: graftEnv.admin });
    assert.deepEqual(audit.body.events.map((e) => [e.action, e.actor]), [['publish', `key:${crmKeyId}`]]);
    const keys = await http<{ keys: Array<{ id: string; lastUsedAt?: string }> }>(`${url}/admin/keys`, { token: graftEnv.admin });
    assert.ok(keys.body.keys.find((k) => k.id === crmKeyId)?.lastUsedAt);
  });

  test('a key for another extension is refused with 403 FORBIDDEN naming what the key may do, and nothing is stored', async () => {
    const state = await registryState();
    const orders = await exampleManifest('orders', graftEnv.examples.orders.url, { version: '9.0.0' });
    const message = /key graft_[0-9a-f]{16} may only check and publish extension "crm"/;
    await expectRefused(await http(`${url}/admin/extensions/orders/versions`, { token: crmKey, body: orders }), 403, 'FORBIDDEN', message, state);
    await expectRefused(await http(`${url}/admin/releases`, { token: crmKey, body: { extensions: [orders] } }), 403, 'FORBIDDEN', message, state);
    await expectRefused(await http(`${url}/admin/extensions/orders/versions`, { token: crmKey }), 403, 'FORBIDDEN', message);
  });

  test('a key may do nothing else: no pause, retire, register, health, audit or keys, and a check-only key no publish', async () => {
    const state = await registryState();
    const refusals = [
      http(`${url}/admin/extensions/crm/pause`, { token: crmKey, method: 'POST' }),
      http(`${url}/admin/extensions/crm/retire`, { token: crmKey, method: 'POST' }),
      http(`${url}/admin/extensions`, { token: crmKey, body: { name: 'crm-two', owner: 'x' } }),
      http(`${url}/admin/extensions/crm/health`, { token: crmKey }),
      http(`${url}/admin/audit`, { token: crmKey }),
      http(`${url}/admin/extensions/crm/keys`, { token: crmKey, body: { scopes: ['publish'] } }),
      http(`${url}/admin/extensions/crm/versions`, { token: crmCheckOnly, body: await exampleManifest('crm', graftEnv.examples.crm.url, { version: '5.0.0' }) }),
    ];
    for (const result of await Promise.all(refusals)) await expectRefused(result, 403, 'FORBIDDEN', /may only (check and publish|check) extension "crm"/);
    assert.equal(await registryState(), state);
  });

  test('a version of another extension that is not in the active graph stays private to that extension', async () => {
    const orders = await exampleManifest('orders', graftEnv.examples.orders.url, { version: '1.0.1' });
    assert.equal((await http(`${url}/admin/extensions/orders/versions`, { token: graftEnv.admin, body: orders })).status, 201);
    assert.equal((await http(`${url}/admin/extensions/orders/versions/1.0.1`, { token: crmCheckOnly })).status, 200, 'active: part of what check reads');
    await expectRefused(await http(`${url}/admin/extensions/orders/versions/1.0.0`, { token: crmCheckOnly }), 403, 'FORBIDDEN');
  });

  test('a wrong, malformed, tampered, revoked or expired key gets 401 UNAUTHENTICATED and nothing changes', async () => {
    const state = await registryState();
    const next = await exampleManifest('crm', graftEnv.examples.crm.url, { version: '7.0.0' });
    const publishWith = (token: string) => http(`${url}/admin/extensions/crm/versions`, { token, body: next });
    const wrong = `graft_${'0'.repeat(16)}_${'A'.repeat(43)}`;
    const tampered = `${crmKey.slice(0, -1)}${crmKey.endsWith('A') ? 'B' : 'A'}`;
    await expectRefused(await publishWith(wrong), 401, 'UNAUTHENTICATED', /not known/, state);
    await expectRefused(await publishWith('graft_short'), 401, 'UNAUTHENTICATED', /not a Graft extension key/, state);
    await expectRefused(await publishWith(tampered), 401, 'UNAUTHENTICATED', /not known/, state);

    const doomed = await createKey('crm', { scopes: ['publish'] });
    const revoked = await http<Record<string, unknown>>(`${url}/admin/extensions/crm/keys/${doomed.body.key.id}/revoke`, { token: graftEnv.admin, method: 'POST' });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body['revokedBy'], 'admin');
    await expectRefused(await publishWith(doomed.body.secret), 401, 'UNAUTHENTICATED', /was revoked/, state);

    // A key issued two days ago for one day, through the same code, on the gateway's registry file.
    const store = openSqliteRegistry({ file: registryFileIn(graftEnv.dir.path) });
    try {
      const expired = await new ExtensionKeys(store, { now: () => new Date(Date.now() - 2 * 24 * 3600 * 1000) }).create({ extension: 'crm', scopes: ['publish'], expiresInDays: 1 }, 'admin');
      await expectRefused(await publishWith(expired.secret), 401, 'UNAUTHENTICATED', /expired at/, state);
    } finally {
      await store.close();
    }
  });

  test('issuing and revoking keys needs graft:admin: an owner token is refused, bad scopes and lifetimes are 400', async () => {
    const owner = await tokenFor(graftEnv.server, 'crm-owner', ['graft:publish:crm']);
    await expectRefused(await http(`${url}/admin/extensions/crm/keys`, { token: owner, body: { scopes: ['check'] } }), 403, 'FORBIDDEN', /graft:admin/);
    await expectRefused(await createKey('crm', { scopes: ['admin'] }), 400, 'BAD_REQUEST');
    await expectRefused(await createKey('crm', { scopes: ['check'], expiresInDays: 0 }), 400, 'BAD_REQUEST');
    await expectRefused(await createKey('nope', { scopes: ['check'] }), 404, 'EXTENSION_NOT_FOUND');
    await expectRefused(await http(`${url}/admin/extensions/orders/keys/${crmKeyId}/revoke`, { token: graftEnv.admin, method: 'POST' }), 404, 'NOT_FOUND');
  });

  test('a graft:publish:<name> JWT may read what graft check --registry needs, without graft:admin', async () => {
    const owner = await tokenFor(graftEnv.server, 'crm-owner', ['graft:publish:crm']);
    assert.equal((await http(`${url}/admin/supergraph`, { token: owner })).status, 200);
    assert.equal((await http(`${url}/admin/operations`, { token: owner })).status, 200);
  });

  test('graft keys create | list | revoke, and graft check --registry with the key in GRAFT_TOKEN', async () => {
    const admin = { GRAFT_TOKEN: graftEnv.admin, GRAFT_REGISTRY_URL: url };
    const cwd = graftEnv.dir.path;
    const created = await graft(['keys', 'create', '--extension', 'inventory', '--scope', 'check', '--expires', '30d', '--description', 'inventory CI'], admin, cwd);
    assert.equal(created.code, 0, created.stderr);
    const key = created.stdout.trimEnd().split('\n').at(-1)!;
    assert.match(key, /^graft_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/, 'the key alone on the last line');

    const listed = await graft(['keys', 'list', '--extension', 'inventory', '--json'], admin, cwd);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!listed.stdout.includes(key.slice(24)));
    const [record] = JSON.parse(listed.stdout) as Array<{ id: string; scopes: string[] }>;
    assert.deepEqual(record?.scopes, ['check']);
    const table = await graft(['keys', 'list'], admin, cwd);
    assert.match(table.stdout, new RegExp(`${record!.id}\\s+graft_${record!.id}\\s+inventory\\s+check\\s+`));

    const sdl = (await exampleManifest('inventory', graftEnv.examples.inventory.url)).sdl;
    await writeFile(join(cwd, 'inventory.graphql'), sdl);
    const checked = await graft(['check', '--registry', url, '--subgraph', 'inventory=inventory.graphql', '--format', 'json'], { GRAFT_TOKEN: key }, cwd);
    assert.equal(checked.code, 0, checked.stderr);
    assert.equal((JSON.parse(checked.stdout) as { verdict: string }).verdict, 'safe');

    const revoked = await graft(['keys', 'revoke', record!.id], admin, cwd);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /Revoked key/);
    const refused = await graft(['check', '--registry', url, '--subgraph', 'inventory=inventory.graphql'], { GRAFT_TOKEN: key }, cwd);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /UNAUTHENTICATED: Extension key graft_[0-9a-f]{16} was revoked/);

    const usage = await graft(['keys', 'create', '--extension', 'inventory', '--scope', 'everything'], admin, cwd);
    assert.equal(usage.code, 2);
    const badExpiry = await graft(['keys', 'create', '--extension', 'inventory', '--scope', 'check', '--expires', '3 months'], admin, cwd);
    assert.equal(badExpiry.code, 2);
    assert.match(badExpiry.stderr, /--expires takes a number of days/);
  });
});

describe('extension keys: rate limit per key', () => {
  test('requests beyond the per-key budget get 429 RATE_LIMITED; another key keeps its own budget', async () => {
    const dir = await tempDir();
    const server = await startGateway(dir.path, { keyRateLimitPerMinute: 3 });
    try {
      const admin = await tokenFor(server, 'admin', ['graft:admin']);
      for (const name of ['alpha', 'beta']) {
        assert.equal((await http(`${server.url}/admin/extensions`, { token: admin, body: { name, owner: 'team' } })).status, 201);
      }
      const keyOf = async (name: string) => (await http<{ secret: string }>(`${server.url}/admin/extensions/${name}/keys`, { token: admin, body: { scopes: ['check'] } })).body.secret;
      const [alpha, beta] = [await keyOf('alpha'), await keyOf('beta')];
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await http(`${server.url}/admin/extensions/alpha`, { token: alpha })).status);
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      const limited = await http<{ code: string; message: string }>(`${server.url}/admin/extensions/alpha`, { token: alpha });
      assert.equal(limited.body.code, 'RATE_LIMITED');
      assert.match(limited.body.message, /at most 3 a minute per key/);
      assert.equal((await http(`${server.url}/admin/extensions/beta`, { token: beta })).status, 200);
      assert.equal((await http(`${server.url}/admin/extensions/alpha`, { token: admin })).status, 200, 'JWT callers are not counted against keys');
    } finally {
      await server.close();
      await dir.remove();
    }
  });
});
