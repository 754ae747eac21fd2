// Usage recording (issue 17): how often each operation runs, per client and minute. The
// telemetry's Apollo plugin hands over every operation Apollo Server resolved; the
// signature and coordinates are computed once per parsed document (Apollo Server caches
// the DocumentNode, so a WeakMap on it makes a repeated operation a map lookup) and the
// per-request cost is one counter increment. Counts are written to the registry off the
// request path, in one batch every `flushMs`; every process (GRAFT_WORKERS, replicas)
// flushes its own counts and the store adds them up.
import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { RegistryStore, UsageCount, UsageOperation } from '../registry/index.js';
import { BoundedLabel, OTHER, type ResolvedOperation } from '../telemetry/index.js';
import { operationUsageOf } from './operation.js';

/** The client of a request that named none. */
export const UNKNOWN_CLIENT = 'unknown';

/** Client names and versions as a client may send them: printable, short. */
const CLIENT_NAME = /^[\w.@/:+ -]{1,64}$/;
const CLIENT_VERSION = /^[\w.+-]{1,32}$/;

export interface UsageRecorderOptions {
  store: Pick<RegistryStore, 'recordUsage' | 'compactUsage'>;
  logger: Logger;
  /** How often counts are written (default 10 s). */
  flushMs?: number;
  /** Days of usage kept (GRAFT_USAGE_RETENTION_DAYS, default 30). */
  retentionDays?: number;
  /** Whether this process compacts (the leader: once for all processes). */
  compacts?: () => boolean;
  /** How often the leader compacts (default hourly). */
  compactEveryMs?: number;
  /** Distinct client names kept before the rest count as `other` (default 100). */
  maxClients?: number;
  /** Distinct client name+version pairs kept before the rest count as version `other` (default 1000). */
  maxClientVersions?: number;
  /** Counters kept while the registry does not answer; beyond, counts are dropped (and logged). */
  maxPendingCounts?: number;
  now?: () => number;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

function headerValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

export class UsageRecorder {
  readonly #options: UsageRecorderOptions;
  readonly #now: () => number;
  /** Per schema, per parsed document, per operation name: its usage record (null: none). */
  readonly #operations = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, UsageOperation | null>>>();
  readonly #clients: BoundedLabel;
  readonly #versions: BoundedLabel;
  /** minute (ms since epoch) → "hash\nclient\nversion" → count, since the last flush. */
  #pending = new Map<number, Map<string, number>>();
  /** The operations the pending counts refer to. */
  #pendingOperations = new Map<string, UsageOperation>();
  #pendingCount = 0;
  #dropped = 0;
  #flushing: Promise<void> | undefined;
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(options: UsageRecorderOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#clients = new BoundedLabel({ pattern: CLIENT_NAME, max: options.maxClients ?? 100, isKnown: (name) => name === UNKNOWN_CLIENT });
    // Pairs of an admitted name and a version of the right shape (checked before): only their number is bounded here.
    this.#versions = new BoundedLabel({ pattern: /\n/, max: options.maxClientVersions ?? 1000 });
  }

  /** Starts the flush (and, in the leader, the compaction) timers; they do not keep the process alive. */
  start(): this {
    const flush = setInterval(() => void this.flush(), this.#options.flushMs ?? 10_000);
    const compact = setInterval(() => void this.compact(), this.#options.compactEveryMs ?? HOUR_MS);
    flush.unref();
    compact.unref();
    this.#timers.push(flush, compact);
    return this;
  }

  /** Counts one operation. Never throws: usage must not break a request. */
  record(resolved: ResolvedOperation): void {
    try {
      const usage = this.#usageOf(resolved);
      if (!usage) return;
      const name = headerValue(resolved.clientName);
      const version = headerValue(resolved.clientVersion);
      const client = name === undefined ? UNKNOWN_CLIENT : this.#clients.of(name);
      const clientVersion =
        version === undefined ? UNKNOWN_CLIENT : client !== OTHER && CLIENT_VERSION.test(version) && this.#versions.of(`${client}\n${version}`) !== OTHER ? version : OTHER;
      const minute = this.#now() - (this.#now() % MINUTE_MS);
      let counts = this.#pending.get(minute);
      if (!counts) {
        counts = new Map();
        this.#pending.set(minute, counts);
      }
      const key = `${usage.hash}\n${client}\n${clientVersion}`;
      const count = counts.get(key);
      if (count === undefined) {
        if (this.#pendingCount >= (this.#options.maxPendingCounts ?? 50_000)) {
          this.#dropped++;
          return;
        }
        this.#pendingCount++;
        this.#pendingOperations.set(usage.hash, usage);
      }
      counts.set(key, (count ?? 0) + 1);
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'usage: an operation could not be counted');
    }
  }

  #usageOf(resolved: ResolvedOperation): UsageOperation | null | undefined {
    let documents = this.#operations.get(resolved.schema);
    if (!documents) {
      documents = new WeakMap();
      this.#operations.set(resolved.schema, documents);
    }
    let byName = documents.get(resolved.document);
    if (!byName) {
      byName = new Map();
      documents.set(resolved.document, byName);
    }
    const name = resolved.operationName ?? '';
    if (byName.has(name)) return byName.get(name);
    const usage = operationUsageOf(resolved.schema, resolved.document, resolved.operationName) ?? null;
    byName.set(name, usage);
    return usage;
  }

  /** Writes the counts since the last flush in one batch. A failed write keeps them for the next. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    if (this.#dropped > 0) {
      this.#options.logger.warn({ dropped: this.#dropped }, 'usage: counts dropped while the registry did not take them');
      this.#dropped = 0;
    }
    if (this.#pending.size === 0) return;
    const pending = this.#pending;
    const operations = this.#pendingOperations;
    this.#pending = new Map();
    this.#pendingOperations = new Map();
    this.#pendingCount = 0;
    const counts: UsageCount[] = [];
    for (const [minute, byKey] of pending) {
      const iso = new Date(minute).toISOString();
      for (const [key, count] of byKey) {
        const [operation = '', clientName = '', clientVersion = ''] = key.split('\n');
        counts.push({ minute: iso, operation, clientName, clientVersion, count });
      }
    }
    try {
      // Every operation the counts refer to, each time: the store adds those it lacks (one
      // that compaction removed since this process last sent it, too).
      await this.#options.store.recordUsage({ operations: [...operations.values()], counts });
    } catch (error) {
      this.#options.logger.warn({ err: error, counts: counts.length }, 'usage: writing to the registry failed; the counts are kept for the next flush');
      this.#restore(pending, operations);
    }
  }

  /** Puts counts a failed flush took back in front of what came since (bounded like the rest). */
  #restore(pending: Map<number, Map<string, number>>, operations: Map<string, UsageOperation>): void {
    for (const [minute, byKey] of pending) {
      let counts = this.#pending.get(minute);
      if (!counts) {
        counts = new Map();
        this.#pending.set(minute, counts);
      }
      for (const [key, count] of byKey) {
        const current = counts.get(key);
        if (current === undefined) {
          if (this.#pendingCount >= (this.#options.maxPendingCounts ?? 50_000)) {
            this.#dropped += count;
            continue;
          }
          this.#pendingCount++;
        }
        counts.set(key, (current ?? 0) + count);
      }
    }
    for (const [hash, operation] of operations) this.#pendingOperations.set(hash, operation);
  }

  /** Rolls minutes older than the last full hour into hours, and deletes usage past the retention (the leader only). */
  async compact(): Promise<void> {
    if (this.#options.compacts && !this.#options.compacts()) return;
    const now = this.#now();
    const hourStart = now - (now % HOUR_MS);
    try {
      await this.#options.store.compactUsage({
        rollUpBefore: new Date(hourStart - HOUR_MS).toISOString(),
        deleteBefore: new Date(now - (this.#options.retentionDays ?? 30) * 24 * HOUR_MS).toISOString(),
      });
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'usage: compaction failed; the next hour retries');
    }
  }

  /** Stops the timers and writes what is left. */
  async close(): Promise<void> {
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    await this.flush();
    // A flush already running when close was called may have left counts behind.
    if (this.#pending.size > 0) await this.flush();
  }
}
