// The admin API's refusals: each bad input gets a 4xx with a stable code and a message
// saying what to fix, and nothing already stored changes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exampleManifest, http, startGateway, startGraftWithExamples, tempDir, tokenFor } from '../helpers/index.js';

describe('admin API', () => {
  let graft: Awaited<ReturnType<typeof startGraftWithExamples>>;
  let snapshotBefore: string;

  async function registryState(): Promise<string> {
    const { server, admin } = graft;
    const extensions = await http(`${server.url}/admin/extensions`, { token: admin });
    const supergraph = await http<Record<string, any>>(`${server.url}/admin/supergraph`, { token: admin });
    const versions = await Promise.all(
      ['crm', 'orders', 'inventory'].map((n) => http(`${server.url}/admin/extensions/${n}/versions`, { token: admin })),
    );
    return JSON.stringify({ extensions: extensions.body, supergraph: supergraph.body['id'], versions: versions.map((v) => v.body) });
  }

  before(async () => {
    graft = await startGraftWithExamples();
    snapshotBefore = await registryState();
  });
  after(async () => {
    await graft?.close();
  });

  async function expectRefused(
    result: { status: number; body: any },
    status: number,
    code: string,
    messagePart?: RegExp,
  ): Promise<void> {
    assert.equal(result.status, status, JSON.stringify(result.body));
    assert.equal(result.body.code, code);
    assert.equal(typeof result.body.message, 'string');
    assert.ok(!/\n\s+at /.test(result.body.message), 'no stack trace');
    if (messagePart) assert.match(result.body.message, messagePart);
    assert.equal(await registryState(), snapshotBefore, 'nothing stored changed');
  }

  const versionsUrl = (name: string) => `${graft.server.url}/admin/extensions/${name}/versions`;

  test('a manifest with an unknown field is refused with MANIFEST_INVALID naming the field', async () => {
    const { manifest, sdl } = await exampleManifest('crm', graft.examples.crm.url, { version: '2.0.0', colour: 'blue' });
    await expectRefused(await http(versionsUrl('crm'), { token: graft.admin, body: { manifest, sdl } }), 400, 'MANIFEST_INVALID', /unknown field "colour"/);
  });

  test('a malformed manifest (missing owner, bad URL) is refused with every problem listed', async () => {
    const { manifest, sdl } = await exampleManifest('crm', graft.examples.crm.url, { version: '2.0.0' });
    const { owner: _owner, ...withoutOwner } = manifest;
    const bad = { ...withoutOwner, subgraph: { url: 'ftp://example', schema: 'crm.graphql' } };
    const result = await http<any>(versionsUrl('crm'), { token: graft.admin, body: { manifest: bad, sdl } });
    await expectRefused(result, 400, 'MANIFEST_INVALID', /owner/);
    assert.ok(result.body.details.problems.length >= 2);
  });

  test('a version that is not semver is refused', async () => {
    const { manifest, sdl } = await exampleManifest('crm', graft.examples.crm.url, { version: 'v2' });
    await expectRefused(await http(versionsUrl('crm'), { token: graft.admin, body: { manifest, sdl } }), 400, 'MANIFEST_INVALID', /semantic version/);
  });

  test('an SDL that does not parse is refused with SDL_INVALID and the location', async () => {
    const { manifest } = await exampleManifest('crm', graft.examples.crm.url, { version: '2.0.0' });
    await expectRefused(
      await http(versionsUrl('crm'), { token: graft.admin, body: { manifest, sdl: 'type Query { broken: }' } }),
      400,
      'SDL_INVALID',
      /line 1, column/,
    );
  });

  test('a version not greater than the latest is refused with VERSION_NOT_GREATER; the same version with VERSION_EXISTS', async () => {
    const older = await exampleManifest('crm', graft.examples.crm.url, { version: '0.9.0' });
    await expectRefused(await http(versionsUrl('crm'), { token: graft.admin, body: older }), 409, 'VERSION_NOT_GREATER', /bump "version"/);
    const same = await exampleManifest('crm', graft.examples.crm.url);
    await expectRefused(await http(versionsUrl('crm'), { token: graft.admin, body: same }), 409, 'VERSION_EXISTS');
  });

  test('registering a name that is taken is refused with EXTENSION_NAME_TAKEN', async () => {
    await expectRefused(
      await http(`${graft.server.url}/admin/extensions`, { token: graft.admin, body: { name: 'crm', owner: 'someone-else' } }),
      409,
      'EXTENSION_NAME_TAKEN',
    );
  });

  test('publishing to an unknown extension is refused with EXTENSION_NOT_FOUND', async () => {
    const { sdl } = await exampleManifest('crm', graft.examples.crm.url);
    const manifest = { name: 'ghost', version: '1.0.0', owner: 'x', subgraph: { url: graft.examples.crm.url, schema: 'x.graphql' } };
    await expectRefused(await http(versionsUrl('ghost'), { token: graft.admin, body: { manifest, sdl } }), 404, 'EXTENSION_NOT_FOUND', /register it first/);
    await expectRefused(await http(`${graft.server.url}/admin/extensions/ghost`, { token: graft.admin }), 404, 'EXTENSION_NOT_FOUND');
  });

  test('a manifest naming another extension than the URL is refused with NAME_MISMATCH', async () => {
    const body = await exampleManifest('crm', graft.examples.crm.url, { version: '2.0.0' });
    await expectRefused(await http(versionsUrl('orders'), { token: graft.admin, body }), 400, 'NAME_MISMATCH');
  });

  test('a body that is not the documented shape is refused with BAD_REQUEST', async () => {
    await expectRefused(await http(versionsUrl('crm'), { token: graft.admin, body: { sdl: 'type Query { a: Int }' } }), 400, 'BAD_REQUEST');
    await expectRefused(await http(versionsUrl('crm'), { token: graft.admin, body: '{not json' }), 400, 'BAD_REQUEST');
  });

  test('an oversized body is refused with PAYLOAD_TOO_LARGE', async () => {
    const { manifest } = await exampleManifest('crm', graft.examples.crm.url, { version: '2.0.0' });
    await expectRefused(
      await http(versionsUrl('crm'), { token: graft.admin, body: { manifest, sdl: `# ${'x'.repeat(2 * 1024 * 1024)}` } }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });

  test('no token is UNAUTHENTICATED; a token without the scope is FORBIDDEN', async () => {
    await expectRefused(await http(`${graft.server.url}/admin/extensions`), 401, 'UNAUTHENTICATED');
    const user = await tokenFor(graft.server, 'alice', ['crm:read']);
    await expectRefused(await http(`${graft.server.url}/admin/supergraph`, { token: user }), 403, 'FORBIDDEN', /graft:admin/);
  });

  test('an owner token acts on its own extension only', async () => {
    const owner = await tokenFor(graft.server, 'crm-team', ['graft:publish:crm']);
    const own = await http<any>(`${graft.server.url}/admin/extensions/crm`, { token: owner });
    assert.equal(own.status, 200);
    assert.equal(own.body.name, 'crm');
    const list = await http<any>(`${graft.server.url}/admin/extensions`, { token: owner });
    assert.deepEqual(list.body.extensions.map((e: any) => e.name), ['crm']);
    const body = await exampleManifest('orders', graft.examples.orders.url, { version: '9.0.0' });
    await expectRefused(await http(versionsUrl('orders'), { token: owner, body }), 403, 'FORBIDDEN', /graft:publish:orders/);
  });

  test('the OpenAPI document describes every admin route', async () => {
    const { status, body } = await http<any>(`${graft.server.url}/admin/openapi.json`);
    assert.equal(status, 200);
    assert.match(body.openapi, /^3\./);
    for (const path of [
      '/admin/extensions',
      '/admin/extensions/{name}',
      '/admin/extensions/{name}/versions',
      '/admin/extensions/{name}/versions/{version}',
      '/admin/extensions/{name}/pause',
      '/admin/extensions/{name}/resume',
      '/admin/supergraph',
    ]) {
      assert.ok(body.paths[path], `${path} is documented`);
    }
    assert.equal(body.paths['/graphql'], undefined);
  });

  test('a published version is readable with its manifest and SDL, and the audit log records who published it', async () => {
    const version = await http<any>(`${graft.server.url}/admin/extensions/crm/versions/1.0.0`, { token: graft.admin });
    assert.equal(version.status, 200);
    assert.equal(version.body.manifest.name, 'crm');
    assert.match(version.body.sdl, /type Customer/);
    assert.equal(version.body.publishedBy, 'admin');
    const audit = await http<any>(`${graft.server.url}/admin/audit?extension=crm`, { token: graft.admin });
    assert.deepEqual(audit.body.events.map((e: any) => e.action).sort(), ['publish', 'register']);
    const missing = await http<any>(`${graft.server.url}/admin/extensions/crm/versions/7.7.7`, { token: graft.admin });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'VERSION_NOT_FOUND');
  });

  test('a newly registered extension can publish its first version, and it joins the served supergraph', async () => {
    // Leaves the registry changed: runs last.
    const register = await http<any>(`${graft.server.url}/admin/extensions`, { token: graft.admin, body: { name: 'extra', owner: 'tests' } });
    assert.equal(register.status, 201);
    assert.equal(register.body.activeVersion ?? null, null, 'no version yet');
    const result = await http<any>(`${graft.server.url}/admin/extensions/extra/versions`, {
      token: graft.admin,
      body: {
        manifest: { name: 'extra', version: '0.1.0', owner: 'tests', subgraph: { url: graft.examples.crm.url, schema: 'e.graphql' } },
        sdl: 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype Query { extraHello: String }',
      },
    });
    assert.equal(result.status, 201, JSON.stringify(result.body));
    assert.ok(result.body.supergraph.members.some((m: any) => m.extension === 'extra' && m.version === '0.1.0'));
    const supergraph = await http<any>(`${graft.server.url}/admin/supergraph`, { token: graft.admin });
    assert.match(supergraph.body.apiSdl, /extraHello/);
  });
});

describe('admin API rate limits', () => {
  test('publishes beyond the per-minute limit are refused with RATE_LIMITED and 429', async () => {
    const dir = await tempDir();
    const server = await startGateway(dir.path, { publishRateLimitPerMinute: 2 });
    try {
      const admin = await tokenFor(server, 'admin', ['graft:admin']);
      await http(`${server.url}/admin/extensions`, { token: admin, body: { name: 'limited', owner: 'tests' } });
      const statuses: number[] = [];
      let last: any;
      for (let i = 0; i < 3; i += 1) {
        last = await http<any>(`${server.url}/admin/extensions/limited/versions`, { token: admin, body: { manifest: { name: 'nope' }, sdl: 'x' } });
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [400, 400, 429]);
      assert.equal(last.body.code, 'RATE_LIMITED');
      assert.match(last.body.message, /Try again/);
    } finally {
      await server.close();
      await dir.remove();
    }
  });
});
