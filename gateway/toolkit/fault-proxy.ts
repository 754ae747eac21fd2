// The fault-injecting HTTP proxy of `graft simulate`: listens on loopback in front of one
// extension, delays every request by `latencyMs`, answers `errorRate` of them with a 503
// itself (as an overloaded extension or its load balancer would), and forwards the rest
// unchanged. Deterministic for a given seed.
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultProxyOptions {
  /** The extension's GraphQL URL (http). */
  target: string;
  latencyMs: number;
  /** 0..1 */
  errorRate: number;
  /** PRNG seed for which requests fail (default: random). */
  seed?: number;
  /** Start with faults on (default true); see FaultProxy.injecting. */
  injecting?: boolean;
}

export interface FaultProxyStats {
  /** Requests the gateway sent (retries included). */
  requests: number;
  /** Of those, answered 503 by the proxy. */
  injectedErrors: number;
  forwarded: number;
  /** The gateway gave up (timeout) before the answer. */
  abandoned: number;
  /** Forwarding failed (the extension is down). */
  upstreamFailures: number;
  /** Time of each request at the proxy: injected latency + the extension's own time. */
  durationsMs: number[];
}

export interface FaultProxy {
  /** The URL to register instead of the extension's (same path). */
  readonly url: string;
  readonly stats: FaultProxyStats;
  /** While false, requests pass through untouched and uncounted (warm-up). */
  injecting: boolean;
  resetStats(): void;
  close(): Promise<void>;
}

/** mulberry32: small, fast, good enough to pick failures reproducibly. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const emptyStats = (): FaultProxyStats => ({ requests: 0, injectedErrors: 0, forwarded: 0, abandoned: 0, upstreamFailures: 0, durationsMs: [] });

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (target.protocol !== 'http:') throw new Error(`the fault proxy forwards to http URLs only; got ${options.target}`);
  const next = random(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let stats = emptyStats();
  const state = { injecting: options.injecting ?? true };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (!state.injecting) {
      forward(req, res, emptyStats(), performance.now(), 0, false);
      return;
    }
    const started = performance.now();
    const current = stats;
    current.requests += 1;
    // Decided on arrival, so the sequence of failures depends on the seed only.
    const fail = next() < options.errorRate;
    forward(req, res, current, started, options.latencyMs, fail);
  };

  const forward = (req: IncomingMessage, res: ServerResponse, current: FaultProxyStats, started: number, latencyMs: number, fail: boolean): void => {
    const chunks: Buffer[] = [];
    let clientGone = false;
    res.on('close', () => {
      if (!res.writableFinished) clientGone = true;
    });
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      setTimeout(() => {
        if (clientGone) {
          current.abandoned += 1;
          current.durationsMs.push(performance.now() - started);
          return;
        }
        if (fail) {
          current.injectedErrors += 1;
          res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', connection: 'keep-alive' });
          res.end('Service Unavailable (injected by graft simulate)\n');
          current.durationsMs.push(performance.now() - started);
          return;
        }
        const body = Buffer.concat(chunks);
        const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
        const upstream = httpRequest(
          { agent, host: target.hostname, port: target.port, method: req.method, path: target.pathname + target.search, headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            answer.on('end', () => {
              current.forwarded += 1;
              current.durationsMs.push(performance.now() - started);
            });
          },
        );
        upstream.on('error', () => {
          current.upstreamFailures += 1;
          current.durationsMs.push(performance.now() - started);
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('Bad Gateway (the extension behind graft simulate did not answer)\n');
        });
        res.on('close', () => {
          if (!res.writableFinished) upstream.destroy();
        });
        upstream.end(body);
      }, latencyMs);
    });
  };

  const server = createServer({ keepAlive: true }, handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}${target.search}`,
    get stats() {
      return stats;
    },
    get injecting() {
      return state.injecting;
    },
    set injecting(value: boolean) {
      state.injecting = value;
    },
    resetStats() {
      stats = emptyStats();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
