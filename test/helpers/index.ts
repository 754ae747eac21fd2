// Test kit for Graft's integration tests: real HTTP servers on 127.0.0.1 ephemeral
// ports, a real SQLite registry in a temp folder, real JWTs from the dev issuer.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { extension as crm } from '../../subgraphs/crm/index.js';
import { extension as inventory } from '../../subgraphs/inventory/index.js';
import { extension as orders } from '../../subgraphs/orders/index.js';
import type { RunningExtension } from '../../subgraphs/sdk/index.js';
import type { JSONWebKeySet } from 'jose';
import { signDevToken } from '../../gateway/auth/index.js';
import { loadConfig, type ConfigOverrides } from '../../gateway/config/index.js';
import { startGraftServer, type GraftServer } from '../../gateway/server/index.js';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname;

export async function tempDir(prefix = 'graft-test-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface RunningExamples {
  crm: RunningExtension;
  orders: RunningExtension;
  inventory: RunningExtension;
  all: RunningExtension[];
  close(): Promise<void>;
}

/**
 * How an extension verifies the tokens a test gateway mints: its current public keys and
 * issuer. The signing key is kept in the data dir, so it stays valid across restarts.
 */
export function gatewayAuthOf(server: GraftServer): { jwks: JSONWebKeySet; issuer: string } {
  return { jwks: server.upstreamTokens.jwks(), issuer: server.upstreamTokens.issuer };
}

/** The three example extensions, in this process, each on its own ephemeral port. */
export async function startExamples(auth: { jwks: JSONWebKeySet; issuer: string }): Promise<RunningExamples> {
  const [c, o, i] = await Promise.all([crm.listen({ port: 0, auth }), orders.listen({ port: 0, auth }), inventory.listen({ port: 0, auth })]);
  const all = [c, o, i];
  return { crm: c, orders: o, inventory: i, all, close: async () => void (await Promise.all(all.map((e) => e.close()))) };
}

export async function startGateway(dataDir: string, overrides: ConfigOverrides = {}): Promise<GraftServer> {
  const config = loadConfig({ NODE_ENV: 'test' }, { port: 0, dataDir, logLevel: process.env['GRAFT_LOG_LEVEL'] ?? 'silent', ...overrides });
  return startGraftServer({ config });
}

export async function tokenFor(server: GraftServer, subject: string, scopes: string[]): Promise<string> {
  if (!server.devIssuer) throw new Error('the test gateway runs without the dev issuer');
  return signDevToken(server.devIssuer, { subject, scopes, ttlSeconds: 600 });
}

export async function exampleManifest(
  name: 'crm' | 'orders' | 'inventory',
  url: string,
  changes: Record<string, unknown> = {},
): Promise<{ manifest: Record<string, unknown>; sdl: string }> {
  const manifest = JSON.parse(await readFile(join(REPO_ROOT, 'subgraphs', name, 'graft.json'), 'utf8')) as Record<string, unknown>;
  const sdl = await readFile(join(REPO_ROOT, 'subgraphs', name, `${name}.graphql`), 'utf8');
  const subgraph = manifest['subgraph'] as Record<string, unknown>;
  return { manifest: { ...manifest, subgraph: { ...subgraph, url }, ...changes }, sdl };
}

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export async function http<T = Record<string, unknown>>(
  url: string,
  options: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const response = await fetch(url, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T, headers: response.headers };
}

export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

export function graphql(server: GraftServer, query: string, options: { token?: string; variables?: Record<string, unknown> } = {}) {
  return http<GraphQLBody>(`${server.url}/graphql`, {
    body: { query, ...(options.variables ? { variables: options.variables } : {}) },
    ...(options.token ? { token: options.token } : {}),
  });
}

/** Registers (if needed) and publishes an extension through the admin API, as an admin. */
export async function publish(server: GraftServer, adminToken: string, input: { manifest: Record<string, unknown>; sdl: string }) {
  const name = String(input.manifest['name']);
  const existing = await http(`${server.url}/admin/extensions/${name}`, { token: adminToken });
  if (existing.status === 404) {
    const registered = await http(`${server.url}/admin/extensions`, {
      token: adminToken,
      body: { name, owner: String(input.manifest['owner']), description: String(input.manifest['description'] ?? '') },
    });
    if (registered.status !== 201) throw new Error(`register ${name}: ${JSON.stringify(registered.body)}`);
  }
  return http<Record<string, any>>(`${server.url}/admin/extensions/${name}/versions`, { token: adminToken, body: input });
}

/** A gateway on a fresh data dir with the three examples published. */
export async function startGraftWithExamples(overrides: ConfigOverrides = {}) {
  const dir = await tempDir();
  const server = await startGateway(dir.path, overrides);
  const examples = await startExamples(gatewayAuthOf(server));
  const admin = await tokenFor(server, 'admin', ['graft:admin']);
  for (const name of ['crm', 'orders', 'inventory'] as const) {
    const result = await publish(server, admin, await exampleManifest(name, examples[name].url));
    if (result.status !== 201) throw new Error(`publish ${name}: ${JSON.stringify(result.body)}`);
  }
  return {
    dir,
    examples,
    server,
    admin,
    async close() {
      await server.close();
      await examples.close();
      await dir.remove();
    },
  };
}

/** A user token with every scope the example extensions require. */
export function exampleUserToken(server: GraftServer): Promise<string> {
  return tokenFor(server, 'alice', ['crm:read', 'crm:pii', 'orders:read', 'inventory:read']);
}

/** `count` consecutive free loopback ports, the first returned (`graft start` takes PORT, its examples EXAMPLES_PORT_BASE + 0..3). */
export async function freeConsecutivePorts(count: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await Promise.all(Array.from({ length: count }, (_, i) => free(base + i)))).every(Boolean)) return base;
  }
}

export const CROSS_EXTENSION_QUERY = '{ customers(first: 2) { id name orders { id total items { quantity product { name stock } } } } }';
export { startRecordingSubgraph, type Intercept, type RecordedRequest, type RecordingSubgraph } from './recording-subgraph.js';
export { runHotSwapScenario, type HotSwapReport } from './hot-swap.js';
export { postgresAvailability, startTestPostgres, type PostgresAvailability, type TestPostgres } from './postgres.js';
export { call, eventually, runGraft, type Answer } from './processes.js';
