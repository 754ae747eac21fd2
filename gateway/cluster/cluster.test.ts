// The primary's pure parts: when a dead worker is restarted, and which IPC messages count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPrimaryMessage, isWorkerMessage } from './messages.js';
import { RestartBudget, workerExecArgv } from './index.js';

test('a dead worker is restarted after 0.5 s, then backing off, and stays down after 5 restarts within a minute', () => {
  let now = 0;
  const budget = new RestartBudget({}, () => now);
  const delays: Array<number | undefined> = [];
  for (let exit = 0; exit < 6; exit++) {
    delays.push(budget.nextDelay(2));
    now += 1000;
  }
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, undefined]);
  assert.equal(budget.nextDelay(1), 500, 'each worker has its own budget');
});

test('restarts older than the window no longer count, and the delay never exceeds maxDelayMs', () => {
  let now = 0;
  const budget = new RestartBudget({ baseDelayMs: 1000, maxDelayMs: 3000, maxRestarts: 10, windowMs: 10_000 }, () => now);
  assert.deepEqual([budget.nextDelay(1), budget.nextDelay(1), budget.nextDelay(1), budget.nextDelay(1)], [1000, 2000, 3000, 3000]);
  now += 10_000;
  assert.equal(budget.nextDelay(1), 1000, 'a worker that stayed up for the window starts over');
});

test('only Graft messages of the right direction are taken from the IPC channel', () => {
  assert.ok(isWorkerMessage({ graft: 'registry-changed' }));
  assert.ok(isWorkerMessage({ graft: 'ready', url: 'http://127.0.0.1:4000' }));
  assert.ok(isPrimaryMessage({ graft: 'task', id: 1, name: 'x', payload: null }));
  assert.ok(!isPrimaryMessage({ graft: 'ready', url: 'x' }), 'a worker message is not a primary message');
  assert.ok(!isWorkerMessage({ cmd: 'NODE_CLUSTER', act: 'online' }), "node:cluster's own messages are ignored");
  assert.ok(!isWorkerMessage(null));
  assert.ok(!isWorkerMessage('registry-changed'));
});

test("workers get tsx's loader and Graft's node flags, unless the primary was given its own value of a flag", () => {
  const plain = workerExecArgv([]);
  assert.ok(plain.includes('--max-semi-space-size=64'));
  assert.ok(plain.includes('--import'));
  const tuned = workerExecArgv(['--max-semi-space-size=32', '--import', 'tsx']);
  assert.deepEqual(tuned, ['--max-semi-space-size=32', '--import', 'tsx']);
});
