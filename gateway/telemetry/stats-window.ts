// The recent health of each extension as the gateway saw it (the catalog page, GET
// /admin/stats): over a sliding window (5 minutes by default), per extension, how many
// fetches, which share failed, and their p95 latency. Memory is bounded: a ring of slots
// (10 s each) per extension, each with a log-scale latency histogram (about 5 % error).
import type { BreakerState } from '../upstream/index.js';

export interface ExtensionWindowStats {
  name: string;
  /** Subgraph requests in the window (one per HTTP request, retries included; a batched request carries several query-plan fetches). */
  requests: number;
  /** Share of those fetches that failed (timeout, unavailable, circuit open, bad response); 0 without fetches. */
  errorRate: number;
  /** 95th percentile fetch duration in ms; null without fetches. */
  p95Ms: number | null;
  breaker: BreakerState;
}

export interface StatsSnapshot {
  windowSeconds: number;
  extensions: ExtensionWindowStats[];
}

export interface ExtensionStatsWindowOptions {
  /** Length of the window (default 300 s). */
  windowSeconds?: number;
  /** Length of one slot (default 10 s); the window slides by this much. */
  slotSeconds?: number;
  /** The extensions to report, with zeros when idle (the registered ones). */
  extensions: () => Iterable<string>;
  breakerOf: (extension: string) => BreakerState;
  /** For tests. */
  now?: () => number;
}

// Histogram buckets: bucket i holds durations in (MIN * GROWTH^(i-1), MIN * GROWTH^i] ms.
const MIN_MS = 0.1;
const GROWTH = 1.1;
const BUCKETS = 150; // up to ~0.1 * 1.1^149 ≈ 1.5e5 ms; longer ones go to the last bucket
const LOG_GROWTH = Math.log(GROWTH);

function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH));
}

const upperBoundOf = (bucket: number): number => MIN_MS * GROWTH ** bucket;

interface Slot {
  /** Index of the slot in time (ms / slotMs), to tell a stale slot from a current one. */
  epoch: number;
  requests: number;
  errors: number;
  histogram: Uint32Array;
}

export class ExtensionStatsWindow {
  readonly windowSeconds: number;
  readonly #slotMs: number;
  readonly #slots: number;
  readonly #options: ExtensionStatsWindowOptions;
  readonly #now: () => number;
  readonly #rings = new Map<string, Slot[]>();

  constructor(options: ExtensionStatsWindowOptions) {
    this.#options = options;
    this.windowSeconds = options.windowSeconds ?? 300;
    const slotSeconds = options.slotSeconds ?? 10;
    this.#slotMs = slotSeconds * 1000;
    this.#slots = Math.max(1, Math.ceil(this.windowSeconds / slotSeconds));
    this.#now = options.now ?? Date.now;
  }

  /** One subgraph fetch, as UpstreamFetchEvent reports it. */
  record(extension: string, durationMs: number, failed: boolean): void {
    const epoch = Math.floor(this.#now() / this.#slotMs);
    let ring = this.#rings.get(extension);
    if (!ring) {
      ring = [];
      this.#rings.set(extension, ring);
    }
    const index = epoch % this.#slots;
    let slot = ring[index];
    if (!slot) {
      slot = { epoch, requests: 0, errors: 0, histogram: new Uint32Array(BUCKETS) };
      ring[index] = slot;
    } else if (slot.epoch !== epoch) {
      slot.epoch = epoch;
      slot.requests = 0;
      slot.errors = 0;
      slot.histogram.fill(0);
    }
    slot.requests += 1;
    if (failed) slot.errors += 1;
    const bucket = bucketOf(durationMs);
    slot.histogram[bucket] = (slot.histogram[bucket] ?? 0) + 1;
  }

  /** Stats of one extension over the window. */
  of(extension: string): ExtensionWindowStats {
    const current = Math.floor(this.#now() / this.#slotMs);
    const oldest = current - this.#slots + 1;
    let requests = 0;
    let errors = 0;
    const histogram = new Uint32Array(BUCKETS);
    for (const slot of this.#rings.get(extension) ?? []) {
      if (!slot || slot.epoch < oldest || slot.epoch > current) continue;
      requests += slot.requests;
      errors += slot.errors;
      for (let i = 0; i < BUCKETS; i++) histogram[i] = (histogram[i] ?? 0) + (slot.histogram[i] ?? 0);
    }
    return {
      name: extension,
      requests,
      errorRate: requests === 0 ? 0 : errors / requests,
      p95Ms: requests === 0 ? null : percentile(histogram, requests, 0.95),
      breaker: this.#options.breakerOf(extension),
    };
  }

  /** Every registered extension, sorted by name (idle ones with zeros). */
  snapshot(): StatsSnapshot {
    const registered = new Set(this.#options.extensions());
    // Forget extensions that are no longer registered (retired): the map stays bounded.
    for (const name of this.#rings.keys()) if (!registered.has(name)) this.#rings.delete(name);
    return { windowSeconds: this.windowSeconds, extensions: [...registered].sort().map((name) => this.of(name)) };
  }
}

/** The upper bound of the bucket holding the q-quantile, rounded to 0.1 ms. */
function percentile(histogram: Uint32Array, count: number, q: number): number {
  const rank = Math.ceil(q * count);
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= rank) return Math.round(upperBoundOf(i) * 10) / 10;
  }
  return Math.round(upperBoundOf(BUCKETS - 1) * 10) / 10;
}
