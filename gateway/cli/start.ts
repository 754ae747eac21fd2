// `graft start` (what `npm start` runs): the gateway on the embedded SQLite registry and,
// unless --no-examples, the four example extensions as child processes, registered and
// published on first start. Prints the URL and a dev token to try.
import { join } from 'node:path';
import { loadGraftConfig } from '../config/index.js';
import { signDevToken } from '../auth/index.js';
import { loadManifestFile } from '../manifest/index.js';
import { loadDirectiveSources } from '../directives/index.js';
import { SYSTEM_ACTOR } from '../publish/index.js';
import { startGraftServer, type GraftServer } from '../server/index.js';
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

/** Registers and publishes the examples that the registry does not know yet. */
async function bootstrapExamples(server: GraftServer, examples: readonly RunningExample[]): Promise<string[]> {
  const published: string[] = [];
  const loaded = await Promise.all(examples.map(async (example) => ({ example, ...(await loadManifestFile(example.manifestPath)) })));
  // Extensions that implement resolver directives first: the others' SDL may use them.
  loaded.sort((a, b) => Number(!a.manifest.directives?.length) - Number(!b.manifest.directives?.length));
  for (const { example, manifest, sdl } of loaded) {
    const known = await server.registry.store.getExtension(example.name);
    if (known?.activeVersion) continue;
    const directiveModules = await loadDirectiveSources(example.manifestPath, manifest);
    // The example may run on another port than its manifest says (EXAMPLES_PORT_BASE).
    const withUrl = { ...manifest, subgraph: { ...manifest.subgraph, url: example.url } };
    if (!known) {
      await server.registry.register({ name: manifest.name, owner: manifest.owner, description: manifest.description ?? '' }, SYSTEM_ACTOR);
    }
    await server.registry.publish({ manifest: withUrl, sdl, directiveModules }, SYSTEM_ACTOR);
    published.push(`${manifest.name}@${manifest.version}`);
  }
  // Listed in the examples' order, whatever the publish order was.
  const position = (entry: string) => examples.findIndex((e) => entry.startsWith(`${e.name}@`));
  return published.sort((a, b) => position(a) - position(b));
}

export async function runStart(options: StartOptions): Promise<void> {
  // The repository's persisted frontend operations are registered at start unless
  // GRAFT_OPERATIONS_DIR says otherwise (set it empty for none).
  const config = await loadGraftConfig({ ...process.env, GRAFT_OPERATIONS_DIR: process.env['GRAFT_OPERATIONS_DIR'] ?? join(REPO_ROOT, 'schema', 'operations') });
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
    const base = Number(process.env['EXAMPLES_PORT_BASE'] ?? 0);
    const gatewayAuth = { jwksUrl: `${server.url}/.well-known/jwks.json`, issuer: server.upstreamTokens.issuer };
    try {
      const started = await Promise.all(
        [...EXAMPLE_NAMES, ...DIRECTIVE_EXAMPLE_NAMES].map((name, index) =>
          startExample(name, {
            port: base > 0 ? base + index : EXAMPLE_DEFAULT_PORTS[name],
            host: '127.0.0.1',
            gatewayAuth,
            onExit: (code) => {
              if (!shuttingDown) server.logger.error({ extension: name, code }, 'example extension exited; its fields now answer EXTENSION_UNAVAILABLE');
            },
          }),
        ),
      );
      examples.push(...started);
    } catch (error) {
      await server.close();
      throw error;
    }
  }
  const published = await bootstrapExamples(server, examples);

  const lines = [`\n  Graft is running at ${server.url}/graphql`];
  if (published.length > 0) lines.push(`  Registered the example extensions: ${published.join(', ')}`);
  if (server.devIssuer) {
    const token = await signDevToken(server.devIssuer, { subject: 'alice', scopes: DEV_USER_SCOPES, ttlSeconds: 8 * 3600 });
    lines.push(
      '',
      `  Dev token (sub alice, scopes "${DEV_USER_SCOPES.join(' ')}", valid 8 h):`,
      `  ${token}`,
      '',
      '  Try:',
      `  curl -s ${server.url}/graphql -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\`,
      `    -d '{"query":"{ customers(first: 2) { id name orders { id total items { quantity product { name stock } } } } }"}'`,
      '',
      '  An admin token for the admin API: npx graft token --sub admin --scopes graft:admin',
      `  Manifests of the examples: ${exampleManifestPath('crm').replace(/crm\/graft\.json$/, '<name>/graft.json')}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}
