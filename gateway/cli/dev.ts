// `graft dev [--extension <dir>]...`: a local gateway for extension authors. It runs
// startGraftServer on a throwaway data dir (dev mode: the dev issuer mints the tokens it
// prints), starts the three examples (their seed data is the mock data to join against)
// and the author's extensions as child processes, publishes them all, prints the URL and
// tokens, and watches the author's folders: a change to the SDL, a resolver or graft.json
// restarts that extension's process and republishes it (gateway/toolkit/dev-session.ts:
// blue/green, dev versions <x.y.z>-dev.<n>) while the gateway keeps running.
//
// Only commander and small helpers load when `graft` starts; the server and the toolkit
// load when the command runs.
import { Option, type Command } from 'commander';
import { ADMIN_SCOPE } from '../auth/index.js';
import type { ExtensionManifest } from '../manifest/index.js';
import { CliError, ExitCode } from './exit.js';

interface DevOptions {
  extension?: string[];
  port?: string;
  examples: boolean;
}

export function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description('Run a local gateway with your extension(s) and the examples; reload an extension when its files change')
    .option('--extension <dir...>', "an extension's folder or graft.json (repeatable; default: the current folder if it has a graft.json)")
    .addOption(new Option('--port <port>', 'gateway port (0: any free port)').env('PORT').default('4000'))
    .option('--no-examples', 'do not run the example extensions (crm, orders, inventory)')
    .action(async (options: DevOptions) => {
      await runDev(options);
    });
}

async function runDev(options: DevOptions): Promise<void> {
  const port = Number(options.port ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new CliError(`--port must be a port number; got "${options.port}".`, ExitCode.USAGE);
  const { GraftError, GraftErrorCode } = await import('../errors/index.js');
  if (process.env['NODE_ENV'] === 'production') {
    throw new GraftError(GraftErrorCode.DEV_MODE_ONLY, 'graft dev runs a development gateway (dev issuer, throwaway registry) and is refused when NODE_ENV=production.');
  }
  const { access, mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const toolkit = await import('../toolkit/index.js');

  let references = options.extension ?? [];
  if (references.length === 0) {
    try {
      await access(join(process.cwd(), 'graft.json'));
      references = [process.cwd()];
    } catch {
      references = [];
    }
  }
  const sources = await Promise.all(references.map((reference) => toolkit.resolveExtensionSource(reference)));
  const names = new Set<string>();
  for (const source of sources) {
    if (names.has(source.name)) throw new CliError(`Two --extension folders name the same extension "${source.name}".`, ExitCode.USAGE);
    names.add(source.name);
  }

  const { loadConfig } = await import('../config/index.js');
  const { signDevToken } = await import('../auth/index.js');
  const { SYSTEM_ACTOR } = await import('../publish/index.js');
  const { startGraftServer } = await import('../server/index.js');
  const { EXAMPLE_NAMES } = await import('./examples.js');

  const dataDir = await mkdtemp(join(tmpdir(), 'graft-dev-'));
  // The dev issuer signs the tokens it prints, whatever JWKS the shell's environment names.
  const config = loadConfig({ ...process.env, GRAFT_JWKS_URL: '', GRAFT_JWKS_FILE: '', GRAFT_JWT_ISSUER: '' }, { port, dataDir, logLevel: process.env['GRAFT_LOG_LEVEL'] ?? 'error' });
  const server = await startGraftServer({ config });
  const gatewayAuth = { jwksUrl: `${server.url}/.well-known/jwks.json`, issuer: server.upstreamTokens.issuer };
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const examples: Array<Awaited<ReturnType<typeof toolkit.startExtensionProcess>>> = [];
  const authors: InstanceType<typeof toolkit.DevExtension>[] = [];
  const watchers: Array<{ close(): void }> = [];
  let shuttingDown = false;

  const shutdown = async (): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    for (const watcher of watchers) watcher.close();
    await Promise.all([...authors.map((a) => a.stop()), ...examples.map((e) => e.stop())]);
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  const onSignal = (): void => {
    void shutdown().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const publish = async (input: { manifest: ExtensionManifest; sdl: string; force?: { reason: string } }) => {
    const { name } = input.manifest;
    if (!(await server.registry.findExtension(name))) {
      await server.registry.register({ name, owner: input.manifest.owner, description: input.manifest.description ?? '' }, SYSTEM_ACTOR);
    }
    const result = await server.registry.publish(input as Parameters<typeof server.registry.publish>[0], SYSTEM_ACTOR);
    return { supergraphId: result.supergraph.id };
  };

  const grants = new Set<string>();
  try {
    if (options.examples) {
      const exampleSources = await Promise.all(
        EXAMPLE_NAMES.filter((name) => !names.has(name)).map((name) => toolkit.resolveExtensionSource(toolkit.exampleDir(name))),
      );
      const started = await Promise.all(
        exampleSources.map((source) =>
          toolkit.startExtensionProcess({
            name: source.name,
            entry: source.entry,
            cwd: source.dir,
            gatewayAuth,
            onOutput: (line) => process.stderr.write(`[${source.name}] ${line}\n`),
          }),
        ),
      );
      examples.push(...started);
      for (const [index, source] of exampleSources.entries()) {
        await publish({ manifest: { ...source.manifest, subgraph: { ...source.manifest.subgraph, url: started[index]!.url } }, sdl: source.sdl });
        for (const grant of source.manifest.grants ?? []) grants.add(grant);
      }
    }
    for (const source of sources) {
      const author = new toolkit.DevExtension({
        source,
        gatewayAuth,
        publish,
        log: out,
        onOutput: (line) => process.stderr.write(`[${source.name}] ${line}\n`),
      });
      await author.start();
      authors.push(author);
      for (const grant of source.manifest.grants ?? []) grants.add(grant);
    }
  } catch (error) {
    await shutdown();
    throw error;
  }
  for (const author of authors) {
    watchers.push(await toolkit.watchTree(author.dir, (files) => void author.changed(files)));
  }

  const lines = [`\n  Graft dev gateway at ${server.url}/graphql   (data: ${dataDir}, removed on exit)`];
  if (examples.length > 0) lines.push(`  Examples: ${examples.map((e) => e.name).join(', ')} (seed data: 50 customers c1..c50, 200 orders, 100 products)`);
  for (const author of authors) lines.push(`  ${author.name}@${author.version} at ${author.url}, watching ${author.dir}`);
  if (authors.length === 0 && examples.length === 0) lines.push('  No extension is running: pass --extension <dir> (graft init extension <name> makes one).');
  if (server.devIssuer) {
    const scopes = [...grants].sort();
    const token = await signDevToken(server.devIssuer, { subject: 'alice', scopes, ttlSeconds: 8 * 3600 });
    const admin = await signDevToken(server.devIssuer, { subject: 'admin', scopes: [ADMIN_SCOPE], ttlSeconds: 8 * 3600 });
    lines.push('', `  Dev token (sub alice, scopes "${scopes.join(' ')}", valid 8 h):`, `  ${token}`, '', '  Admin token (graft:admin, for the admin API):', `  ${admin}`);
    const apiSchema = server.gateway.current?.apiSchema;
    const query = authors[0] && apiSchema ? safely(() => toolkit.loadQueryFor(sources[0]!.sdl, apiSchema)) : undefined;
    if (query) {
      lines.push(
        '',
        '  Try:',
        `  curl -s ${server.url}/graphql -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\`,
        `    -d '${JSON.stringify({ query })}'`,
      );
    }
  }
  lines.push('', `  Edit ${authors.length > 0 ? "your extension's SDL, resolvers or graft.json" : 'nothing (no --extension)'}; Ctrl-C stops everything.`, '');
  out(lines.join('\n'));
}

function safely<T>(work: () => T): T | undefined {
  try {
    return work();
  } catch {
    return undefined;
  }
}
