// `graft start` with GRAFT_WORKERS > 1: this process becomes the primary (gateway/cluster)
// and runs N gateway workers on HOST:PORT (each runs start-worker.ts). The example
// extensions are this process's children, started once the workers listen; the leader
// worker publishes them, as the only process does in single-process mode.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster } from '../cluster/index.js';
import type { GraftConfig } from '../config/index.js';
import { createGraftLogger } from '../telemetry/index.js';
import { BOOTSTRAP_TASK, type ExampleToPublish } from './bootstrap.js';
import { stopExamples, type RunningExample } from './examples.js';
import { printBanner, startAllExamples, type StartOptions } from './start.js';

export async function runStartCluster(options: StartOptions & { config: GraftConfig; operationsDir: string }): Promise<void> {
  const { config } = options;
  const logger = createGraftLogger({ level: config.logLevel }).child({ component: 'cluster' });
  const cluster = await startCluster({
    config,
    logger,
    // start-worker.js beside this file in a compiled start (dist/), start-worker.ts under tsx.
    workerModule: fileURLToPath(new URL(`./start-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url)),
    // Workers load their config from the environment: give them the same operations folder.
    env: { GRAFT_OPERATIONS_DIR: options.operationsDir },
  });
  const examples: RunningExample[] = [];
  let shuttingDown = false;

  const shutdown = async (signal: NodeJS.Signals, exitCode = 0): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: the workers drain, then the examples stop');
    await cluster.stop(signal);
    await stopExamples(examples);
    process.exit(exitCode);
  };
  // `on`, not `once`: a second Ctrl-C must not kill the primary while its workers drain.
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  void cluster.failed.then((error) => {
    logger.error({ err: error }, 'stopping');
    return shutdown('SIGTERM', 1);
  });

  let published: string[] = [];
  try {
    if (options.examples) {
      const gatewayAuth = { jwksUrl: `${cluster.url}/.well-known/jwks.json`, issuer: config.upstreamIssuer };
      examples.push(...(await startAllExamples({ gatewayAuth, logger, isShuttingDown: () => shuttingDown })));
      const toPublish: ExampleToPublish[] = examples.map(({ name, url, manifestPath }) => ({ name, url, manifestPath }));
      published = await cluster.runOnLeader<string[]>(BOOTSTRAP_TASK, toPublish);
    }
  } catch (error) {
    shuttingDown = true;
    await cluster.stop('SIGTERM');
    await stopExamples(examples);
    throw error;
  }
  await printBanner({ url: cluster.url, published, devIssuer: cluster.devIssuer, workers: { count: cluster.size, pids: [...cluster.pids().values()] } });
}
