// A bounded load on loopback for `graft simulate`: `concurrency` workers POST one GraphQL
// operation until `maxRequests` were sent or `durationMs` passed, and every answer is
// classified the way a frontend sees it (ok, or the error codes it carried).
import { Agent, request } from 'undici';

export interface LoadOptions {
  /** The gateway's /graphql URL. */
  url: string;
  query: string;
  variables?: Record<string, unknown>;
  token: string;
  concurrency: number;
  durationMs: number;
  maxRequests: number;
  /** Per request; a request that takes longer counts as CLIENT_TIMEOUT. */
  requestTimeoutMs?: number;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface LoadReport {
  requests: number;
  /** Answers without any error. */
  ok: number;
  /** Answers with errors (possibly with partial data). */
  failed: number;
  /** Answers carrying some data next to their errors. */
  partial: number;
  /** Answers by error code (an answer with two codes counts under both). */
  byCode: Record<string, number>;
  latencyMs: LatencySummary;
  elapsedMs: number;
  requestsPerSecond: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function summarizeLatency(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  const mean = sorted.length === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return {
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? 0),
    mean: round(mean),
  };
}

/** The error codes of one answer: GraphQL `extensions.code`s, else the HTTP status. */
export function codesOf(status: number, body: unknown): { codes: string[]; hasData: boolean } {
  const codes = new Set<string>();
  let hasData = false;
  if (typeof body === 'object' && body !== null) {
    const { errors, data } = body as { errors?: unknown; data?: unknown };
    hasData = typeof data === 'object' && data !== null && Object.values(data).some((value) => value !== null);
    if (Array.isArray(errors)) {
      for (const error of errors) {
        const code = (error as { extensions?: { code?: unknown } } | null)?.extensions?.code;
        codes.add(typeof code === 'string' ? code : 'UNKNOWN_ERROR');
      }
    }
  }
  if (codes.size === 0 && status !== 200) codes.add(`HTTP_${status}`);
  return { codes: [...codes].sort(), hasData };
}

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const target = new URL(options.url);
  const agent = new Agent({ connections: options.concurrency, keepAliveTimeout: 10_000 });
  const body = JSON.stringify({ query: options.query, ...(options.variables ? { variables: options.variables } : {}) });
  const headers = { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${options.token}` };
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const latencies: number[] = [];
  const byCode: Record<string, number> = {};
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let partial = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;

  const count = (codes: string[], hasData: boolean): void => {
    if (codes.length === 0) {
      ok += 1;
      return;
    }
    failed += 1;
    if (hasData) partial += 1;
    for (const code of codes) byCode[code] = (byCode[code] ?? 0) + 1;
  };

  const worker = async (): Promise<void> => {
    while (sent < options.maxRequests && performance.now() < deadline) {
      sent += 1;
      const at = performance.now();
      try {
        const response = await request(target, {
          method: 'POST',
          headers,
          body,
          dispatcher: agent,
          signal: AbortSignal.timeout(requestTimeoutMs),
        });
        const text = await response.body.text();
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        latencies.push(performance.now() - at);
        const { codes, hasData } = codesOf(response.statusCode, parsed);
        count(codes, hasData);
      } catch (error) {
        latencies.push(performance.now() - at);
        count([(error as Error).name === 'TimeoutError' ? 'CLIENT_TIMEOUT' : 'NETWORK_ERROR'], false);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    await agent.close();
  }
  const elapsedMs = performance.now() - started;
  return {
    requests: sent,
    ok,
    failed,
    partial,
    byCode,
    latencyMs: summarizeLatency(latencies),
    elapsedMs: Math.round(elapsedMs),
    requestsPerSecond: Math.round((sent / Math.max(elapsedMs, 1)) * 10_000) / 10,
  };
}
