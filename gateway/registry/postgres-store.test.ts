// The registry on a real, throwaway PostgreSQL (test/helpers/postgres.ts; no mocks of pg):
// the RegistryStore contract (store-contract.ts, the same suite as SQLite), and what only
// PostgreSQL has: migrations under an advisory lock (replicas starting together), refusal
// of a database migrated by a newer Graft, the NOTIFY nudge, the leader lock, and an
// unreachable database answering REGISTRY_UNAVAILABLE.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import pg from 'pg';
import { postgresAvailability, startTestPostgres, type TestPostgres } from '../../test/helpers/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { LATEST_SCHEMA_VERSION, openPostgresRegistry, POSTGRES_MIGRATIONS, type PostgresRegistryStore } from './index.js';
import { MIGRATIONS } from './migrations.js';
import { controlStoreContract } from './control-contract.js';
import { releaseContract } from './release-contract.js';
import { usageContract } from './usage-contract.js';
import { newVersion, registryStoreContract, rejectsWith, type ContractTables } from './store-contract.js';

const { skip } = postgresAvailability();
let server: TestPostgres | undefined;
let url: string;
const opened: PostgresRegistryStore[] = [];

before(async () => {
  if (!skip) server = await startTestPostgres();
});
after(async () => {
  await server?.stop();
});

async function open(registryUrl = url): Promise<PostgresRegistryStore> {
  const store = await openPostgresRegistry({ url: registryUrl, poolMax: 4 });
  opened.push(store);
  return store;
}

async function raw<T>(work: (client: pg.Client) => Promise<T>, registryUrl = url): Promise<T> {
  const client = new pg.Client({ connectionString: registryUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function freshRegistry(): Promise<void> {
  url = await (server as TestPostgres).createDatabase();
}

async function closeAll(): Promise<void> {
  for (const store of opened.splice(0)) await store.close();
}

registryStoreContract(
  'PostgreSQL',
  {
    setUp: freshRegistry,
    tearDown: closeAll,
    open: () => open(),
    countRows: () =>
      raw(async (client) => {
        const count = async (table: string) => Number((await client.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${table}`)).rows[0]?.n);
        return {
          extensions: await count('extensions'),
          extension_versions: await count('extension_versions'),
          supergraphs: await count('supergraphs'),
          audit_events: await count('audit_events'),
        } satisfies ContractTables;
      }),
    exec: (sql) => raw(async (client) => void (await client.query(sql))),
    failAuditInsert: async (action) => {
      await raw((client) =>
        client.query(`
          CREATE FUNCTION test_fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.action = '${action}' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;
          CREATE TRIGGER test_fail_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION test_fail_audit();`),
      );
      return () => raw(async (client) => void (await client.query('DROP TRIGGER test_fail_audit ON audit_events; DROP FUNCTION test_fail_audit();')));
    },
  },
  { skip },
);

describe('releases on PostgreSQL', { skip: skip ?? false }, () => {
  afterEach(closeAll);
  releaseContract('PostgreSQL', async () => {
    await freshRegistry();
    return open();
  });
});

controlStoreContract(
  'PostgreSQL',
  {
    setUp: freshRegistry,
    tearDown: closeAll,
    open: () => open(),
    exec: (sql) => raw(async (client) => void (await client.query(sql))),
  },
  { skip },
);
describe('usage on PostgreSQL', { skip: skip ?? false }, () => {
  afterEach(closeAll);
  usageContract('PostgreSQL', async () => {
    await freshRegistry();
    return open();
  });
});

describe('PostgreSQL only', { skip: skip ?? false }, () => {
  beforeEach(freshRegistry);
  afterEach(closeAll);

  test('the migrations have the SQLite numbering and names, and are recorded once each', async () => {
    assert.deepEqual(
      POSTGRES_MIGRATIONS.map((m) => [m.version, m.name]),
      MIGRATIONS.map((m) => [m.version, m.name]),
    );
    await open();
    await open();
    const rows = await raw(async (client) => (await client.query('SELECT version, name FROM schema_migrations ORDER BY version')).rows);
    assert.deepEqual(rows, MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
  });

  test('replicas starting together on an empty database migrate it once (advisory lock), and all of them open', async () => {
    const stores = await Promise.all([open(), open(), open(), open()]);
    assert.equal(stores.length, 4);
    const rows = await raw(async (client) => (await client.query('SELECT version FROM schema_migrations ORDER BY version')).rows);
    assert.equal(rows.length, MIGRATIONS.length, "each migration once");
    await stores[0]?.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    assert.equal((await stores[3]?.getExtension('orders'))?.owner, 'team-a');
  });

  test('a database migrated by a newer Graft is refused with REGISTRY_SCHEMA_TOO_NEW and a message saying what to do', async () => {
    await open();
    await raw((client) => client.query(`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from the future', now())`, [LATEST_SCHEMA_VERSION + 1]));
    await assert.rejects(openPostgresRegistry({ url }), (error: unknown) => {
      assert.ok(error instanceof GraftError);
      assert.equal(error.code, GraftErrorCode.REGISTRY_SCHEMA_TOO_NEW);
      assert.match(error.message, new RegExp(`schema version ${LATEST_SCHEMA_VERSION + 1}.*newer Graft.*backup`));
      assert.equal(error.details?.['databaseSchemaVersion'], LATEST_SCHEMA_VERSION + 1);
      return true;
    });
  });

  test('TRUNCATE of an immutable table is refused too', async () => {
    const store = await open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    await store.publishVersion(newVersion('orders', '1.0.0'));
    for (const table of ['audit_events', 'supergraphs', 'extension_versions']) {
      await assert.rejects(raw((client) => client.query(`TRUNCATE ${table} CASCADE`)), /immutable|append-only/, table);
    }
  });

  test('another replica is nudged (LISTEN/NOTIFY) when a write commits, not when one is refused', async () => {
    const writer = await open();
    const watcher = await open();
    let nudges = 0;
    let connected!: () => void;
    const ready = new Promise<void>((resolve) => (connected = resolve));
    const waiters: Array<() => void> = [];
    const feed = watcher.watchChanges(
      () => {
        nudges += 1;
        waiters.splice(0).forEach((wake) => wake());
      },
      (up) => up && connected(),
    );
    await ready;
    const afterConnect = nudges;
    const nudged = new Promise<void>((resolve) => waiters.push(resolve));
    await writer.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    await nudged;
    assert.equal(nudges, afterConnect + 1);
    await rejectsWith(writer.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice'), GraftErrorCode.EXTENSION_NAME_TAKEN);
    // A committed write after the refused one: if the refusal had nudged, two would arrive.
    const second = new Promise<void>((resolve) => waiters.push(resolve));
    await writer.setStatus('orders', 'paused', 'ops');
    await second;
    assert.equal(nudges, afterConnect + 2);
    await feed.close();
  });

  test('one replica holds the leader lock; when its connection ends another takes over', async () => {
    const first = await open();
    const second = await open();
    const events: string[] = [];
    let becameLeader: (() => void) | undefined;
    const waitLeader = () => new Promise<void>((resolve) => (becameLeader = resolve));
    const leaderOne = waitLeader();
    const a = first.competeForLeadership((leader) => {
      events.push(`a:${leader}`);
      if (leader) becameLeader?.();
    }, { retryMs: 100 });
    await leaderOne;
    const leaderTwo = waitLeader();
    const b = second.competeForLeadership((leader) => {
      events.push(`b:${leader}`);
      if (leader) becameLeader?.();
    }, { retryMs: 100 });
    assert.equal(b.leader, false);
    await a.close();
    await leaderTwo;
    // The lock passes only once a's session let it go; a's own notice that it lost the lead
    // and b's gain are separate callbacks, so either may be reported first.
    assert.equal(events[0], 'a:true');
    assert.deepEqual(events.slice(1).sort(), ['a:false', 'b:true']);
    assert.equal(b.leader, true);
    await b.close();
  });

  test('PostgreSQL killed in the middle of a publish: the publish is stored whole or not at all, and the store recovers', async () => {
    const store = await open();
    await store.createExtension({ name: 'orders', owner: 'team-a', description: '' }, 'alice');
    await store.publishVersion(newVersion('orders', '1.0.0'));
    const counts = () => raw(async (client) => (await client.query('SELECT (SELECT COUNT(*) FROM supergraphs) AS s, (SELECT COUNT(*) FROM extension_versions) AS v, (SELECT COUNT(*) FROM audit_events) AS a')).rows[0]);
    const before = await counts();
    // The publish's last write (its audit event) waits, after its supergraph and version rows are written.
    await raw((client) =>
      client.query(`
        CREATE FUNCTION test_slow_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.action = 'publish' THEN PERFORM pg_sleep(30); END IF; RETURN NEW; END $$;
        CREATE TRIGGER test_slow_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION test_slow_audit();`),
    );
    const publishing = store.publishVersion(newVersion('orders', '1.1.0'));
    const outcome = publishing.then(() => 'stored', (error: unknown) => error);
    await raw(async (client) => {
      for (let i = 0; i < 200; i += 1) {
        const { rowCount } = await client.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep'`);
        if (rowCount) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the publish never reached its audit insert');
    });
    (server as TestPostgres).stopServer('immediate'); // as a crash: no clean shutdown
    const error = await outcome;
    (server as TestPostgres).startServer();
    assert.ok(error instanceof GraftError, `expected a refusal, got ${String(error)}`);
    assert.equal(error.code, GraftErrorCode.REGISTRY_UNAVAILABLE);

    await raw((client) => client.query('DROP TRIGGER test_slow_audit ON audit_events; DROP FUNCTION test_slow_audit();'));
    assert.deepEqual(await counts(), before, 'nothing of the interrupted publish was stored');
    assert.equal((await store.getExtension('orders'))?.activeVersion, '1.0.0', 'the same store answers again once the database is back');
    assert.equal((await store.publishVersion(newVersion('orders', '1.1.0'))).version.version, '1.1.0');
  });

  test('an unreachable database is refused at open with REGISTRY_UNAVAILABLE naming where, never the password', async () => {
    const port = new URL(url).port;
    await raw((client) => client.query('SELECT 1'));
    await assert.rejects(
      openPostgresRegistry({ url: `postgres://graft:secret-password@127.0.0.1:1/registry`, connectTimeoutMs: 2000 }),
      (error: unknown) => {
        assert.ok(error instanceof GraftError);
        assert.equal(error.code, GraftErrorCode.REGISTRY_UNAVAILABLE);
        assert.match(error.message, /127\.0\.0\.1:1\/registry/);
        assert.doesNotMatch(error.message, /secret-password/);
        return true;
      },
    );
    assert.ok(port, 'the test server itself stays reachable');
  });
});
