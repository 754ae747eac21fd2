// The IPC protocol between the primary and its workers, over node:cluster's channel. Each
// message carries `graft` (its kind), so anything else on the channel (Node's own cluster
// messages) is ignored by both sides.
import type { ExtensionHealth } from '../health/index.js';

/** The environment variable that gives a worker its number, 1..N (1 is the leader). */
export const WORKER_ID_ENV = 'GRAFT_CLUSTER_WORKER';

/** Worker 1 runs the singletons (health checks, registering operations, leader tasks). */
export const LEADER_ID = 1;

/** From a worker to the primary. */
export type WorkerMessage =
  /** The server listens; `url` as it reported it. */
  | { graft: 'ready'; url: string }
  /** The server could not start; the worker exits next. */
  | { graft: 'failed'; message: string }
  /** This worker committed a registry change: the others must re-sync. */
  | { graft: 'registry-changed' }
  /** The leader's health statuses after a round of checks. */
  | { graft: 'health'; statuses: ExtensionHealth[] }
  /** The outcome of a task the primary asked the leader to run. */
  | { graft: 'task-result'; id: number; ok: true; result: unknown }
  | { graft: 'task-result'; id: number; ok: false; message: string };

/** From the primary to a worker. */
export type PrimaryMessage =
  /** Another worker changed the registry. */
  | { graft: 'registry-changed' }
  | { graft: 'health'; statuses: ExtensionHealth[] }
  /** Run the worker's task `name` (registered with PrimaryConnection.ready). */
  | { graft: 'task'; id: number; name: string; payload: unknown };

const WORKER_KINDS = new Set(['ready', 'failed', 'registry-changed', 'health', 'task-result']);
const PRIMARY_KINDS = new Set(['registry-changed', 'health', 'task']);

function kindOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as { graft?: unknown }).graft : undefined;
}

// Both ends are this code base, so the kind is checked, not every field.
export function isWorkerMessage(value: unknown): value is WorkerMessage {
  const kind = kindOf(value);
  return typeof kind === 'string' && WORKER_KINDS.has(kind);
}

export function isPrimaryMessage(value: unknown): value is PrimaryMessage {
  const kind = kindOf(value);
  return typeof kind === 'string' && PRIMARY_KINDS.has(kind);
}
