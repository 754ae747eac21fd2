// Active health checks of the published extensions, and drift detection. Every interval
// the monitor asks each extension for `_service { sdl }`: an answer in time means
// healthy, and the SDL is compared with the registered one (drift: the deployed subgraph
// no longer serves what was published and checked).
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { compareSdl } from './drift.js';
import { describeFailure, HealthCheckTimeout } from './failure.js';
import type { FetchServiceSdl, HealthTarget } from './fetch.js';

export type HealthState = 'healthy' | 'unhealthy' | 'unknown';

export interface DriftStatus {
  detected: boolean;
  /** ISO 8601; null until a live SDL was compared. */
  checkedAt: string | null;
  /** e.g. "live SDL has field Product.sku not in the registered SDL". */
  summary?: string;
}

export interface ExtensionHealth {
  name: string;
  state: HealthState;
  /** ISO 8601 timestamps; null means never. */
  lastCheckedAt: string | null;
  lastHealthyAt: string | null;
  consecutiveFailures: number;
  /** Of the last check (successful or not); null before the first one. */
  latencyMs: number | null;
  /** Why the last check failed: one line, no stack, no internals. */
  error?: string;
  drift: DriftStatus;
}

export interface HealthMonitorOptions {
  /** Pause between the end of one round of checks and the start of the next. */
  intervalMs: number;
  /** Longest wait for one extension's answer. */
  timeoutMs: number;
  fetchServiceSdl: FetchServiceSdl;
  /** The SDL of the extension's active version; undefined when it has none. */
  registeredSdl: (name: string) => Promise<string | undefined>;
  /** The extensions to check (e.g. every active one). */
  listTargets: () => Promise<HealthTarget[]>;
  /** Clock for the timestamps (epoch ms); Date.now by default. */
  now?: () => number;
  /** Unforeseen errors (a failing listTargets, a check that failed oddly), for the gateway log. */
  onError?: (error: unknown, context: { extension?: string }) => void;
  /** Most extensions checked at the same time. */
  concurrency?: number;
  /**
   * After each scheduled round, every status. In multi-process mode (GRAFT_WORKERS) only
   * one process checks; it shares the statuses this way and the others `adopt` them.
   */
  onRound?: (statuses: ExtensionHealth[]) => void;
  /** A check found drift where the previous one had none (webhook drift.detected). */
  onDrift?: (name: string, drift: DriftStatus) => void;
}

function unknownStatus(name: string): ExtensionHealth {
  return {
    name,
    state: 'unknown',
    lastCheckedAt: null,
    lastHealthyAt: null,
    consecutiveFailures: 0,
    latencyMs: null,
    drift: { detected: false, checkedAt: null },
  };
}

const copy = (status: ExtensionHealth): ExtensionHealth => ({ ...status, drift: { ...status.drift } });

/** Runs `work` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(lanes);
}

export class HealthMonitor {
  readonly #options: HealthMonitorOptions;
  readonly #now: () => number;
  readonly #statuses = new Map<string, ExtensionHealth>();
  /** One check per extension at a time: a second caller joins the running one. */
  readonly #inFlight = new Map<string, Promise<ExtensionHealth>>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #running = false;

  constructor(options: HealthMonitorOptions) {
    if (!(options.intervalMs > 0) || !(options.timeoutMs > 0)) {
      throw new Error('HealthMonitor: intervalMs and timeoutMs must be positive numbers of milliseconds.');
    }
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Checks everything now, then every intervalMs until stop(). Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Stops the schedule and waits for the round in progress, if any. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#round;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#round = this.checkNow()
        .then(
          () => undefined,
          (error: unknown) => this.#options.onError?.(error, {}),
        )
        .finally(() => {
          this.#round = undefined;
          if (!this.#running) return;
          try {
            this.#options.onRound?.(this.statuses());
          } catch (error) {
            this.#options.onError?.(error, {});
          }
          this.#schedule(this.#options.intervalMs);
        });
    }, delayMs);
    // The monitor never keeps the process alive on its own.
    this.#timer.unref();
  }

  /** Checks one extension (throws EXTENSION_NOT_FOUND if it is not a target) or all of them. */
  checkNow(name: string): Promise<ExtensionHealth>;
  checkNow(): Promise<ExtensionHealth[]>;
  async checkNow(name?: string): Promise<ExtensionHealth | ExtensionHealth[]> {
    const targets = await this.#options.listTargets();
    if (name !== undefined) {
      const target = targets.find((t) => t.name === name);
      if (!target) {
        throw new GraftError(GraftErrorCode.EXTENSION_NOT_FOUND, `Extension "${name}" is not checked: it is not an active, published extension.`, {
          extension: name,
        });
      }
      return this.#check(target);
    }
    // Extensions that are no longer targets (retired, removed) drop out of the statuses.
    const wanted = new Set(targets.map((t) => t.name));
    for (const known of this.#statuses.keys()) if (!wanted.has(known)) this.#statuses.delete(known);
    const results: ExtensionHealth[] = [];
    await eachLimited(targets, this.#options.concurrency ?? 8, async (target) => results.push(await this.#check(target)));
    return results.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The last known status; state 'unknown' before the first check. */
  status(name: string): ExtensionHealth {
    const status = this.#statuses.get(name);
    return status ? copy(status) : unknownStatus(name);
  }

  statuses(): ExtensionHealth[] {
    return [...this.#statuses.values()].map(copy).sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Serves statuses another process checked (see `onRound`) instead of checking here:
   * they replace every status held, so extensions it no longer checks drop out too.
   */
  adopt(statuses: readonly ExtensionHealth[]): void {
    this.#statuses.clear();
    for (const status of statuses) this.#statuses.set(status.name, copy(status));
  }

  #check(target: HealthTarget): Promise<ExtensionHealth> {
    const running = this.#inFlight.get(target.name);
    if (running) return running;
    const check = this.#run(target).finally(() => this.#inFlight.delete(target.name));
    this.#inFlight.set(target.name, check);
    return check;
  }

  async #run(target: HealthTarget): Promise<ExtensionHealth> {
    const { timeoutMs } = this.#options;
    const previous = this.#statuses.get(target.name) ?? unknownStatus(target.name);
    const started = performance.now();
    let sdl: string;
    try {
      sdl = await this.#fetchWithTimeout(target);
    } catch (error) {
      const { message, foreseen } = describeFailure(error, timeoutMs);
      if (!foreseen) this.#options.onError?.(error, { extension: target.name });
      const failed: ExtensionHealth = {
        ...previous,
        state: 'unhealthy',
        lastCheckedAt: new Date(this.#now()).toISOString(),
        consecutiveFailures: previous.consecutiveFailures + 1,
        latencyMs: Math.round(performance.now() - started),
        error: message,
      };
      this.#statuses.set(target.name, failed);
      return copy(failed);
    }
    const latencyMs = Math.round(performance.now() - started);
    const at = new Date(this.#now()).toISOString();
    const { error: _previousError, ...rest } = previous;
    const healthy: ExtensionHealth = {
      ...rest,
      state: 'healthy',
      lastCheckedAt: at,
      lastHealthyAt: at,
      consecutiveFailures: 0,
      latencyMs,
      drift: await this.#drift(target.name, sdl, previous.drift),
    };
    if (healthy.drift.detected && !previous.drift.detected) this.#options.onDrift?.(target.name, healthy.drift);
    this.#statuses.set(target.name, healthy);
    return copy(healthy);
  }

  /** The fetch, bounded by timeoutMs even if the fetcher ignores its signal. */
  async #fetchWithTimeout(target: HealthTarget): Promise<string> {
    const { timeoutMs } = this.#options;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = new HealthCheckTimeout(`no answer within ${timeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.#options.fetchServiceSdl(target, { signal: controller.signal }), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #drift(name: string, liveSdl: string, previous: DriftStatus): Promise<DriftStatus> {
    let registered: string | undefined;
    try {
      registered = await this.#options.registeredSdl(name);
    } catch (error) {
      // The registry's trouble is not the extension's: keep the last verdict.
      this.#options.onError?.(error, { extension: name });
      return previous;
    }
    const checkedAt = new Date(this.#now()).toISOString();
    if (registered === undefined) return { detected: false, checkedAt, summary: 'no published version to compare with' };
    const { detected, summary } = compareSdl(liveSdl, registered);
    return { detected, checkedAt, ...(summary === undefined ? {} : { summary }) };
  }
}
