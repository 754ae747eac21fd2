// What `graft simulate` prints: what users saw (answers by error code, latency), what the
// extension saw through the fault proxy, the breaker, and one verdict against the
// extension's limits (manifest limits.timeoutMs, as the gateway applies it).
import type { LatencySummary, LoadReport } from './load.js';

export interface SimulationReport {
  extension: string;
  settings: {
    latencyMs: number;
    errorRate: number;
    concurrency: number;
    durationMs: number;
    maxRequests: number;
    query: string;
  };
  /** The fetch timeout the gateway applied, and where it came from. */
  timeout: { ms: number; source: 'manifest' | 'option' | 'gateway default' };
  users: LoadReport;
  extensionSide: {
    /** Requests that reached the proxy (retries included). */
    requests: number;
    injected503: number;
    forwarded: number;
    abandonedByGateway: number;
    latencyMs: LatencySummary;
  };
  breaker: { trips: number; state: string };
  verdict: SimulationVerdict;
}

export interface SimulationVerdict {
  level: 'pass' | 'warn' | 'fail';
  reasons: string[];
}

/** Above this share of failed answers the verdict is fail. */
const FAIL_ERROR_RATE = 0.05;
/** A p99 at the extension above this share of the timeout leaves too little headroom. */
const HEADROOM = 0.8;

const pct = (n: number) => `${Math.round(n * 1000) / 10}%`;

export function simulationVerdict(report: Omit<SimulationReport, 'verdict'>): SimulationVerdict {
  const fail: string[] = [];
  const warn: string[] = [];
  const { users, extensionSide, breaker, timeout } = report;
  const failedRate = users.requests === 0 ? 0 : users.failed / users.requests;
  const timeouts = users.byCode['EXTENSION_TIMEOUT'] ?? 0;
  if (users.requests === 0) fail.push('no request completed');
  if (timeouts > 0 || extensionSide.latencyMs.p99 >= timeout.ms) {
    fail.push(
      `${timeouts} answer${timeouts === 1 ? '' : 's'} hit EXTENSION_TIMEOUT: the extension's p99 with this latency is ${extensionSide.latencyMs.p99} ms against limits.timeoutMs ${timeout.ms} ms (${timeout.source}); make it faster or raise the limit`,
    );
  } else if (extensionSide.latencyMs.p99 >= HEADROOM * timeout.ms) {
    warn.push(`the extension's p99 (${extensionSide.latencyMs.p99} ms) is within ${Math.round((1 - HEADROOM) * 100)}% of limits.timeoutMs ${timeout.ms} ms (${timeout.source}): little headroom`);
  }
  if (breaker.trips > 0) {
    fail.push(`the circuit breaker opened ${breaker.trips} time${breaker.trips === 1 ? '' : 's'}: users got EXTENSION_CIRCUIT_OPEN while it was open (state now ${breaker.state})`);
  }
  if (failedRate > FAIL_ERROR_RATE) fail.push(`${pct(failedRate)} of answers carried errors (more than ${pct(FAIL_ERROR_RATE)})`);
  else if (users.failed > 0) warn.push(`${users.failed} answer${users.failed === 1 ? '' : 's'} (${pct(failedRate)}) still carried errors after the gateway's retries`);
  if (fail.length > 0) return { level: 'fail', reasons: [...fail, ...warn] };
  if (warn.length > 0) return { level: 'warn', reasons: warn };
  const absorbed = extensionSide.injected503 > 0 ? `; the gateway's retries absorbed all ${extensionSide.injected503} injected 503s` : '';
  return {
    level: 'pass',
    reasons: [`every answer was complete; the extension's p99 ${extensionSide.latencyMs.p99} ms stays under limits.timeoutMs ${timeout.ms} ms (${timeout.source})${absorbed}`],
  };
}

export function formatSimulationReport(report: SimulationReport): string {
  const { settings, users, extensionSide, breaker, verdict } = report;
  const codes = Object.entries(users.byCode).sort(([, a], [, b]) => b - a);
  const lines = [
    `Simulated ${report.extension}: ${settings.latencyMs} ms added latency, ${pct(settings.errorRate)} 503s, ${settings.concurrency} concurrent users, ` +
      `${users.requests} requests in ${(users.elapsedMs / 1000).toFixed(1)} s (${users.requestsPerSecond}/s)`,
    `  query: ${settings.query}`,
    '',
    'What users saw',
    `  complete answers     ${users.ok} (${pct(users.requests === 0 ? 0 : users.ok / users.requests)})`,
    `  answers with errors  ${users.failed}${users.partial > 0 ? ` (${users.partial} with partial data)` : ''}`,
    ...codes.map(([code, count]) => `    ${code.padEnd(26)} ${count}`),
    `  latency              p50 ${users.latencyMs.p50} ms, p95 ${users.latencyMs.p95} ms, p99 ${users.latencyMs.p99} ms, max ${users.latencyMs.max} ms`,
    '',
    'What the extension saw (through the fault proxy)',
    `  requests             ${extensionSide.requests} (${extensionSide.injected503} answered 503 by the proxy, ${extensionSide.forwarded} forwarded${extensionSide.abandonedByGateway > 0 ? `, ${extensionSide.abandonedByGateway} abandoned by the gateway` : ''})`,
    `  latency              p50 ${extensionSide.latencyMs.p50} ms, p99 ${extensionSide.latencyMs.p99} ms (timeout ${report.timeout.ms} ms, ${report.timeout.source})`,
    `  circuit breaker      ${breaker.trips} trip${breaker.trips === 1 ? '' : 's'}, now ${breaker.state}`,
    '',
    `verdict: ${verdict.level.toUpperCase()} — ${verdict.reasons.join('; ')}`,
  ];
  return `${lines.join('\n')}\n`;
}
