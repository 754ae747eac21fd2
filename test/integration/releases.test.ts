// Releases over real HTTP and a real SQLite registry: extensions that need each other
// (@external both ways) cannot be published one at a time but can be released together;
// a refused release stores nothing and the old graph keeps serving; bad input is refused
// with a clear code; `graft publish` with several manifests is one release.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  CROSS_EXTENSION_QUERY,
  REPO_ROOT,
  exampleUserToken,
  graphql,
  http,
  startGraftWithExamples,
  startRecordingSubgraph,
  tempDir,
  tokenFor,
  type RecordingSubgraph,
} from '../helpers/index.js';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@external", "@requires"])';

// accounts needs profiles' nickname, profiles needs accounts' name and has no Query field:
// neither composes without the other, whatever comes first.
const ACCOUNTS_SDL = `${LINK}
type Query { me: User }
type User @key(fields: "id") {
  id: ID!
  name: String!
  nickname: String! @external
  title: String @requires(fields: "nickname")
}`;
const PROFILES_SDL = `${LINK}
type User @key(fields: "id") {
  id: ID!
  nickname: String!
  name: String! @external
  greeting: String @requires(fields: "name")
}`;

const USERS: Record<string, { id: string; name: string; nickname: string }> = { u1: { id: 'u1', name: 'Ada', nickname: 'ada' } };

function manifest(name: string, url: string, version: string, extra: Record<string, unknown> = {}) {
  return { name, version, owner: 'team-people', description: `${name} of the people`, subgraph: { url, schema: `./${name}.graphql` }, ...extra };
}

describe('releases: several extensions published together', () => {
  let graft: Awaited<ReturnType<typeof startGraftWithExamples>>;
  let accounts: RecordingSubgraph;
  let profiles: RecordingSubgraph;

  const release = (body: unknown, token = graft.admin) => http<any>(`${graft.server.url}/admin/releases`, { token, body });
  const me = async () => graphql(graft.server, '{ me { id name nickname title greeting } }', { token: await exampleUserToken(graft.server) });

  before(async () => {
    graft = await startGraftWithExamples();
    accounts = await startRecordingSubgraph(ACCOUNTS_SDL, {
      Query: { me: () => USERS['u1'] },
      User: {
        __resolveReference: (ref: { id: string }) => USERS[ref.id],
        title: (user: { nickname: string }) => `Dr. ${user.nickname}`,
      },
    });
    profiles = await startRecordingSubgraph(PROFILES_SDL, {
      User: {
        __resolveReference: (ref: { id: string; name?: string }) => ({ ...USERS[ref.id], ...ref }),
        greeting: (user: { name: string }) => `Hello, ${user.name}`,
      },
    });
  });
  after(async () => {
    await accounts?.close();
    await profiles?.close();
    await graft?.close();
  });

  test('a pair with @external both ways is refused one at a time and released together, registered in the same transaction', async () => {
    for (const [name, url, sdl] of [['accounts', accounts.url, ACCOUNTS_SDL], ['profiles', profiles.url, PROFILES_SDL]] as const) {
      const alone = await release({ extensions: [{ manifest: manifest(name, url, '1.0.0'), sdl }] });
      assert.equal(alone.status, 422, `${name} alone: ${JSON.stringify(alone.body)}`);
      assert.equal(alone.body['code'], 'COMPOSITION_FAILED');
      assert.ok(alone.body['details'].compositionErrors.some((e: any) => e.code === 'EXTERNAL_MISSING_ON_BASE'));
      const registered = await http<any>(`${graft.server.url}/admin/extensions/${name}`, { token: graft.admin });
      assert.equal(registered.status, 404, 'a refused release registers nothing either');
    }
    const before = await http<any>(`${graft.server.url}/admin/supergraph`, { token: graft.admin });

    const released = await release({
      extensions: [
        { manifest: manifest('accounts', accounts.url, '1.0.0'), sdl: ACCOUNTS_SDL },
        { manifest: manifest('profiles', profiles.url, '1.0.0'), sdl: PROFILES_SDL },
      ],
      reason: 'accounts and profiles need each other',
    });
    assert.equal(released.status, 201, JSON.stringify(released.body));
    const { body } = released;
    assert.ok(body.supergraph.id > before.body.id, 'a new supergraph');
    assert.deepEqual(body.versions.map((v: any) => `${v.version.extension}@${v.version.version}`), ['accounts@1.0.0', 'profiles@1.0.0']);
    assert.deepEqual(body.versions.map((v: any) => v.version.supergraphId), [body.supergraph.id, body.supergraph.id]);
    assert.deepEqual(body.versions.map((v: any) => v.extension.activeVersion), ['1.0.0', '1.0.0']);
    assert.deepEqual(body.release.members, [{ extension: 'accounts', version: '1.0.0' }, { extension: 'profiles', version: '1.0.0' }]);
    assert.deepEqual(
      body.supergraph.members.map((m: any) => m.extension).sort(),
      ['accounts', 'crm', 'inventory', 'orders', 'profiles'],
      'composed with the rest of the active graph',
    );

    const answer = await me();
    assert.deepEqual(answer.body, { data: { me: { id: 'u1', name: 'Ada', nickname: 'ada', title: 'Dr. ada', greeting: 'Hello, Ada' } } });
    const cross = await graphql(graft.server, CROSS_EXTENSION_QUERY, { token: await exampleUserToken(graft.server) });
    assert.equal(cross.body.errors, undefined, 'the rest of the graph still answers');

    // One entry in the audit log of each member, listing the versions.
    for (const name of ['accounts', 'profiles']) {
      const audit = await http<any>(`${graft.server.url}/admin/audit?extension=${name}&limit=1`, { token: graft.admin });
      const [event] = audit.body.events;
      assert.equal(event.action, 'release');
      assert.deepEqual(event.details.versions, body.release.members);
      assert.equal(event.details.reason, 'accounts and profiles need each other');
    }
    const changelog = await http<any>(`${graft.server.url}/admin/extensions/profiles/changelog`, { token: graft.admin });
    assert.deepEqual(changelog.body.entries[0].release, { id: body.release.id, reason: 'accounts and profiles need each other', members: body.release.members, retired: [] });
    const listed = await http<any>(`${graft.server.url}/admin/releases?extension=accounts`, { token: graft.admin });
    assert.deepEqual(listed.body.releases.map((r: any) => r.id), [body.release.id]);
  });

  test('a refused release lists every finding of every member, stores nothing, and the old graph keeps serving', async () => {
    const supergraph = await http<any>(`${graft.server.url}/admin/supergraph`, { token: graft.admin });
    const audit = await http<any>(`${graft.server.url}/admin/audit?limit=1000`, { token: graft.admin });
    const refused = await release({
      extensions: [
        // accounts asks for a scope it is not granted; profiles changes a type crm owns.
        { manifest: manifest('accounts', accounts.url, '1.1.0'), sdl: ACCOUNTS_SDL.replace('title: String', 'title: String @requiresScopes(scopes: [["accounts:admin"]])').replace('"@requires"]', '"@requires", "@requiresScopes"]') },
        { manifest: manifest('profiles', profiles.url, '1.1.0'), sdl: `${PROFILES_SDL}\ntype Customer @key(fields: "id") { id: ID! name: Int }` },
      ],
    });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'GRANT_NOT_ALLOWED', 'the first step that refused');
    const findings = refused.body.details.findings as Array<{ code: string; extension: string }>;
    assert.deepEqual(
      [...new Set(findings.map((f) => `${f.extension}:${f.code}`))].sort(),
      ['accounts:GRANT_NOT_ALLOWED', 'profiles:COMPOSITION_FAILED'],
    );
    assert.match(refused.body.message, /\[accounts\] GRANT_NOT_ALLOWED/);
    assert.match(refused.body.message, /\[profiles\] COMPOSITION_FAILED/);

    const after = await http<any>(`${graft.server.url}/admin/supergraph`, { token: graft.admin });
    assert.equal(after.body.id, supergraph.body.id, 'the same supergraph is active');
    assert.equal(after.body.serving, true);
    const auditAfter = await http<any>(`${graft.server.url}/admin/audit?limit=1000`, { token: graft.admin });
    assert.equal(auditAfter.body.events.length, audit.body.events.length, 'nothing was recorded');
    for (const name of ['accounts', 'profiles']) {
      const versions = await http<any>(`${graft.server.url}/admin/extensions/${name}/versions`, { token: graft.admin });
      assert.deepEqual(versions.body.versions.map((v: any) => v.version), ['1.0.0']);
    }
    const answer = await me();
    assert.equal(answer.body.errors, undefined);
    assert.equal((answer.body.data as any).me.greeting, 'Hello, Ada');
  });

  test('bad input: an empty release, an extension twice, bad members (all listed), and a caller without every publish scope', async () => {
    const empty = await release({ extensions: [] });
    assert.deepEqual([empty.status, empty.body.code], [400, 'BAD_REQUEST']);
    assert.match(empty.body.message, /empty/);

    const twice = await release({
      extensions: [
        { manifest: manifest('accounts', accounts.url, '1.2.0'), sdl: ACCOUNTS_SDL },
        { manifest: manifest('accounts', accounts.url, '1.3.0'), sdl: ACCOUNTS_SDL },
      ],
    });
    assert.deepEqual([twice.status, twice.body.code, twice.body.extension], [400, 'BAD_REQUEST', 'accounts']);
    assert.match(twice.body.message, /"accounts" appears more than once/);

    const bad = await release({
      extensions: [
        { manifest: { name: 'accounts', version: '1.2.0' }, sdl: ACCOUNTS_SDL },
        { manifest: manifest('profiles', profiles.url, 'not-a-version'), sdl: PROFILES_SDL },
        { manifest: manifest('crm', 'http://127.0.0.1:1/graphql', '9.0.0'), sdl: 'type Query {' },
      ],
    });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.deepEqual(bad.body.details.findings.map((f: any) => f.extension), ['accounts', 'profiles'], 'every member whose manifest is invalid');
    assert.deepEqual(bad.body.details.findings.map((f: any) => f.code), ['MANIFEST_INVALID', 'MANIFEST_INVALID']);

    const ownerOfOne = await tokenFor(graft.server, 'accounts-ci', ['graft:publish:accounts']);
    const pair = {
      extensions: [
        { manifest: manifest('accounts', accounts.url, '1.2.0'), sdl: ACCOUNTS_SDL },
        { manifest: manifest('profiles', profiles.url, '1.2.0'), sdl: PROFILES_SDL },
      ],
    };
    const forbidden = await release(pair, ownerOfOne);
    assert.deepEqual([forbidden.status, forbidden.body.code, forbidden.body.extension], [403, 'FORBIDDEN', 'profiles']);
    const ownerOfBoth = await tokenFor(graft.server, 'people-ci', ['graft:publish:accounts', 'graft:publish:profiles']);
    const allowed = await release(pair, ownerOfBoth);
    assert.equal(allowed.status, 201, JSON.stringify(allowed.body));
    assert.equal(allowed.body.release.actor, 'people-ci');
  });

  test('graft publish with several --manifest publishes them as one release', async () => {
    const dir = await tempDir();
    try {
      const paths: string[] = [];
      for (const [name, url, sdl] of [['accounts', accounts.url, ACCOUNTS_SDL], ['profiles', profiles.url, PROFILES_SDL.replace('greeting: String @requires(fields: "name")', 'greeting: String @requires(fields: "name")\n  motto: String')]] as const) {
        await mkdir(join(dir.path, name));
        await writeFile(join(dir.path, name, `${name}.graphql`), sdl);
        await writeFile(join(dir.path, name, 'graft.json'), JSON.stringify(manifest(name, url, '1.3.0')));
        paths.push(join(dir.path, name, 'graft.json'));
      }
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [join(REPO_ROOT, 'bin', 'graft.js'), 'publish', '--manifest', paths[0]!, '--manifest', paths[1]!, '--registry', graft.server.url, '--reason', 'motto', '--json'],
        { env: { ...process.env, GRAFT_TOKEN: graft.admin }, encoding: 'utf8' },
      );
      const result = JSON.parse(stdout) as { release: { members: unknown[]; reason: string }; versions: Array<{ report: { verdict: string } }> };
      assert.deepEqual(result.release.members, [{ extension: 'accounts', version: '1.3.0' }, { extension: 'profiles', version: '1.3.0' }]);
      assert.equal(result.release.reason, 'motto');
      assert.deepEqual(result.versions.map((v) => v.report.verdict), ['safe', 'safe']);
    } finally {
      await dir.remove();
    }
  });
});
