// `graft start` (what `npm start` runs): the gateway on the embedded SQLite registry and,
// unless --no-examples, the four example extensions as child processes, registered and
// published on first start. Prints the URL and a dev token to try. With GRAFT_WORKERS > 1
// the gateway runs as several worker processes under a primary (start-cluster.ts).
import { join } from 'node:path';
import type { Logger } from 'pino';
import { loadGraftConfig, type GraftConfig } from '../config/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { openPostgresRegistry } from '../registry/index.js';
import { CliError, ExitCode } from './exit.js';
import { signDevToken, type DevIssuer } from '../auth/index.js';
import { startGraftServer, type GraftServer } from '../server/index.js';
import { bootstrapExamples } from './bootstrap.js';
import {
  DIRECTIVE_EXAMPLE_NAMES,
  EXAMPLE_DEFAULT_PORTS,
  EXAMPLE_NAMES,
  REPO_ROOT,
  exampleManifestPath,
  startExample,
  stopExamples,
  type RunningExample,
} from './examples.js';

export const DEV_USER_SCOPES = ['crm:read', 'crm:pii', 'orders:read', 'inventory:read'];

export interface StartOptions {
  examples: boolean;
}

/**
 * Starts every example extension on its port (EXAMPLES_PORT_BASE, else the defaults);
 * they verify the tokens the gateway mints against its JWKS URL.
 */
export async function startAllExamples(options: {
  gatewayAuth: { jwksUrl: string; issuer: string };
  logger: Logger;
  isShuttingDown: () => boolean;
}): Promise<RunningExample[]> {
  const base = Number(process.env['EXAMPLES_PORT_BASE'] ?? 0);
  return Promise.all(
    [...EXAMPLE_NAMES, ...DIRECTIVE_EXAMPLE_NAMES].map((name, index) =>
      startExample(name, {
        port: base > 0 ? base + index : EXAMPLE_DEFAULT_PORTS[name],
        host: '127.0.0.1',
        gatewayAuth: options.gatewayAuth,
        onExit: (code) => {
          if (!options.isShuttingDown()) options.logger.error({ extension: name, code }, 'example extension exited; its fields now answer EXTENSION_UNAVAILABLE');
        },
      }),
    ),
  );
}

/** The start banner: where Graft runs, what was registered, a dev token to try. */
export async function printBanner(input: { url: string; published: string[]; devIssuer: DevIssuer | undefined; workers?: { count: number; pids: number[] } }): Promise<void> {
  const { url, published, devIssuer, workers } = input;
  const lines = [`\n  Graft is running at ${url}/graphql`];
  if (workers) lines.push(`  Workers: ${workers.count} processes sharing the port (pids ${workers.pids.join(', ')}); worker 1 runs the health checks`);
  if (published.length > 0) lines.push(`  Registered the example extensions: ${published.join(', ')}`);
  if (devIssuer) {
    const token = await signDevToken(devIssuer, { subject: 'alice', scopes: DEV_USER_SCOPES, ttlSeconds: 8 * 3600 });
    lines.push(
      '',
      `  Dev token (sub alice, scopes "${DEV_USER_SCOPES.join(' ')}", valid 8 h):`,
      `  ${token}`,
      '',
      '  Try:',
      `  curl -s ${url}/graphql -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\`,
      `    -d '{"query":"{ customers(first: 2) { id name orders { id total items { quantity product { name stock } } } } }"}'`,
      '',
      '  An admin token for the admin API: npx graft token --sub admin --scopes graft:admin',
      `  Manifests of the examples: ${exampleManifestPath('crm').replace(/crm\/graft\.json$/, '<name>/graft.json')}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

/**
 * A PostgreSQL registry is opened (and migrated) once before anything starts: an unreachable
 * or wrong GRAFT_REGISTRY_URL, or a database a newer Graft migrated, is one line and exit 2,
 * not a gateway that starts without a registry (README, "Running several replicas").
 */
async function checkRegistry(config: GraftConfig): Promise<void> {
  const { registry } = config;
  if (!registry.url) return;
  try {
    const store = await openPostgresRegistry({
      url: registry.url,
      poolMax: 1,
      statementTimeoutMs: registry.statementTimeoutMs,
      connectTimeoutMs: registry.connectTimeoutMs,
      ...(registry.sslCaFile ? { sslCaFile: registry.sslCaFile } : {}),
    });
    await store.close();
  } catch (error) {
    if (error instanceof GraftError && error.code === GraftErrorCode.REGISTRY_UNAVAILABLE) {
      const { registry: where, reason } = error.details ?? {};
      throw new CliError(
        `GRAFT_REGISTRY_URL: PostgreSQL at ${String(where)} cannot be reached (${String(reason)}): check its host, port, database and credentials, and that PostgreSQL runs.`,
        ExitCode.USAGE,
        error.code,
      );
    }
    if (error instanceof GraftError && error.code === GraftErrorCode.REGISTRY_SCHEMA_TOO_NEW) throw new CliError(error.message, ExitCode.USAGE, error.code);
    throw error;
  }
}

export async function runStart(options: StartOptions): Promise<void> {
  // The repository's persisted frontend operations are registered at start unless
  // GRAFT_OPERATIONS_DIR says otherwise (set it empty for none).
  const operationsDir = process.env['GRAFT_OPERATIONS_DIR'] ?? join(REPO_ROOT, 'schema', 'operations');
  const config = await loadGraftConfig({ ...process.env, GRAFT_OPERATIONS_DIR: operationsDir });
  await checkRegistry(config);
  if (config.workers > 1) {
    const { runStartCluster } = await import('./start-cluster.js');
    return runStartCluster({ ...options, config, operationsDir });
  }
  const examples: RunningExample[] = [];
  let shuttingDown = false;
  // The gateway first: the examples verify the tokens it mints against its JWKS URL.
  const server: GraftServer = await startGraftServer({ config });

  const shutdown = async (signal: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    server.logger.info({ signal }, 'shutting down');
    await server.close();
    await stopExamples(examples);
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  if (options.examples) {
    try {
      const gatewayAuth = { jwksUrl: `${server.url}/.well-known/jwks.json`, issuer: server.upstreamTokens.issuer };
      examples.push(...(await startAllExamples({ gatewayAuth, logger: server.logger, isShuttingDown: () => shuttingDown })));
    } catch (error) {
      await server.close();
      throw error;
    }
  }
  const published = await bootstrapExamples(server, examples);
  await printBanner({ url: server.url, published, devIssuer: server.devIssuer });
}
