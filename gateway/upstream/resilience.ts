// Per-extension resilience around subgraph fetches, built from cockatiel's policies:
//   bulkhead (max concurrent fetches) → retry (queries only; connection errors, 502/503/504;
//   exponential backoff with decorrelated jitter) → circuit breaker (opens on consecutive
//   failures OR on the failure rate, half-open probes with growing back-off).
// One extension failing trips its own breaker only: the rest of the graph is untouched.
import {
  BulkheadRejectedError,
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  CountBreaker,
  ExponentialBackoff,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
  type IBreaker,
  type IPolicy,
} from 'cockatiel';


import type { ResilienceOptions } from '../config/index.js';

export { DEFAULT_RESILIENCE, type ResilienceOptions } from '../config/index.js';

/** What an attempt throws when the extension failed (as opposed to answering with GraphQL errors). */
export class UpstreamFailure extends Error {
  constructor(
    readonly kind: 'connect' | 'timeout' | 'status' | 'body',
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'UpstreamFailure';
  }

  get retryable(): boolean {
    return this.kind === 'connect' || (this.kind === 'status' && (this.status === 502 || this.status === 503 || this.status === 504));
  }
}

/** Opens when either breaker says so: a burst of consecutive failures, or a high failure rate. */
class EitherBreaker implements IBreaker {
  constructor(private readonly breakers: IBreaker[]) {}

  get state(): unknown {
    return this.breakers.map((b) => b.state);
  }

  set state(value: unknown) {
    if (Array.isArray(value)) this.breakers.forEach((b, i) => (b.state = value[i]));
  }

  success(state: CircuitState): void {
    for (const breaker of this.breakers) breaker.success(state);
  }

  failure(state: CircuitState): boolean {
    let open = false;
    for (const breaker of this.breakers) open = breaker.failure(state) || open;
    return open;
  }
}

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface ExtensionResilience {
  /**
   * Runs one fetch through the bulkhead, retry and breaker. The attempt gets no signal:
   * none of these policies cancels (there is no cockatiel timeout policy; each attempt has
   * its own deadline), and listening on cockatiel's shared never-aborted signal would tie
   * every attempt to one long-lived object.
   */
  execute<T>(isQuery: boolean, attempt: () => Promise<T>): Promise<T>;
  readonly breakerState: BreakerState;
  /** Counts breaker trips since start (metrics, graft simulate). */
  readonly trips: number;
}

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/** `onBreakerChange`: the breaker opened, or closed again (webhooks breaker.opened / breaker.closed). */
export function createExtensionResilience(options: ResilienceOptions, onBreakerChange?: (state: 'opened' | 'closed') => void): ExtensionResilience {
  const isFailure = (error: Error) => error instanceof UpstreamFailure;
  const breaker = circuitBreaker(handleWhen(isFailure), {
    halfOpenAfter: new ExponentialBackoff({ initialDelay: options.breakerHalfOpenAfterMs, maxDelay: 60_000 }),
    breaker: new EitherBreaker([
      new ConsecutiveBreaker(options.breakerConsecutiveFailures),
      new CountBreaker({ threshold: options.breakerFailureRate, size: options.breakerWindow, minimumNumberOfCalls: Math.min(10, options.breakerWindow) }),
    ]),
  });
  let trips = 0;
  breaker.onBreak(() => {
    trips += 1;
    onBreakerChange?.('opened');
  });
  breaker.onReset(() => onBreakerChange?.('closed'));
  const retrying = retry(
    handleWhen((error) => error instanceof UpstreamFailure && error.retryable),
    { maxAttempts: options.retries, backoff: new ExponentialBackoff({ initialDelay: 25, maxDelay: 400 }) },
  );
  const limiter = bulkhead(options.maxConcurrent, options.maxConcurrent);
  const forQueries: IPolicy = wrap(limiter, retrying, breaker);
  const forMutations: IPolicy = wrap(limiter, breaker); // a mutation is never sent twice

  return {
    execute: (isQuery, attempt) => (isQuery ? forQueries : forMutations).execute(() => attempt()),
    get breakerState() {
      return STATE_NAMES[breaker.state];
    },
    get trips() {
      return trips;
    },
  };
}

export function isCircuitOpen(error: unknown): boolean {
  return error instanceof BrokenCircuitError;
}

export function isBulkheadFull(error: unknown): boolean {
  return error instanceof BulkheadRejectedError;
}
