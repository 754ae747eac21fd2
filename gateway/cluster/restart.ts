// When a worker that died is started again. Right away the first time (a crash is usually
// a one-off), backing off when it keeps dying, and not at all once it died too often in a
// short time: a crash loop (a bad config module, a full disk) is logged, not spun.

export interface RestartPolicy {
  /** Delay before the first restart; doubled for each further restart within the window. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Restarts of one worker allowed within `windowMs`; one more exit and it stays down. */
  maxRestarts: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { baseDelayMs: 500, maxDelayMs: 30_000, maxRestarts: 5, windowMs: 60_000 };

export class RestartBudget {
  readonly policy: RestartPolicy;
  readonly #now: () => number;
  /** When each worker was last restarted, within the window. */
  readonly #restarts = new Map<number, number[]>();

  constructor(policy: Partial<RestartPolicy> = {}, now: () => number = Date.now) {
    this.policy = { ...DEFAULT_RESTART_POLICY, ...policy };
    this.#now = now;
  }

  /**
   * Records that worker `id` exited unexpectedly: the delay before starting it again, or
   * undefined when it exhausted its restarts and must stay down.
   */
  nextDelay(id: number): number | undefined {
    const { baseDelayMs, maxDelayMs, maxRestarts, windowMs } = this.policy;
    const now = this.#now();
    const recent = (this.#restarts.get(id) ?? []).filter((at) => now - at < windowMs);
    this.#restarts.set(id, recent);
    if (recent.length >= maxRestarts) return undefined;
    recent.push(now);
    return Math.min(maxDelayMs, baseDelayMs * 2 ** (recent.length - 1));
  }
}
