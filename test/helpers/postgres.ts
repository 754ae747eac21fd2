// A real, throwaway PostgreSQL for the tests (no mocks of pg): one cluster per test file,
// initdb'd into a temp folder and listening on a free port of 127.0.0.1 only, stopped when
// the file's tests end (and, as a last resort, when the process exits). GRAFT_TEST_POSTGRES_URL
// points the tests at a server someone already runs instead (a superuser URL: each suite
// creates and drops its own database).
//
// Without PostgreSQL binaries the PostgreSQL tests are skipped with the reason, except on CI
// (CI=true), where a missing PostgreSQL fails them: CI installs Debian's postgresql.
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** Where Debian (and most distributions) put the server binaries; PATH is tried first. */
function findPostgresBin(): string | undefined {
  const fromEnv = process.env['GRAFT_TEST_POSTGRES_BIN'];
  if (fromEnv) return existsSync(join(fromEnv, 'initdb')) ? fromEnv : undefined;
  const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath.replace(/\/initdb$/, '');
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** initdb refuses to run as root: as root the cluster belongs to (and runs as) the postgres user. */
function asClusterOwner(bin: string, args: string[]): { command: string; args: string[] } {
  if (process.getuid?.() !== 0) return { command: bin, args };
  return { command: 'runuser', args: ['-u', 'postgres', '--', bin, ...args] };
}

function run(bin: string, args: string[]): void {
  const { command, args: argv } = asClusterOwner(bin, args);
  execFileSync(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface TestPostgres {
  /** A superuser URL of the server (database `postgres`). */
  readonly url: string;
  /** A fresh empty database; its URL. Dropped by stop(). */
  createDatabase(): Promise<string>;
  /** Only for a cluster this helper started: stops it (fast shutdown), as an outage. */
  stopServer(mode?: 'fast' | 'immediate'): void;
  /** Only for a cluster this helper started: starts it again on the same port. */
  startServer(): void;
  /** Drops the databases it created; stops the cluster it started. */
  stop(): Promise<void>;
}

export interface PostgresAvailability {
  /** Why the PostgreSQL tests are skipped here (no binaries, not on CI); undefined when they run. */
  skip: string | undefined;
}

/** Decides once per file whether PostgreSQL tests can run: pass `skip` to describe()/test(). */
export function postgresAvailability(): PostgresAvailability {
  if (process.env['GRAFT_TEST_POSTGRES_URL']) return { skip: undefined };
  if (findPostgresBin()) return { skip: undefined };
  const reason = 'PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql, or set GRAFT_TEST_POSTGRES_URL';
  if (process.env['CI'] === 'true') throw new Error(`${reason}. CI must run the PostgreSQL tests.`);
  return { skip: reason };
}

let sequence = 0;

/** Starts a throwaway cluster (or uses GRAFT_TEST_POSTGRES_URL). Call in before(); call stop() in after(). */
export async function startTestPostgres(): Promise<TestPostgres> {
  const created: string[] = [];
  const given = process.env['GRAFT_TEST_POSTGRES_URL'];
  let own: { dir: string; start(): void; stopCluster(mode: 'fast' | 'immediate'): void } | undefined;
  let url: string;
  let stopAtExit: (() => void) | undefined;

  if (given) {
    url = given;
  } else {
    const bin = findPostgresBin();
    if (!bin) throw new Error('PostgreSQL server binaries not found (see postgresAvailability)');
    const dir = await mkdtemp(join(tmpdir(), 'graft-pg-'));
    if (process.getuid?.() === 0) {
      const owner = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
      const group = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
      await chown(dir, Number(owner), Number(group));
      await chmod(dir, 0o700);
    }
    const data = join(dir, 'data');
    run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const port = await freePort();
    const pgCtlStart = (): void =>
      run(join(bin, 'pg_ctl'), [
        '-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30',
        // 127.0.0.1 only, the socket in the temp folder, fsync off (a throwaway cluster; a crash of
        // the server process, as the outage tests cause, loses nothing: the OS still holds its writes).
        '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`,
        'start',
      ]);
    pgCtlStart();
    url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const stopCluster = (mode: 'fast' | 'immediate'): void => {
      const { command, args } = asClusterOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', mode, '-w', 'stop']);
      spawnSync(command, args, { stdio: 'ignore' });
    };
    stopAtExit = () => stopCluster('immediate');
    process.once('exit', stopAtExit);
    own = { dir, start: pgCtlStart, stopCluster };
  }

  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };

  return {
    url,
    async createDatabase() {
      const name = `graft_test_${process.pid}_${++sequence}_${Math.random().toString(36).slice(2, 8)}`;
      await admin((client) => client.query(`CREATE DATABASE ${name}`));
      created.push(name);
      const dbUrl = new URL(url);
      dbUrl.pathname = `/${name}`;
      return dbUrl.toString();
    },
    stopServer(mode = 'fast') {
      if (!own) throw new Error('stopServer needs the throwaway cluster, not GRAFT_TEST_POSTGRES_URL');
      own.stopCluster(mode);
    },
    startServer() {
      if (!own) throw new Error('startServer needs the throwaway cluster, not GRAFT_TEST_POSTGRES_URL');
      own.start();
    },
    async stop() {
      if (own) {
        own.stopCluster('fast');
        if (stopAtExit) process.off('exit', stopAtExit);
        await rm(own.dir, { recursive: true, force: true });
        return;
      }
      // A server someone else runs: leave it as found.
      await admin(async (client) => {
        for (const name of created) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
    },
  };
}
