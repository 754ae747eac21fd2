// Hot swap under load, short version (the 30-second one is `npm run bench:hot-swap`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runHotSwapScenario } from '../helpers/index.js';

test('supergraph swaps during continuous traffic fail or corrupt no response', async () => {
  const report = await runHotSwapScenario({ durationMs: 4000, swaps: 4, concurrency: 8 });
  assert.ok(report.requests > report.swaps, `traffic around the swaps (${report.requests} requests)`);
  // The point of the test: some requests were running on the old supergraph when it was
  // replaced, and they too answered completely and exactly.
  assert.ok(report.inFlightAtSwaps >= 1, `a request straddled a swap (${report.inFlightAtSwaps} in flight at the ${report.swaps} swaps)`);
  assert.equal(report.failed, 0, report.firstProblem);
  assert.equal(report.wrong, 0, report.firstProblem);
});
