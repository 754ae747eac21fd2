// Per-request DataLoader registry. Entity resolution (`__resolveReference`) and list
// fields are called once per object; going through a named loader turns the N calls
// of one request into one batch. A registry lives in one request's context only, so
// cached values never leak between requests (or users).
import DataLoader from 'dataloader';
import type { ExtensionStatsRecorder } from './stats.js';

/** Loads values for many keys at once: one result (or Error) per key, in key order. */
export type BatchLoadFunction<K, V> = (keys: readonly K[]) => Promise<ReadonlyArray<V | Error>>;

/** DataLoader options an extension may set; batching itself is always on. */
export type LoaderOptions<K, V> = Pick<DataLoader.Options<K, V, unknown>, 'maxBatchSize' | 'cache' | 'cacheKeyFn'>;

export class LoaderRegistry {
  readonly #loaders = new Map<string, DataLoader<unknown, unknown, unknown>>();
  readonly #stats: ExtensionStatsRecorder;

  constructor(stats: ExtensionStatsRecorder) {
    this.#stats = stats;
  }

  /**
   * The request's loader called `name`, created on first use from `batchFn`. Later calls
   * with the same name return that same loader and ignore their `batchFn`, so one name
   * must always mean one key → value mapping within an extension.
   */
  get<K, V>(name: string, batchFn: BatchLoadFunction<K, V>, options?: LoaderOptions<K, V>): DataLoader<K, V> {
    const existing = this.#loaders.get(name);
    // The cast is sound as long as a name always maps to the same K/V, as documented above.
    if (existing) return existing as unknown as DataLoader<K, V>;

    const stats = this.#stats;
    const countedBatchFn = (keys: readonly K[]): Promise<ReadonlyArray<V | Error>> => {
      stats.recordBatch(name, keys.length);
      return batchFn(keys);
    };
    const loader = new DataLoader<K, V, unknown>(countedBatchFn, { ...options, name });
    this.#loaders.set(name, loader as unknown as DataLoader<unknown, unknown, unknown>);
    return loader;
  }

  /** Whether this request has already created a loader with that name. */
  has(name: string): boolean {
    return this.#loaders.has(name);
  }
}
