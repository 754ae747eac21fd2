// The gateway's link to a registry other processes share: which store to open, how this
// process learns of their changes (the store's nudge, LISTEN/NOTIFY on PostgreSQL, plus a
// jittered poll of the change counter as the fallback), whether the registry answers (for
// /health and graft_registry_up), and who leads (an advisory lock on PostgreSQL, the
// process's fixed role otherwise). Serving never waits on any of it: a replica keeps its
// last good supergraph whatever the registry does.
import type { Logger } from 'pino';
import type { GraftConfig } from '../config/index.js';
import {
  isConnectionError,
  openPostgresRegistry,
  openSqliteRegistry,
  registryFileIn,
  type RegistryChangeFeed,
  type RegistryLeadership,
  type RegistryStore,
} from '../registry/index.js';

/** Opens the registry the configuration names: PostgreSQL for a postgres:// GRAFT_REGISTRY_URL, else the SQLite file in the data dir. */
export async function openConfiguredRegistry(config: GraftConfig, logger: Logger): Promise<RegistryStore> {
  const { registry } = config;
  if (!registry.url) return openSqliteRegistry({ file: registryFileIn(config.dataDir) });
  return openPostgresRegistry({
    url: registry.url,
    poolMax: registry.poolMax,
    statementTimeoutMs: registry.statementTimeoutMs,
    connectTimeoutMs: registry.connectTimeoutMs,
    ...(registry.sslCaFile ? { sslCaFile: registry.sslCaFile } : {}),
    onIdleError: (err) => logger.debug({ err }, 'an idle registry connection closed; the pool replaces it'),
  });
}

export interface RegistryStatus {
  /** down: the last read failed for want of a database (or the change watch lost its connection). */
  state: 'up' | 'down';
  /** ISO 8601: since when it is in this state. */
  since: string;
  /** Why it is down. */
  error?: string;
}

export interface RegistryLinkOptions {
  store: RegistryStore;
  /** Re-reads the registry if it changed (RegistryService.syncIfChanged); returns what it did. */
  sync: () => Promise<{ activated: boolean; supergraphId: number | undefined } | undefined>;
  /** Mean poll interval (GRAFT_REGISTRY_SYNC_MS); 0: no poll. Each wait is jittered by ±20 %. */
  pollMs: number;
  logger: Logger;
  /** Who leads when the store does not elect: the process's role (gateway/cluster), or true for the only process. */
  fixedLeader: boolean;
  /** Runs on every change of leadership, and once at start when this process leads from the outset. */
  onLeadership: (leader: boolean) => void;
}

export class RegistryLink {
  readonly #options: RegistryLinkOptions;
  readonly #feed: RegistryChangeFeed | undefined;
  readonly #leadership: RegistryLeadership | undefined;
  #status: RegistryStatus = { state: 'up', since: new Date().toISOString() };
  #readFailed: string | undefined;
  #watchDown: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;
  #syncAgain = false;
  #closed = false;

  constructor(options: RegistryLinkOptions) {
    this.#options = options;
    const { store, logger } = options;
    this.#feed = store.watchChanges?.(
      () => void this.sync(),
      (connected, error) => {
        this.#watchDown = connected ? undefined : (error?.message ?? 'the change watch connection closed');
        this.#update();
      },
    );
    if (store.competeForLeadership) {
      this.#leadership = store.competeForLeadership((leader) => {
        logger.info({ leader }, leader ? 'this replica leads: it runs the health checks and the other once-only work' : 'this replica no longer leads');
        options.onLeadership(leader);
      });
    } else if (options.fixedLeader) {
      options.onLeadership(true);
    }
    this.#schedule();
  }

  get leader(): boolean {
    return this.#leadership ? this.#leadership.leader : this.#options.fixedLeader;
  }

  get status(): RegistryStatus {
    return this.#status;
  }

  /**
   * Re-reads the registry if another process changed it. Never rejects (failures are logged
   * once per outage); concurrent calls share one sync, plus one more after it.
   */
  sync(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#syncing) {
      this.#syncAgain = true;
      return this.#syncing;
    }
    this.#syncing = (async () => {
      do {
        this.#syncAgain = false;
        try {
          const result = await this.#options.sync();
          this.#readFailed = undefined;
          if (result?.activated) this.#options.logger.info({ supergraph: result.supergraphId }, 'registry re-synced: serving the supergraph another process stored');
        } catch (err) {
          if (isConnectionError(err)) this.#readFailed = (err as Error).message;
          else this.#options.logger.error({ err }, 'registry sync failed; the next notification or poll retries');
        }
        this.#update();
      } while (this.#syncAgain && !this.#closed);
    })().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#syncing;
    await this.#feed?.close();
    await this.#leadership?.close();
  }

  #update(): void {
    const error = this.#readFailed ?? this.#watchDown;
    const state = error === undefined ? 'up' : 'down';
    if (state === this.#status.state) {
      if (error !== undefined) this.#status = { ...this.#status, error };
      return;
    }
    this.#status = { state, since: new Date().toISOString(), ...(error === undefined ? {} : { error }) };
    if (state === 'down') {
      this.#options.logger.error({ error }, 'the registry is unreachable: serving the last good supergraph; publishes answer REGISTRY_UNAVAILABLE until it is back');
    } else {
      this.#options.logger.info('the registry is reachable again');
      // Whatever changed while it was away.
      void this.sync();
    }
  }

  /** A chain of jittered timeouts rather than an interval: replicas started together do not poll in step. */
  #schedule(): void {
    const { pollMs } = this.#options;
    if (pollMs <= 0 || this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.sync().finally(() => this.#schedule());
    }, pollMs * (0.8 + Math.random() * 0.4));
    this.#timer.unref();
  }
}
