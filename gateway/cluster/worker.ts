// The worker's end of the cluster: who this worker is, telling the primary what happened
// here (a registry change, the leader's health statuses), serving what the primary relays
// from the other workers, and draining on SIGTERM / SIGINT. The gateway itself stays
// unaware of the cluster: the worker module hands it a role and these callbacks through
// StartGraftServerOptions.
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import type { ExtensionHealth } from '../health/index.js';
import { isPrimaryMessage, LEADER_ID, WORKER_ID_ENV, type PrimaryMessage, type WorkerMessage } from './messages.js';

export interface WorkerRole {
  /** 1..N; a replacement keeps the number of the worker it replaces. */
  worker: number;
  /** Worker 1: runs the singletons and the primary's tasks. */
  leader: boolean;
}

/** What the worker's gateway must offer the cluster (GraftServer does). */
export interface ClusterMember {
  /** Re-reads the registry if another process changed it; never rejects. */
  syncRegistry(): Promise<void>;
  health: { adopt(statuses: readonly ExtensionHealth[]): void };
  logger: Logger;
  /** Stops accepting, finishes the requests in flight, releases everything. */
  close(): Promise<void>;
}

/** A task the primary may ask the leader to run (e.g. `graft start`'s bootstrap publish). */
export type LeaderTask = (payload: unknown) => Promise<unknown>;

export interface PrimaryConnection {
  readonly role: WorkerRole;
  /** Tells the primary this worker committed a registry change (StartGraftServerOptions.onRegistryChange). */
  registryChanged(): void;
  /** Shares the leader's health statuses (StartGraftServerOptions.onHealthRound). */
  shareHealth(statuses: ExtensionHealth[]): void;
  /** The gateway listens: from now on it serves the primary's messages and `tasks`. */
  ready(member: ClusterMember, url: string, tasks?: Record<string, LeaderTask>): void;
  /** The gateway could not start: tells the primary why; the caller exits once this resolves. */
  failed(error: unknown): Promise<void>;
}

/** Resolves once the message is handed to the channel (or could not be). */
function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    // The channel is gone only when the primary is: node:cluster then ends this worker anyway.
    if (process.connected && process.send) process.send(message, undefined, {}, () => resolve());
    else resolve();
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Call first thing in a worker: it listens to the primary before the gateway starts, so nothing it relays is missed. */
export function connectToPrimary(): PrimaryConnection {
  const id = Number(process.env[WORKER_ID_ENV]);
  if (!cluster.isWorker || !Number.isInteger(id) || id < 1) {
    throw new Error(`connectToPrimary: not a Graft cluster worker (started by the primary with ${WORKER_ID_ENV}=<n>).`);
  }
  const role: WorkerRole = { worker: id, leader: id === LEADER_ID };
  let member: ClusterMember | undefined;
  let tasks: Record<string, LeaderTask> = {};
  // What arrived while the gateway was starting, applied once it is ready.
  let syncPending = false;
  let healthPending: ExtensionHealth[] | undefined;
  let stopping = false;

  const runTask = async (message: Extract<PrimaryMessage, { graft: 'task' }>): Promise<void> => {
    const task = Object.hasOwn(tasks, message.name) ? tasks[message.name] : undefined;
    if (!task) {
      await send({ graft: 'task-result', id: message.id, ok: false, message: `worker ${id} has no task "${message.name}"` });
      return;
    }
    try {
      await send({ graft: 'task-result', id: message.id, ok: true, result: await task(message.payload) });
    } catch (error) {
      member?.logger.error({ err: error, task: message.name }, 'leader task failed');
      await send({ graft: 'task-result', id: message.id, ok: false, message: messageOf(error) });
    }
  };

  process.on('message', (message: unknown) => {
    if (!isPrimaryMessage(message)) return;
    switch (message.graft) {
      case 'registry-changed':
        if (member) void member.syncRegistry();
        else syncPending = true;
        break;
      case 'health':
        if (member) member.health.adopt(message.statuses);
        else healthPending = message.statuses;
        break;
      case 'task':
        void runTask(message);
        break;
    }
  });

  // `on`, not `once`: Ctrl-C reaches the workers from the terminal and again from the
  // primary, and a second signal must not cut the drain short.
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    if (!member) process.exit(0);
    member.logger.info({ signal, worker: id }, 'worker draining');
    member
      .close()
      .catch((error: unknown) => member?.logger.error({ err: error }, 'worker did not close cleanly'))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  return {
    role,
    registryChanged: () => void send({ graft: 'registry-changed' }),
    shareHealth: (statuses) => void send({ graft: 'health', statuses }),
    ready(ready, url, readyTasks = {}) {
      member = ready;
      tasks = readyTasks;
      if (healthPending) ready.health.adopt(healthPending);
      healthPending = undefined;
      // A change may also have committed between the gateway's first read and now.
      if (syncPending) void ready.syncRegistry();
      syncPending = false;
      void send({ graft: 'ready', url });
    },
    failed: (error) => send({ graft: 'failed', message: messageOf(error) }),
  };
}
