// Readiness (GET /readiness) apart from liveness (GET /health). A process is live as soon
// as it answers; it is ready once it can serve: a supergraph is served and the start-up
// work it was told to wait for (e.g. `graft start`'s example bootstrap) is done. A
// Kubernetes readiness probe keeps traffic away until then; a liveness probe on /health
// never restarts a gateway that is only waiting for its first publish.
// Per process: in multi-process mode (GRAFT_WORKERS) each worker answers for itself.
import type { FastifyInstance } from 'fastify';

/** What /readiness waits for while no supergraph is served. */
export const WAITING_FOR_SUPERGRAPH = 'a supergraph (publish an extension)';

export interface ReadinessReport {
  ready: boolean;
  /** What is still missing, in words; empty when ready. */
  waitingFor: string[];
}

export class Readiness {
  readonly #serving: () => boolean;
  readonly #pending: Set<string>;

  /**
   * @param serving whether a supergraph is served right now
   * @param pending start-up work to wait for, each finished by done(name)
   */
  constructor(options: { serving: () => boolean; pending?: Iterable<string> }) {
    this.#serving = options.serving;
    this.#pending = new Set(options.pending ?? []);
  }

  /** Start-up work `name` is finished (unknown names are ignored: calling twice is harmless). */
  done(name: string): void {
    this.#pending.delete(name);
  }

  report(): ReadinessReport {
    const waitingFor = [...(this.#serving() ? [] : [WAITING_FOR_SUPERGRAPH]), ...this.#pending];
    return { ready: waitingFor.length === 0, waitingFor };
  }
}

/** GET /readiness: 200 {status: 'ready'} or 503 {status: 'not-ready', waitingFor}; never cached. */
export async function readinessRoute(app: FastifyInstance, options: { readiness: Readiness; worker?: number }): Promise<void> {
  app.get('/readiness', { schema: { hide: true } }, async (_request, reply) => {
    const { ready, waitingFor } = options.readiness.report();
    const worker = options.worker === undefined ? {} : { worker: options.worker };
    void reply.header('cache-control', 'no-store');
    return ready ? reply.code(200).send({ status: 'ready', ...worker }) : reply.code(503).send({ status: 'not-ready', waitingFor, ...worker });
  });
}
