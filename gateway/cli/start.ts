// `graft start` (what `npm start` runs): the gateway on the embedded SQLite registry and,
// unless --no-examples, the four example extensions as child processes, registered and
// published on first start. Prints the URL and a dev token to try. With GRAFT_WORKERS > 1
// the gateway runs as several worker processes under a primary (start-cluster.ts).
import { join } from 'node:path';
import type { Logger } from 'pino';
import { loadGraftConfig, type GraftConfig } from '../config/index.js';
import { createGraftLogger } from '../telemetry/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { openPostgresRegistry } from '../registry/index.js';
import { CliError, ExitCode } from './exit.js';
import { signDevToken, type DevIssuer } from '../auth/index.js';
import { startGraftServer, type GraftServer } from '../server/index.js';
import { BOOTSTRAP_WORK, bootstrapExamples } from './bootstrap.js';
import {
  DIRECTIVE_EXAMPLE_NAMES,
  EXAMPLE_DEFAULT_PORTS,
  EXAMPLE_NAMES,
  REPO_ROOT,
  exampleManifestPath,
  startExamples,
  stopExamples,
  type RunningExample,
} from './examples.js';

export const DEV_USER_SCOPES = ['crm:read', 'crm:pii', 'orders:read', 'inventory:read'];
/** The README tour's query: it crosses the three example extensions. */
export const TOUR_QUERY = '{ customers(first: 2) { id name orders { id total items { quantity product { name stock } } } } }';
/** GraphiQL (development mode) opens with the tour query and alice's dev token. */
export const GRAPHIQL_START = { user: { subject: 'alice', scopes: DEV_USER_SCOPES }, defaultQuery: TOUR_QUERY };

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
  const examples = [...EXAMPLE_NAMES, ...DIRECTIVE_EXAMPLE_NAMES].map((name, index) => ({ name, port: base > 0 ? base + index : EXAMPLE_DEFAULT_PORTS[name] }));
  return startExamples(examples, {
    host: '127.0.0.1',
    gatewayAuth: options.gatewayAuth,
    onExit: (code) => {
      if (!options.isShuttingDown()) options.logger.error({ extensions: examples.map((e) => e.name), code }, 'the example extensions exited; their fields now answer EXTENSION_UNAVAILABLE');
    },
  });
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
      `    -d '${JSON.stringify({ query: TOUR_QUERY })}'`,
      '',
      `  Or open ${url}/graphql in a browser: GraphiQL, with that query and a dev token (development mode only).`,
      '',
      '  An admin token for the admin API: npx graft token --sub admin --scopes graft:admin',
      `  Manifests of the examples: ${exampleManifestPath('crm').replace(/crm\/graft\.json$/, '<name>/graft.json')}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

/** The gateway's URL as the examples reach it, before it listens (config.port is not 0). */
function listenUrlOf(config: GraftConfig): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
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
  // The examples' persisted frontend operations (schema/operations, queries of the example
  // graph) are registered with the examples, unless GRAFT_OPERATIONS_DIR says otherwise
  // (set it empty for none); --no-examples registers neither, unless that variable is set.
  const operationsDir = process.env['GRAFT_OPERATIONS_DIR'] ?? (options.examples ? join(REPO_ROOT, 'schema', 'operations') : '');
  const config = await loadGraftConfig({ ...process.env, GRAFT_OPERATIONS_DIR: operationsDir });
  await checkRegistry(config);
  if (config.workers > 1) {
    const { runStartCluster } = await import('./start-cluster.js');
    return runStartCluster({ ...options, config, operationsDir });
  }
  const examples: RunningExample[] = [];
  let shuttingDown = false;
  // The examples start while the gateway does (both mostly load code, and a machine has
  // more than one core): they need only the gateway's JWKS URL, fetched at their first
  // request, and it is known up front unless the port is chosen at listen (PORT=0).
  const logger = createGraftLogger({ level: config.logLevel });
  const startExamplesFor = (gatewayUrl: string) =>
    startAllExamples({ gatewayAuth: { jwksUrl: `${gatewayUrl}/.well-known/jwks.json`, issuer: config.upstreamIssuer }, logger, isShuttingDown: () => shuttingDown });
  const early = options.examples && config.port !== 0 ? startExamplesFor(listenUrlOf(config)) : undefined;
  early?.catch(() => undefined); // awaited below; this only keeps a failure meanwhile from counting as unhandled
  let server: GraftServer;
  try {
    server = await startGraftServer({ config, logger, startupWork: options.examples ? [BOOTSTRAP_WORK] : [], graphiql: GRAPHIQL_START });
  } catch (error) {
    if (early) await stopExamples(await early.catch(() => []));
    throw error;
  }

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
      examples.push(...(await (early ?? startExamplesFor(server.url))));
    } catch (error) {
      await server.close();
      throw error;
    }
  }
  const published = await bootstrapExamples(server, examples);
  await printBanner({ url: server.url, published, devIssuer: server.devIssuer });
}
