// The primary process of multi-process mode (GRAFT_WORKERS > 1). It serves no request:
// it prepares the data dir, forks N workers that all listen on HOST:PORT (node:cluster
// hands them the one socket), relays registry changes and health statuses between them,
// restarts a worker that dies, and on SIGTERM / SIGINT lets them drain before it exits.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { DevIssuer } from '../auth/index.js';
import { GRAFT_NODE_FLAGS, type GraftConfig } from '../config/index.js';
import type { ExtensionHealth } from '../health/index.js';
import { isWorkerMessage, LEADER_ID, WORKER_ID_ENV, type PrimaryMessage, type WorkerMessage } from './messages.js';
import { prepareSharedState } from './prepare.js';
import { RestartBudget, type RestartPolicy } from './restart.js';

export interface ClusterOptions {
  config: GraftConfig;
  /**
   * The module each worker runs: it calls connectToPrimary() and starts the gateway
   * (TypeScript is fine: workers then run with tsx's loader).
   */
  workerModule: string;
  /** Added to the workers' environment (they read their config from it). */
  env?: Record<string, string>;
  logger: Logger;
  restart?: Partial<RestartPolicy>;
  /** Longest wait for a worker to report it listens. */
  startTimeoutMs?: number;
  /** Longest wait for a worker to drain after SIGTERM before it is killed. */
  drainTimeoutMs?: number;
}

export interface GraftCluster {
  /** Where every worker listens, e.g. http://127.0.0.1:4000 */
  readonly url: string;
  /** How many workers it keeps running. */
  readonly size: number;
  readonly devIssuer: DevIssuer | undefined;
  /** Pids of the running workers, by worker number. */
  pids(): Map<number, number>;
  /** Runs a task the worker module registered, on the leader (worker 1). */
  runOnLeader<T>(name: string, payload: unknown): Promise<T>;
  /** Resolves (never rejects) if every worker exhausted its restarts: nothing serves any more. */
  readonly failed: Promise<Error>;
  /** Forwards `signal` to every worker and waits until they have drained and exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Workers running a TypeScript module get tsx's loader, resolved from here so any cwd works
 * (a compiled one, from dist/, needs none), and Graft's node flags (GRAFT_NODE_FLAGS) unless
 * the primary was started with its own value.
 */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv, workerModule = '.ts'): string[] {
  const flagName = (arg: string) => arg.split('=')[0];
  const given = new Set(execArgv.map(flagName));
  const args = [...execArgv, ...GRAFT_NODE_FLAGS.filter((flag) => !given.has(flagName(flag)))];
  if (!workerModule.endsWith('.ts') || execArgv.some((arg) => arg.includes('tsx'))) return args;
  return [...args, '--import', import.meta.resolve('tsx')];
}

function send(worker: Worker, message: PrimaryMessage): void {
  // A worker that is exiting has closed its channel; its replacement gets what it needs on start.
  if (!worker.isConnected()) return;
  worker.send(message, undefined, () => undefined);
}

interface PendingTask {
  worker: number;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export async function startCluster(options: ClusterOptions): Promise<GraftCluster> {
  const { config, logger } = options;
  const size = config.workers;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const drainTimeoutMs = options.drainTimeoutMs ?? 15_000;
  const shared = await prepareSharedState(config);
  cluster.setupPrimary({ exec: options.workerModule, args: [], execArgv: workerExecArgv(process.execArgv, options.workerModule) });

  const workers = new Map<number, Worker>();
  const budget = new RestartBudget(options.restart);
  const restartTimers = new Set<NodeJS.Timeout>();
  const tasks = new Map<number, PendingTask>();
  let taskSequence = 0;
  let lastHealth: ExtensionHealth[] | undefined;
  let url: string | undefined;
  let stopping = false;
  let reportFailure: (error: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (reportFailure = resolve));

  const others = (id: number) => [...workers].filter(([other]) => other !== id).map(([, worker]) => worker);

  const onMessage = (id: number, message: WorkerMessage): void => {
    switch (message.graft) {
      case 'registry-changed':
        for (const worker of others(id)) send(worker, { graft: 'registry-changed' });
        break;
      case 'health':
        lastHealth = message.statuses;
        for (const worker of others(id)) send(worker, { graft: 'health', statuses: message.statuses });
        break;
      case 'task-result': {
        const task = tasks.get(message.id);
        if (!task) break;
        tasks.delete(message.id);
        if (message.ok) task.resolve(message.result);
        else task.reject(new Error(message.message));
        break;
      }
      case 'ready':
      case 'failed':
        // Handled by waitReady while the worker starts.
        break;
    }
  };

  const fork = (id: number): Worker => {
    const worker = cluster.fork({ ...options.env, [WORKER_ID_ENV]: String(id) });
    workers.set(id, worker);
    worker.on('message', (message: unknown) => {
      if (isWorkerMessage(message)) onMessage(id, message);
    });
    worker.once('exit', (code, signal) => onExit(id, worker, code, signal));
    return worker;
  };

  /** Resolves with the URL the worker listens on, once it says so. */
  const waitReady = (id: number, worker: Worker): Promise<string> =>
    new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        worker.off('message', onReady);
        worker.off('exit', onEarlyExit);
      };
      const onReady = (message: unknown): void => {
        if (!isWorkerMessage(message)) return;
        if (message.graft === 'ready') {
          done();
          resolve(message.url);
        } else if (message.graft === 'failed') {
          done();
          reject(new Error(`worker ${id} could not start: ${message.message}`));
        }
      };
      const onEarlyExit = (code: number | null, signal: string | null): void => {
        done();
        reject(new Error(`worker ${id} exited (${signal ?? `code ${code}`}) before it was ready`));
      };
      const timer = setTimeout(() => {
        done();
        worker.process.kill('SIGKILL');
        reject(new Error(`worker ${id} did not start within ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      worker.on('message', onReady);
      worker.once('exit', onEarlyExit);
    });

  const restart = (id: number): void => {
    const worker = fork(id);
    waitReady(id, worker).then(
      (workerUrl) => {
        logger.info({ worker: id, workerPid: worker.process.pid }, 'worker restarted');
        if (workerUrl !== url) logger.error({ worker: id, url: workerUrl, expected: url }, 'the restarted worker listens elsewhere (PORT=0 and every worker had died)');
        if (lastHealth && id !== LEADER_ID) send(worker, { graft: 'health', statuses: lastHealth });
      },
      // Its exit, if it died, is handled (and counted) by onExit.
      (error: unknown) => logger.error({ worker: id, err: error }, 'restarted worker did not start'),
    );
  };

  const onExit = (id: number, worker: Worker, code: number | null, signal: string | null): void => {
    if (workers.get(id) === worker) workers.delete(id);
    for (const [taskId, task] of tasks) {
      if (task.worker !== id) continue;
      tasks.delete(taskId);
      task.reject(new Error(`worker ${id} exited (${signal ?? `code ${code}`}) before it finished the task`));
    }
    if (stopping || url === undefined) return; // shutting down, or still starting (startCluster fails)
    const delay = budget.nextDelay(id);
    if (delay === undefined) {
      const { maxRestarts, windowMs } = budget.policy;
      logger.error({ worker: id, workerPid: worker.process.pid, code, signal }, `worker ${id} exited ${maxRestarts + 1} times within ${windowMs / 1000} s: not restarting it`);
      if (workers.size === 0 && restartTimers.size === 0) reportFailure(new Error('every worker exited too often: no gateway process is left'));
      return;
    }
    logger.warn({ worker: id, workerPid: worker.process.pid, code, signal, restartInMs: delay }, 'worker exited unexpectedly; restarting it');
    const timer = setTimeout(() => {
      restartTimers.delete(timer);
      if (!stopping) restart(id);
    }, delay);
    restartTimers.add(timer);
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    stopping = true;
    for (const timer of restartTimers) clearTimeout(timer);
    restartTimers.clear();
    await Promise.all(
      [...workers].map(
        ([id, worker]) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            const kill = setTimeout(() => {
              logger.warn({ worker: id, workerPid: worker.process.pid }, `worker did not drain within ${drainTimeoutMs} ms; killing it`);
              worker.process.kill('SIGKILL');
            }, drainTimeoutMs);
            worker.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            // Each worker stops accepting, finishes its requests in flight and exits 0.
            worker.process.kill(signal);
          }),
      ),
    );
  };

  // Start every worker; if one cannot, stop the others and report why.
  const starting = Array.from({ length: size }, (_, index) => {
    const id = index + 1;
    return waitReady(id, fork(id));
  });
  try {
    const urls = await Promise.all(starting);
    url = urls[0];
  } catch (error) {
    // The others are stopped at once (a starting worker exits on SIGTERM), not awaited.
    await stop('SIGTERM');
    await Promise.allSettled(starting);
    throw error;
  }
  const servedUrl = url as string;
  logger.info({ url: servedUrl, workers: size }, 'every worker is listening');

  return {
    url: servedUrl,
    size,
    devIssuer: shared.devIssuer,
    pids: () => new Map([...workers].flatMap(([id, worker]) => (worker.process.pid === undefined ? [] : [[id, worker.process.pid] as const]))),
    runOnLeader: <T>(name: string, payload: unknown): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const leader = workers.get(LEADER_ID);
        if (!leader?.isConnected()) return reject(new Error(`the leader (worker ${LEADER_ID}) is not running: it cannot run "${name}"`));
        const id = ++taskSequence;
        tasks.set(id, { worker: LEADER_ID, resolve: resolve as (value: unknown) => void, reject });
        send(leader, { graft: 'task', id, name, payload });
      }),
    failed,
    stop,
  };
}
