// Counters a running extension keeps so tests and benchmarks can assert on batching
// ("one gateway request loads each entity type in one batch") without a tracer.

export interface ExtensionStats {
  /** GraphQL HTTP requests received (health checks and 404s are not counted). */
  readonly requests: number;
  /** Batches executed per loader name. */
  readonly batches: Readonly<Record<string, number>>;
  /** Keys loaded per loader name, summed over its batches. */
  readonly keys: Readonly<Record<string, number>>;
  /** Sets every counter back to zero (in place: references to `batches`/`keys` stay valid). */
  reset(): void;
}

/** The writable side, used by the SDK only. */
export interface ExtensionStatsRecorder extends ExtensionStats {
  recordRequest(): void;
  recordBatch(loaderName: string, keyCount: number): void;
}

// Loader names come from extension code; a name such as "constructor" or "__proto__"
// must count like any other instead of hitting Object.prototype.
function increment(record: Record<string, number>, name: string, by: number): void {
  const current = Object.hasOwn(record, name) ? (record[name] ?? 0) : 0;
  Object.defineProperty(record, name, { value: current + by, enumerable: true, writable: true, configurable: true });
}

function clear(record: Record<string, number>): void {
  for (const name of Object.keys(record)) delete record[name];
}

export function createExtensionStats(): ExtensionStatsRecorder {
  const batches: Record<string, number> = {};
  const keys: Record<string, number> = {};
  let requests = 0;
  return {
    get requests() {
      return requests;
    },
    batches,
    keys,
    reset() {
      requests = 0;
      clear(batches);
      clear(keys);
    },
    recordRequest() {
      requests += 1;
    },
    recordBatch(loaderName, keyCount) {
      increment(batches, loaderName, 1);
      increment(keys, loaderName, keyCount);
    },
  };
}
