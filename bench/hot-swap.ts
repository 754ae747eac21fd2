// Hot swap under load: 10 supergraph swaps during a 30-second load on loopback; every
// response is checked against the expected body. Goal: 0 failed, 0 wrong.
//   npm run bench:hot-swap         (BENCH_DURATION=30 BENCH_SWAPS=10 BENCH_CONCURRENCY=16)
import { runHotSwapScenario } from '../test/helpers/index.js';
import { table, writeResult } from './lib/index.js';

const durationMs = Number(process.env['BENCH_DURATION'] ?? 30) * 1000;
const swaps = Number(process.env['BENCH_SWAPS'] ?? 10);
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const report = await runHotSwapScenario({ durationMs, swaps, concurrency });
process.stdout.write(
  `${table([
    ['duration s', 'swaps', 'requests', 'req/s', 'failed', 'wrong'],
    [(report.durationMs / 1000).toFixed(1), String(report.swaps), String(report.requests), (report.requests / (report.durationMs / 1000)).toFixed(0), String(report.failed), String(report.wrong)],
  ])}\n${report.firstProblem ? `first problem: ${report.firstProblem}\n` : ''}`,
);
process.stdout.write(`written ${await writeResult('hot-swap', { date: new Date().toISOString(), ...report })}\n`);
process.exit(report.failed + report.wrong === 0 ? 0 : 1);
