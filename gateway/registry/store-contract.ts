// The RegistryStore contract, as tests: every store (SQLite, PostgreSQL) runs the same
// suite through a harness that opens it, so the invariants hold whichever database is behind
// the gateway: one-transaction writes, semver order, immutability enforced by the database
// itself (even against raw SQL), durability across reopening, the optimistic basedOn check,
// the change counter, change reports and registered operations. What only one store has
// (SQLite's WAL file, its busy timeout; PostgreSQL's LISTEN/NOTIFY) stays in its own test file.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import type { ExtensionManifest } from '../manifest/index.js';
import { observeRegistryWrites } from './observed.js';
import type { NewVersion, RegistryStore } from './types.js';

export type ContractTables = Record<'extensions' | 'extension_versions' | 'supergraphs' | 'audit_events', number>;

/** How the suite reaches one store: a fresh, empty registry per test. */
export interface RegistryStoreHarness {
  /** Before each test: a new empty registry. */
  setUp(): Promise<void>;
  /** After each test: closes what open() opened and removes the registry. */
  tearDown(): Promise<void>;
  /** A store on this test's registry; each call is another connection (another gateway process). */
  open(): Promise<RegistryStore>;
  /** Row counts read over a separate raw connection, so the store's own code is not trusted. */
  countRows(): Promise<ContractTables>;
  /** Runs raw SQL over a separate connection, bypassing the store; rejects with the database's error. */
  exec(sql: string): Promise<void>;
  /** Makes the database fail ('injected failure') every audit insert of `action` until the returned function runs. */
  failAuditInsert(action: string): Promise<() => Promise<void>>;
}

export function manifest(name: string, version: string): ExtensionManifest {
  return { name, version, owner: 'team-a', subgraph: { url: 'https://a.example/graphql', schema: './schema.graphql' } };
}

export function newVersion(extension: string, version: string, publishedBy = 'alice'): NewVersion {
  const sdl = `type Query { ${extension.replaceAll('-', '_')}: String }`;
  return {
    extension,
    version,
    manifest: manifest(extension, version),
    sdl,
    publishedBy,
    supergraph: { sdl: `# supergraph ${extension}@${version}\n${sdl}`, apiSdl: sdl, members: [{ extension, version }] },
  };
}

export async function rejectsWith(promise: Promise<unknown>, code: GraftErrorCode, messagePart?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof GraftError, `expected a GraftError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (messagePart) assert.match(error.message, messagePart);
    return true;
  });
}

/** Defines the contract's tests for one store (call at the top level of its test file). */
export function registryStoreContract(storeName: string, harness: RegistryStoreHarness, options: { skip?: string | undefined } = {}): void {
  const open = () => harness.open();
  const countRows = () => harness.countRows();

  describe(`RegistryStore contract: ${storeName}`, { skip: options.skip ?? false }, () => {
  beforeEach(() => harness.setUp());
  afterEach(() => harness.tearDown());

  describe('extensions', () => {
    test('a registered extension can be read back and listed, with no active version yet', async () => {
      const store = await open();
      const created = await store.createExtension({ name: 'orders', owner: 'team-a', description: 'Orders' }, 'alice');
      await store.createExtension({ name: 'billing', owner: 'team-b', description: 'Billing' }, 'bob');

      assert.equal(created.status, 'active');
      assert.equal(created.activeVersion, undefined);
      assert.ok(!Number.isNaN(Date.parse(created.createdAt)));
      assert.equal(created.createdAt, created.updatedAt);
      assert.deepEqual(await store.getExtension('orders'), created);
      assert.equal(await store.getExtension('nope'), undefined);
      assert.deepEqual((await store.listExtensions()).map((e) => e.name), ['billing', 'orders']);

      const [register] = await store.listAuditEvents({ extension: 'orders' });
      assert.equal(register?.action, 'register');
      assert.equal(register?.actor, 'alice');
    });

    test('registering a taken name is refused with EXTENSION_NAME_TAKEN and changes nothing', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      const before = await countRows();
      await rejectsWith(
        store.createExtension({ name: 'orders', owner: 'team-z', description: '' }, 'mallory'),
        GraftErrorCode.EXTENSION_NAME_TAKEN,
        /pick another name.*publish a new version/,
      );
      assert.deepEqual(await countRows(), before);
      assert.equal((await store.getExtension('orders'))?.owner, 'team-a');
    });

    test('setStatus changes the status and records pause / resume / retire audit events', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      const paused = await store.setStatus('orders', 'paused', 'ops');
      assert.equal(paused.status, 'paused');
      assert.deepEqual(await store.getExtension('orders'), paused);
      await store.setStatus('orders', 'active', 'ops');
      await store.setStatus('orders', 'retired', 'ops');

      const events = await store.listAuditEvents({ extension: 'orders' });
      assert.deepEqual(
        events.map((e) => [e.action, e.actor, e.details['from'], e.details['to']]),
        [
          ['retire', 'ops', 'active', 'retired'],
          ['resume', 'ops', 'paused', 'active'],
          ['pause', 'ops', 'active', 'paused'],
          ['register', 'alice', undefined, undefined],
        ],
      );
      assert.equal((await store.listAuditEvents({ extension: 'orders', limit: 1 })).length, 1);
    });

    test('setStatus on an unknown extension is refused with EXTENSION_NOT_FOUND', async () => {
      const store = await open();
      await rejectsWith(store.setStatus('ghost', 'paused', 'ops'), GraftErrorCode.EXTENSION_NOT_FOUND, /register it/);
      assert.equal((await countRows()).audit_events, 0);
    });
  });

  describe('publishing versions', () => {
    test('publish stores the version, its supergraph, the active version and a publish audit event', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      const input = newVersion('orders', '1.0.0');
      const { version, supergraph } = await store.publishVersion(input);

      assert.equal(supergraph.hash, createHash('sha256').update(input.supergraph.sdl).digest('hex'));
      assert.deepEqual(supergraph.members, [{ extension: 'orders', version: '1.0.0' }]);
      assert.equal(version.supergraphId, supergraph.id);
      assert.deepEqual(version.manifest, input.manifest);
      assert.deepEqual(await store.getVersion('orders', '1.0.0'), version);
      assert.deepEqual(await store.getActiveSupergraph(), supergraph);

      const extension = await store.getExtension('orders');
      assert.equal(extension?.activeVersion, '1.0.0');
      assert.equal(extension?.updatedAt, version.publishedAt);

      const [publish] = await store.listAuditEvents({ limit: 1 });
      assert.equal(publish?.action, 'publish');
      assert.equal(publish?.actor, 'alice');
      assert.equal(publish?.extension, 'orders');
      // A publish is a release of one: its event names the release and lists its one version.
      assert.deepEqual(publish?.details, {
        release: 1,
        version: '1.0.0',
        versions: [{ extension: 'orders', version: '1.0.0' }],
        retired: [],
        supergraphId: supergraph.id,
        hash: supergraph.hash,
      });
    });

    test('republishing a stored version is refused with VERSION_EXISTS', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      await store.publishVersion(newVersion('orders', '1.0.0'));
      await rejectsWith(store.publishVersion(newVersion('orders', '1.0.0')), GraftErrorCode.VERSION_EXISTS, /bump the version/);
    });

    test('versions must be semver-greater than every stored version, not string-greater (1.2.0 after 1.10.0 is refused)', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      await store.publishVersion(newVersion('orders', '1.9.0'));
      await store.publishVersion(newVersion('orders', '1.10.0')); // string order would call this older
      await rejectsWith(
        store.publishVersion(newVersion('orders', '1.2.0')),
        GraftErrorCode.VERSION_NOT_GREATER,
        /latest published version 1\.10\.0.*above 1\.10\.0/,
      );
      await rejectsWith(store.publishVersion(newVersion('orders', '1.10.0-rc.1')), GraftErrorCode.VERSION_NOT_GREATER);
      assert.equal((await store.getExtension('orders'))?.activeVersion, '1.10.0');
    });

    test('listVersions returns newest first in semver order', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      for (const v of ['0.9.0', '1.0.0-beta.1', '1.0.0', '1.2.0', '1.10.0']) await store.publishVersion(newVersion('orders', v));
      assert.deepEqual(
        (await store.listVersions('orders')).map((v) => v.version),
        ['1.10.0', '1.2.0', '1.0.0', '1.0.0-beta.1', '0.9.0'],
      );
      assert.deepEqual(await store.listVersions('ghost'), []);
    });

    test('publishing to an unknown extension is refused with EXTENSION_NOT_FOUND and stores nothing', async () => {
      const store = await open();
      await rejectsWith(store.publishVersion(newVersion('ghost', '1.0.0')), GraftErrorCode.EXTENSION_NOT_FOUND, /register it/);
      assert.deepEqual(await countRows(), { extensions: 0, extension_versions: 0, supergraphs: 0, audit_events: 0 });
    });

    test('a version that is not canonical semver, or disagrees with its manifest, is refused before anything is stored', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      const before = await countRows();
      await rejectsWith(store.publishVersion({ ...newVersion('orders', 'v1.0.0') }), GraftErrorCode.VERSION_INVALID, /e\.g\. 1\.2\.0/);
      await rejectsWith(
        store.publishVersion({ ...newVersion('orders', '1.0.0'), manifest: manifest('orders', '2.0.0') }),
        GraftErrorCode.VERSION_INVALID,
      );
      await rejectsWith(
        store.publishVersion({ ...newVersion('orders', '1.0.0'), manifest: manifest('billing', '1.0.0') }),
        GraftErrorCode.NAME_MISMATCH,
      );
      assert.deepEqual(await countRows(), before);
    });

    test('refused publishes leave every table unchanged', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      await store.publishVersion(newVersion('orders', '2.0.0'));
      const before = await countRows();
      const extensionBefore = await store.getExtension('orders');
      const supergraphBefore = await store.getActiveSupergraph();

      await rejectsWith(store.publishVersion(newVersion('orders', '2.0.0')), GraftErrorCode.VERSION_EXISTS);
      await rejectsWith(store.publishVersion(newVersion('orders', '1.5.0')), GraftErrorCode.VERSION_NOT_GREATER);

      assert.deepEqual(await countRows(), before);
      assert.deepEqual(await store.getExtension('orders'), extensionBefore);
      assert.deepEqual(await store.getActiveSupergraph(), supergraphBefore);
    });

    test('a publish that fails after its first writes is rolled back entirely (one transaction)', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      await store.publishVersion(newVersion('orders', '1.0.0'));
      const before = await countRows();

      // Make the LAST write of a publish (the audit event) fail, after the supergraph,
      // version and active-version writes have already run inside the transaction.
      const restore = await harness.failAuditInsert('publish');
      await assert.rejects(store.publishVersion(newVersion('orders', '1.1.0')), /injected failure/);
      await restore();

      assert.deepEqual(await countRows(), before);
      assert.equal((await store.getExtension('orders'))?.activeVersion, '1.0.0');
      assert.equal(await store.getVersion('orders', '1.1.0'), undefined);
      // And the store is still usable: the same version can now be published.
      await store.publishVersion(newVersion('orders', '1.1.0'));
      assert.equal((await store.getExtension('orders'))?.activeVersion, '1.1.0');
    });

    test('published versions, supergraphs and audit events cannot be updated or deleted, even with raw SQL', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      await store.publishVersion(newVersion('orders', '1.0.0'));
      const attempts = [
        `UPDATE extension_versions SET sdl = 'type Query { evil: String }'`,
        `UPDATE extension_versions SET version = '1.0.1'`,
        `DELETE FROM extension_versions`,
        `UPDATE supergraphs SET sdl = 'evil'`,
        `DELETE FROM supergraphs`,
        `UPDATE audit_events SET actor = 'someone-else'`,
        `DELETE FROM audit_events`,
      ];
      for (const sql of attempts) {
        await assert.rejects(harness.exec(sql), /immutable|append-only/, sql);
      }
      assert.equal((await store.getVersion('orders', '1.0.0'))?.sdl, newVersion('orders', '1.0.0').sdl);
    });

    test('saveSupergraph stores a newer supergraph that becomes the active one, with an audit event', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      const { supergraph: first } = await store.publishVersion(newVersion('orders', '1.0.0'));
      const saved = await store.saveSupergraph({ sdl: 'type Query { x: Int }', apiSdl: 'type Query { x: Int }', members: [] }, 'ops', 'recompose');
      assert.ok(saved.id > first.id);
      assert.deepEqual(await store.getActiveSupergraph(), saved);
      const [event] = await store.listAuditEvents({ limit: 1 });
      assert.equal(event?.action, 'recompose');
      assert.equal(event?.extension, undefined);
      assert.equal(event?.details['supergraphId'], saved.id);
    });
  });

  describe('durability', () => {
    test('everything stored survives closing and reopening the store (restart)', async () => {
      const first = await open();
      await first.createExtension({ name: 'orders', owner: 'team-a', description: 'Orders' }, 'alice');
      const { version, supergraph } = await first.publishVersion(newVersion('orders', '1.0.0'));
      await first.setStatus('orders', 'paused', 'ops');
      const extension = await first.getExtension('orders');
      const audit = await first.listAuditEvents();
      await first.close();

      const second = await open();
      assert.deepEqual(await second.getExtension('orders'), extension);
      assert.deepEqual(await second.getVersion('orders', '1.0.0'), version);
      assert.deepEqual(await second.getActiveSupergraph(), supergraph);
      assert.deepEqual(await second.listAuditEvents(), audit);
      // The semver rule still holds against versions stored before the restart.
      await rejectsWith(second.publishVersion(newVersion('orders', '0.9.0')), GraftErrorCode.VERSION_NOT_GREATER);
    });

    test('a second store on the same registry sees the first one\'s writes (two connections)', async () => {
      const writer = await open();
      const reader = await open();
      await writer.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      await writer.publishVersion(newVersion('orders', '1.0.0'));
      assert.equal((await reader.getExtension('orders'))?.activeVersion, '1.0.0');
      await rejectsWith(reader.publishVersion(newVersion('orders', '1.0.0')), GraftErrorCode.VERSION_EXISTS);
    });
  });

  describe('several processes on one registry (GRAFT_WORKERS, replicas)', () => {
    const retireInput = (basedOn: number | null) => ({ sdl: 'type Query { x: Int }', apiSdl: 'type Query { x: Int }', members: [], basedOn });

    test('a publish composed against the active supergraph is stored; one composed against an older one is refused with REGISTRY_CONFLICT and stores nothing', async () => {
      // Two stores on one registry: two gateway processes, each with its own connection.
      const first = await open();
      const second = await open();
      await first.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      await first.createExtension({ name: 'billing', owner: 'team-b', description: '' }, 'bob');
      const { supergraph: base } = await first.publishVersion(newVersion('orders', '1.0.0'));

      // Both processes compose against #base; the first to write wins.
      const winner = await first.publishVersion({ ...newVersion('orders', '1.1.0'), supergraph: { ...newVersion('orders', '1.1.0').supergraph, basedOn: base.id } });
      const before = await countRows();
      await assert.rejects(
        second.publishVersion({ ...newVersion('billing', '1.0.0'), supergraph: { ...newVersion('billing', '1.0.0').supergraph, basedOn: base.id } }),
        (error: unknown) => {
          assert.ok(error instanceof GraftError);
          assert.equal(error.code, GraftErrorCode.REGISTRY_CONFLICT);
          assert.equal(error.httpStatus, 409);
          assert.match(error.message, /send the request again/);
          assert.deepEqual(error.details, { basedOnSupergraphId: base.id, activeSupergraphId: winner.supergraph.id });
          return true;
        },
      );
      assert.deepEqual(await countRows(), before, 'the refused publish wrote nothing, not even an audit event');
      assert.equal((await second.getExtension('billing'))?.activeVersion, undefined);

      // Composed again against the supergraph that is active now, it is stored.
      const retried = await second.publishVersion({ ...newVersion('billing', '1.0.0'), supergraph: { ...newVersion('billing', '1.0.0').supergraph, basedOn: winner.supergraph.id } });
      assert.equal((await first.getActiveSupergraph())?.id, retried.supergraph.id);
    });

    test('a first publish composed against an empty registry conflicts once another process stored a supergraph', async () => {
      const first = await open();
      const second = await open();
      await first.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      await first.createExtension({ name: 'billing', owner: 'team-b', description: '' }, 'bob');
      await first.publishVersion({ ...newVersion('orders', '1.0.0'), supergraph: { ...newVersion('orders', '1.0.0').supergraph, basedOn: null } });
      await rejectsWith(
        second.publishVersion({ ...newVersion('billing', '1.0.0'), supergraph: { ...newVersion('billing', '1.0.0').supergraph, basedOn: null } }),
        GraftErrorCode.REGISTRY_CONFLICT,
        /an empty registry/,
      );
    });

    test('retire and saveSupergraph check the supergraph they were composed against too', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      const { supergraph: first } = await store.publishVersion(newVersion('orders', '1.0.0'));
      const { supergraph: second } = await store.publishVersion(newVersion('orders', '1.1.0'));
      const before = await countRows();

      await rejectsWith(store.retireExtension('orders', retireInput(first.id), 'ops'), GraftErrorCode.REGISTRY_CONFLICT);
      await rejectsWith(store.saveSupergraph(retireInput(first.id), 'ops', 'recompose'), GraftErrorCode.REGISTRY_CONFLICT);
      assert.deepEqual(await countRows(), before);
      assert.equal((await store.getExtension('orders'))?.status, 'active');

      const retired = await store.retireExtension('orders', retireInput(second.id), 'ops');
      assert.equal(retired.extension.status, 'retired');
    });

    test('without basedOn nothing is checked (one process, tools that write on purpose)', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      await store.publishVersion(newVersion('orders', '1.0.0'));
      await store.publishVersion(newVersion('orders', '1.1.0'));
      assert.equal((await store.getExtension('orders'))?.activeVersion, '1.1.0');
    });

    test('lastChangeId moves with every committed write, not with reads or refused writes', async () => {
      const store = await open();
      const reader = await open();
      assert.equal(await store.lastChangeId(), 0, 'an empty registry');
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      const afterRegister = await reader.lastChangeId();
      assert.ok(afterRegister > 0);
      await store.publishVersion(newVersion('orders', '1.0.0'));
      const afterPublish = await reader.lastChangeId();
      assert.ok(afterPublish > afterRegister);
      await store.listExtensions();
      await rejectsWith(store.publishVersion(newVersion('orders', '1.0.0')), GraftErrorCode.VERSION_EXISTS);
      assert.equal(await reader.lastChangeId(), afterPublish);
      await store.setTenants('orders', ['t1'], 'ops');
      assert.ok((await reader.lastChangeId()) > afterPublish);
    });

    test('observeRegistryWrites reports each committed write, and nothing for reads, refusals or writes that changed nothing', async () => {
      const writes: string[] = [];
      const store = observeRegistryWrites(await open(), (write) => writes.push(write));
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      await store.publishVersion(newVersion('orders', '1.0.0'));
      await rejectsWith(store.publishVersion(newVersion('orders', '1.0.0')), GraftErrorCode.VERSION_EXISTS);
      await store.listExtensions();
      await store.getActiveSupergraph();
      await store.setStatus('orders', 'paused', 'ops');
      await store.setTenants('orders', null, 'ops');
      const operation = { name: 'Q', document: 'query Q { orders }', hash: 'a'.repeat(64), normalizedHash: 'b'.repeat(64) };
      await store.saveOperation(operation, 'ops');
      await store.saveOperation(operation, 'ops'); // unchanged
      await store.deleteOperation('Q', 'ops');
      await store.deleteOperation('Q', 'ops'); // nothing to delete
      assert.deepEqual(writes, ['createExtension', 'publishVersion', 'setStatus', 'setTenants', 'saveOperation', 'deleteOperation']);
    });
  });

  describe('change reports and registered operations', () => {
    const reported = (version: string, extra: Partial<NewVersion> = {}): NewVersion => ({ ...newVersion('orders', version), ...extra });
    const operation = (document: string) => ({ name: 'Orders', document, hash: 'a'.repeat(64), normalizedHash: 'b'.repeat(64), client: 'shop' });

    test('a report is stored with its version, read back, and as immutable as the version', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      const report = { reportVersion: 1, verdict: 'safe', changes: [] };
      const { version } = await store.publishVersion(reported('1.0.0', { report, auditDetails: { verdict: 'safe', forced: { reason: 'r' } } }));
      assert.deepEqual(version.report, report);
      assert.deepEqual((await store.getVersion('orders', '1.0.0'))?.report, report);
      const [event] = await store.listAuditEvents({ limit: 1 });
      assert.deepEqual(event?.details['forced'], { reason: 'r' });
      assert.equal(event?.details['version'], '1.0.0');
      await assert.rejects(harness.exec(`UPDATE extension_versions SET report = '{}'`), /immutable/);
      assert.equal((await store.publishVersion(reported('1.1.0'))).version.report, undefined, 'a version without a report reads back without one');
    });

    test('directive module sources are stored with their version, read back, and immutable', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      const directiveModules = { './b.js': 'export default 2', './a.js': 'export default 1' };
      await store.publishVersion(reported('1.0.0', { directiveModules }));
      assert.deepEqual((await store.getVersion('orders', '1.0.0'))?.directiveModules, directiveModules);
      assert.deepEqual((await store.listVersions('orders'))[0]?.directiveModules, directiveModules);
      await assert.rejects(harness.exec(`UPDATE directive_modules SET source = 'evil'`), /immutable/);
      await assert.rejects(harness.exec(`DELETE FROM directive_modules`), /immutable/);
    });

    test('save creates, replaces and skips unchanged documents; delete removes; each change is audited', async () => {
      const store = await open();
      const first = await store.saveOperation(operation('query Orders { orders }'), 'admin');
      assert.deepEqual([first.created, first.changed], [true, true]);
      assert.equal(first.operation.client, 'shop');
      const same = await store.saveOperation(operation('query Orders { orders }'), 'someone-else');
      assert.deepEqual([same.created, same.changed, same.operation.registeredBy], [false, false, 'admin']);
      const replaced = await store.saveOperation({ ...operation('query Orders { orders }\n'), hash: 'c'.repeat(64) }, 'ops');
      assert.deepEqual([replaced.created, replaced.changed, replaced.operation.registeredAt], [false, true, first.operation.registeredAt]);
      assert.deepEqual((await store.listOperations()).map((o) => [o.name, o.hash]), [['Orders', 'c'.repeat(64)]]);
      assert.deepEqual(await store.getOperation('Orders'), replaced.operation);

      assert.equal((await store.deleteOperation('Orders', 'ops'))?.name, 'Orders');
      assert.equal(await store.deleteOperation('Orders', 'ops'), undefined);
      assert.equal(await store.getOperation('Orders'), undefined);
      assert.deepEqual(
        (await store.listAuditEvents()).map((e) => [e.action, e.actor, e.details['operation']]),
        [
          ['operation-delete', 'ops', 'Orders'],
          ['operation-update', 'ops', 'Orders'],
          ['operation-register', 'admin', 'Orders'],
        ],
      );
    });

    test('setTenants stores a sorted set of tenants, or null for every tenant, with an audit event', async () => {
      const store = await open();
      await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
      const limited = await store.setTenants('orders', ['t2', 't1', 't2'], 'ops');
      assert.deepEqual(limited.tenants, ['t1', 't2']);
      assert.deepEqual(await store.getExtension('orders'), limited);
      const everyone = await store.setTenants('orders', null, 'ops');
      assert.equal(everyone.tenants, null);
      const [event] = await store.listAuditEvents({ limit: 1 });
      assert.deepEqual([event?.action, event?.details['from'], event?.details['to']], ['tenants', ['t1', 't2'], null]);
      await rejectsWith(store.setTenants('ghost', null, 'ops'), GraftErrorCode.EXTENSION_NOT_FOUND);
    });
  });

  describe('shared upstream signing keys', () => {
    test('keys are listed by the time they sign from, a kid is stored once, rows are immutable, each addition is audited', async () => {
      const store = await open();
      const key = (kid: string, signsFrom: string) => ({ kid, publicJwk: { kty: 'EC', kid }, sealedPrivateJwk: `sealed:${kid}`, signsFrom });
      const later = await store.addSigningKey(key('k2', '2030-01-01T00:00:00.000Z'), 'leader');
      await store.addSigningKey(key('k1', '2029-01-01T00:00:00.000Z'), 'leader');
      assert.deepEqual((await store.listSigningKeys()).map((k) => [k.kid, k.signsFrom, k.sealedPrivateJwk]), [
        ['k1', '2029-01-01T00:00:00.000Z', 'sealed:k1'],
        ['k2', '2030-01-01T00:00:00.000Z', 'sealed:k2'],
      ]);
      assert.deepEqual((await store.listSigningKeys())[1], later);
      const changeId = await store.lastChangeId();
      await rejectsWith(store.addSigningKey(key('k1', '2031-01-01T00:00:00.000Z'), 'leader'), GraftErrorCode.BAD_REQUEST, /already stored/);
      assert.equal(await store.lastChangeId(), changeId);
      await assert.rejects(harness.exec(`UPDATE upstream_signing_keys SET sealed_private_jwk = 'x'`), /immutable/);
      await assert.rejects(harness.exec(`DELETE FROM upstream_signing_keys`), /immutable/);
      const [event] = await store.listAuditEvents({ limit: 1 });
      assert.deepEqual([event?.action, event?.actor, event?.details['kid']], ['upstream-key', 'leader', 'k1']);
    });
  });
  });
}
