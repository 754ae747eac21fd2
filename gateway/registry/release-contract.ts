// The store contract of releases (RegistryStore.applyRelease / listReleases): all of a
// release in one transaction or nothing, the same refusals as a publish, one release row and
// one audit event. Written against the RegistryStore interface only, so the same contract
// runs against every store (releases-store.test.ts: SQLite; postgres-store.test.ts):
// `releaseContract` takes how to open a fresh, empty one.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import type { ExtensionManifest } from '../manifest/index.js';
import type { NewRelease, NewReleaseMember, RegistryStore } from './types.js';

function manifest(name: string, version: string): ExtensionManifest {
  return { name, version, owner: 'team-a', subgraph: { url: `https://${name}.example/graphql`, schema: './schema.graphql' } };
}

function member(extension: string, version: string, extra: Partial<NewReleaseMember> = {}): NewReleaseMember {
  return { extension, version, manifest: manifest(extension, version), sdl: `type Query { ${extension}: String }`, ...extra };
}

function release(members: NewReleaseMember[], extra: Partial<NewRelease> = {}): NewRelease {
  const all = members.map((m) => ({ extension: m.extension, version: m.version }));
  return {
    members,
    supergraph: { sdl: `# ${all.map((m) => `${m.extension}@${m.version}`).join(' ')}`, apiSdl: 'type Query { a: String }', members: all },
    actor: 'alice',
    ...extra,
  };
}

async function rejectsWith(promise: Promise<unknown>, code: GraftErrorCode, messagePart?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof GraftError, `expected a GraftError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (messagePart) assert.match(error.message, messagePart);
    return true;
  });
}

/** What a refused release must leave exactly as it was, read through the interface. */
async function snapshotOf(store: RegistryStore, extensions: string[]): Promise<unknown> {
  return {
    changeId: await store.lastChangeId(),
    supergraph: (await store.getActiveSupergraph())?.id,
    releases: (await store.listReleases()).length,
    audit: (await store.listAuditEvents()).length,
    extensions: await store.listExtensions(),
    versions: await Promise.all(extensions.map((name) => store.listVersions(name))),
  };
}

export function releaseContract(storeName: string, openStore: () => Promise<RegistryStore>): void {
  describe(`releases (${storeName})`, () => {
    test('a release stores every version, registers the new extension and records one release and one audit event', async () => {
      const store = await openStore();
      await store.createExtension({ name: 'crm', owner: 'team-a', description: '' }, 'alice');
      const stored = await store.applyRelease(
        release([member('crm', '1.0.0', { report: { verdict: 'safe' } }), member('orders', '1.0.0', { register: { name: 'orders', owner: 'team-b', description: 'Orders' }, directiveModules: { './d.js': 'export default {}' } })], {
          reason: 'orders needs crm',
          auditDetails: { verdicts: { crm: 'safe' } },
        }),
      );

      assert.deepEqual(stored.release.members, [{ extension: 'crm', version: '1.0.0' }, { extension: 'orders', version: '1.0.0' }]);
      assert.deepEqual(stored.release.retired, []);
      assert.equal(stored.release.reason, 'orders needs crm');
      assert.equal(stored.release.actor, 'alice');
      assert.equal(stored.release.supergraphId, stored.supergraph.id);
      assert.deepEqual(stored.versions.map((v) => [v.extension, v.version, v.supergraphId, v.publishedBy]), [
        ['crm', '1.0.0', stored.supergraph.id, 'alice'],
        ['orders', '1.0.0', stored.supergraph.id, 'alice'],
      ]);
      assert.deepEqual(stored.extensions.map((e) => [e.name, e.activeVersion, e.owner]), [
        ['crm', '1.0.0', 'team-a'],
        ['orders', '1.0.0', 'team-b'],
      ]);
      assert.deepEqual((await store.getVersion('orders', '1.0.0'))?.directiveModules, { './d.js': 'export default {}' });
      assert.deepEqual((await store.getVersion('crm', '1.0.0'))?.report, { verdict: 'safe' });
      assert.equal((await store.getActiveSupergraph())?.id, stored.supergraph.id);
      assert.deepEqual(await store.listReleases(), [stored.release]);

      const [event, register] = await store.listAuditEvents();
      assert.equal(register?.action, 'register', 'the registration of crm before the release');
      assert.equal(event?.action, 'release');
      assert.equal(event?.extension, undefined, 'a release of several extensions belongs to none of them alone');
      assert.deepEqual(event?.details['versions'], stored.release.members);
      assert.deepEqual(event?.details['registered'], [{ extension: 'orders', owner: 'team-b', description: 'Orders' }]);
      assert.equal(event?.details['release'], stored.release.id);
      assert.equal(event?.details['reason'], 'orders needs crm');
      assert.deepEqual(event?.details['verdicts'], { crm: 'safe' });
      assert.deepEqual((await store.listAuditEvents({ extension: 'orders' })).map((e) => e.action), ['release'], 'the release is in the audit log of each member');
      assert.deepEqual((await store.listAuditEvents({ extension: 'crm' })).map((e) => e.action), ['release', 'register']);
      assert.deepEqual(await store.listReleases({ extension: 'orders' }), [stored.release]);
      assert.deepEqual(await store.listReleases({ extension: 'nobody' }), []);
    });

    test('a release of one version is recorded as a publish of that extension', async () => {
      const store = await openStore();
      const stored = await store.applyRelease(release([member('crm', '1.0.0', { register: { name: 'crm', owner: 'o', description: '' } })]));
      const events = await store.listAuditEvents();
      assert.deepEqual(events.map((e) => [e.action, e.extension, e.details['version']]), [['publish', 'crm', '1.0.0']], 'registered in the same event');
      assert.deepEqual(stored.release.members, [{ extension: 'crm', version: '1.0.0' }]);
    });

    test('one refused member refuses the whole release and stores nothing of any member', async () => {
      const store = await openStore();
      const first = await store.applyRelease(release([member('crm', '1.0.0', { register: { name: 'crm', owner: 'o', description: '' } })]));
      const before = await snapshotOf(store, ['crm', 'orders']);
      const basedOn = first.supergraph.id;
      const cases: Array<[NewRelease, GraftErrorCode, RegExp]> = [
        [release([member('orders', '1.0.0', { register: { name: 'orders', owner: 'o', description: '' } }), member('crm', '1.0.0')], { supergraph: { sdl: 's', apiSdl: 'a', members: [], basedOn } }), GraftErrorCode.VERSION_EXISTS, /crm/],
        [release([member('orders', '1.0.0', { register: { name: 'orders', owner: 'o', description: '' } }), member('crm', '0.9.0')]), GraftErrorCode.VERSION_NOT_GREATER, /crm/],
        [release([member('crm', '2.0.0'), member('orders', '1.0.0')]), GraftErrorCode.EXTENSION_NOT_FOUND, /orders/],
        [release([member('crm', '2.0.0', { register: { name: 'crm', owner: 'o', description: '' } })]), GraftErrorCode.EXTENSION_NAME_TAKEN, /crm/],
        [release([member('crm', '2.0.0'), member('orders', 'two', { register: { name: 'orders', owner: 'o', description: '' } })]), GraftErrorCode.VERSION_INVALID, /two/],
        [release([member('crm', '2.0.0'), member('crm', '3.0.0')]), GraftErrorCode.BAD_REQUEST, /"crm" appears more than once/],
        [release([]), GraftErrorCode.BAD_REQUEST, /at least one/],
        [release([member('crm', '2.0.0')], { retire: ['crm'] }), GraftErrorCode.BAD_REQUEST, /more than once/],
        [release([member('crm', '2.0.0')], { retire: ['ghost'] }), GraftErrorCode.EXTENSION_NOT_FOUND, /ghost/],
        [release([member('crm', '2.0.0')], { supergraph: { sdl: 's', apiSdl: 'a', members: [], basedOn: null } }), GraftErrorCode.REGISTRY_CONFLICT, /send the request again/],
      ];
      for (const [input, code, message] of cases) {
        await rejectsWith(store.applyRelease(input), code, message);
        assert.deepEqual(await snapshotOf(store, ['crm', 'orders']), before, `nothing stored after ${code}`);
      }
    });

    test('a release may publish some extensions and retire others; a retirement alone is recorded as a retire', async () => {
      const store = await openStore();
      await store.applyRelease(release([member('crm', '1.0.0', { register: { name: 'crm', owner: 'o', description: '' } }), member('legacy', '1.0.0', { register: { name: 'legacy', owner: 'o', description: '' } }), member('old', '1.0.0', { register: { name: 'old', owner: 'o', description: '' } })]));
      const swap = await store.applyRelease(release([member('crm', '1.1.0')], { retire: ['legacy'] }));
      assert.deepEqual(swap.release.retired, ['legacy']);
      assert.deepEqual(swap.extensions.map((e) => [e.name, e.status, e.activeVersion]), [
        ['crm', 'active', '1.1.0'],
        ['legacy', 'retired', '1.0.0'],
      ]);
      const [swapEvent] = await store.listAuditEvents({ limit: 1 });
      assert.deepEqual([swapEvent?.action, swapEvent?.details['retired']], ['release', ['legacy']]);

      const retired = await store.applyRelease(release([], { retire: ['old'] }));
      const [retireEvent] = await store.listAuditEvents({ limit: 1 });
      assert.deepEqual([retireEvent?.action, retireEvent?.extension, retireEvent?.details['supergraphId']], ['retire', 'old', retired.supergraph.id]);
      await rejectsWith(store.applyRelease(release([], { retire: ['old'] })), GraftErrorCode.BAD_REQUEST, /already retired/);
      assert.deepEqual((await store.listReleases({ limit: 2 })).map((r) => r.retired), [['old'], ['legacy']], 'newest first');
    });
  });
}

