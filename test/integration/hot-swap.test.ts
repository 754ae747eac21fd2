// Hot swap under load, short version (the 30-second one is `npm run bench:hot-swap`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runHotSwapScenario } from '../helpers/index.js';

test('supergraph swaps during continuous traffic fail or corrupt no response', async () => {
  const report = await runHotSwapScenario({ durationMs: 4000, swaps: 4, concurrency: 8 });
  assert.ok(report.requests > 20, `enough traffic to overlap the swaps (${report.requests} requests)`);
  assert.equal(report.failed, 0, report.firstProblem);
  assert.equal(report.wrong, 0, report.firstProblem);
});
