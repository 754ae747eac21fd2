// Prometheus metrics (prom-client), in a registry of the gateway's own (never prom-client's
// global one: several gateways in one process, e.g. tests, keep separate counts). Names and
// labels are documented in the README ("Operating Graft"); every label value is bounded.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BreakerState } from '../upstream/index.js';

export const BREAKER_VALUES: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2, isolated: 2 };

/** Request outcomes (label `outcome` of graft_requests_total). */
export type RequestOutcome = 'ok' | 'partial' | 'error';

export interface MetricsSources {
  /** Registered extensions, read at each scrape (breaker gauge). */
  extensions: () => Iterable<string>;
  breakerOf: (extension: string) => BreakerState;
  /** The supergraph being served, read at each scrape. */
  supergraph: () => { id: number | undefined; hash: string } | undefined;
  /** Whether the registry database answers, read at each scrape; absent: no graft_registry_up series. */
  registryUp?: () => boolean;
}

export class GraftMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'operation' | 'outcome'>;
  readonly requestDuration: Histogram<'operation'>;
  readonly errors: Counter<'code'>;
  readonly fetchDuration: Histogram<'extension' | 'outcome'>;
  readonly extensionErrors: Counter<'extension' | 'code'>;
  readonly estimatedCost: Histogram<string>;

  constructor(sources: MetricsSources, options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'graft_requests_total',
      help: 'GraphQL requests answered at /graphql, by operation name (bounded) and outcome (ok, partial, error).',
      labelNames: ['operation', 'outcome'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'graft_request_duration_seconds',
      help: 'Time to answer a /graphql request, from the first byte received to the last byte sent.',
      labelNames: ['operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.errors = new Counter({
      name: 'graft_errors_total',
      help: 'Errors in /graphql responses, by extensions.code (Graft, Apollo Server and extension codes; others: OTHER).',
      labelNames: ['code'],
      registers,
    });
    this.fetchDuration = new Histogram({
      name: 'graft_extension_fetch_duration_seconds',
      help: 'Duration of one subgraph request to an extension (retries included; a batched request carries several query-plan fetches), by extension and outcome (ok, error).',
      labelNames: ['extension', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.extensionErrors = new Counter({
      name: 'graft_extension_errors_total',
      help: 'Failed fetches (EXTENSION_* codes) and GraphQL errors an extension answered with, by extension and code.',
      labelNames: ['extension', 'code'],
      registers,
    });
    this.estimatedCost = new Histogram({
      name: 'graft_operation_estimated_cost',
      help: 'Static cost estimated at the edge for each operation (@cost / @listSize), refused ones included.',
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000],
      registers,
    });
    new Gauge({
      name: 'graft_extension_breaker_state',
      help: "State of each registered extension's circuit breaker: 0 closed, 1 half-open, 2 open.",
      labelNames: ['extension'],
      registers,
      collect() {
        this.reset();
        for (const extension of sources.extensions()) this.set({ extension }, BREAKER_VALUES[sources.breakerOf(extension)]);
      },
    });
    new Gauge({
      name: 'graft_supergraph_info',
      help: 'The supergraph being served: always 1, with its registry id and hash as labels.',
      labelNames: ['id', 'hash'],
      registers,
      collect() {
        this.reset();
        const current = sources.supergraph();
        if (current) this.set({ id: String(current.id ?? ''), hash: current.hash }, 1);
      },
    });
    new Gauge({
      name: 'graft_supergraph_version',
      help: 'Registry id of the supergraph being served (it grows with each publish or retire); 0 before the first.',
      registers,
      collect() {
        this.set(sources.supergraph()?.id ?? 0);
      },
    });
    const { registryUp } = sources;
    if (registryUp) {
      new Gauge({
        name: 'graft_registry_up',
        help: 'Whether the registry database answers (1) or not (0). While it is down the gateway serves its last good supergraph and refuses publishes (REGISTRY_UNAVAILABLE).',
        registers,
        collect() {
          this.set(registryUp() ? 1 : 0);
        },
      });
    }
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
