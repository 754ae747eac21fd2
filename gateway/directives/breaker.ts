// A directive that keeps failing is suspended like a tripped circuit breaker: after
// `threshold` unhealthy calls in a row (a timeout, a memory failure, a module that does not
// load, or every value failing) its fields answer DIRECTIVE_FAILED (reason "suspended")
// without running it, for `cooldownMs`. Then one response may try it again (half-open):
// healthy closes the breaker, unhealthy opens it for another cooldown. Per directive
// version: publishing a fixed version starts with a closed breaker.
export interface BreakerOptions {
  threshold: number;
  cooldownMs: number;
}

export const DEFAULT_BREAKER_OPTIONS: Readonly<BreakerOptions> = Object.freeze({ threshold: 3, cooldownMs: 30_000 });

export type BreakerState = 'closed' | 'open' | 'half-open';

export class DirectiveBreaker {
  readonly #options: BreakerOptions;
  readonly #now: () => number;
  #failures = 0;
  #openedAt: number | undefined;
  #trial = false;

  constructor(options: BreakerOptions, now: () => number = Date.now) {
    this.#options = options;
    this.#now = now;
  }

  get state(): BreakerState {
    if (this.#openedAt === undefined) return 'closed';
    return this.#now() - this.#openedAt >= this.#options.cooldownMs ? 'half-open' : 'open';
  }

  /** Whether a call may run now. In half-open, only one call at a time is the trial. */
  allow(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#trial) return false;
    this.#trial = true;
    return true;
  }

  record(healthy: boolean): void {
    this.#trial = false;
    if (healthy) {
      this.#failures = 0;
      this.#openedAt = undefined;
      return;
    }
    this.#failures += 1;
    if (this.#openedAt !== undefined || this.#failures >= this.#options.threshold) this.#openedAt = this.#now();
  }
}
