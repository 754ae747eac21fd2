// The `graft` command line. Exit codes: 0 ok, 1 refused (by the registry or a check),
// 2 bad usage or unreadable input.
import { Command, CommanderError, Option } from 'commander';
import { loadConfig } from '../config/index.js';
import { loadOrCreateDevIssuer, signDevToken } from '../auth/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { loadManifestFile } from '../manifest/index.js';
import type { ExtensionRecord } from '../registry/index.js';
import { AdminApiError, AdminClient } from './admin-client.js';
import { EXAMPLE_NAMES, exampleManifestPath } from './examples.js';
import { CliError, ExitCode, exitCodeFor } from './exit.js';
import { registerCheckCommand } from './check.js';
import { registerChangelogCommand } from './changelog.js';
import { registerKeysCommand } from './keys.js';
// The extension author's toolkit: these files load only commander up front; the toolkit,
// the server and the code generator load inside each command's action.
import { registerInitCommand } from './init.js';
import { registerDevCommand } from './dev.js';
import { registerSimulateCommand } from './simulate.js';
import { registerContractTestCommand } from './contract-test.js';
import { registerMigrateCommand } from './migrate.js';

// Heavy modules (the server, composition) load only in the commands that need them:
// `graft check` in CI and `graft token` stay quick to start.

const program = new Command();
program
  .name('graft')
  .description('Graft: a federated GraphQL gateway for low-code platforms')
  .showHelpAfterError()
  .exitOverride();

function registryOptions(command: Command): Command {
  return command
    .addOption(new Option('--registry <url>', 'gateway URL').env('GRAFT_REGISTRY_URL').default('http://127.0.0.1:4000'))
    .addOption(new Option('--token <token>', 'JWT with graft:admin or graft:publish:<name>, or an extension key').env('GRAFT_TOKEN'));
}

function requireToken(token: string | undefined): string {
  if (!token) throw new CliError('Pass --token <token> (or set GRAFT_TOKEN): an extension key (graft keys create), or in development: npx graft token --sub me --scopes graft:admin', ExitCode.USAGE);
  return token;
}

program
  .command('start')
  .description('Start the gateway on the embedded registry, with the example extensions (GRAFT_WORKERS=N: N gateway processes on one port)')
  .option('--no-examples', 'do not start the example extensions')
  .action(async (options: { examples: boolean }) => {
    const { runStart } = await import('./start.js');
    await runStart({ examples: options.examples });
  });

program
  .command('token')
  .description('Print a dev JWT signed by the dev issuer (development only)')
  .requiredOption('--sub <subject>', 'the subject (user id)')
  .option('--scopes <scopes>', 'space-separated scopes', '')
  .option('--tenant <tenant>', 'tenant claim')
  .option('--ttl <seconds>', 'lifetime in seconds', '3600')
  .action(async (options: { sub: string; scopes: string; tenant?: string; ttl: string }) => {
    if (process.env['NODE_ENV'] === 'production') {
      throw new GraftError(GraftErrorCode.DEV_MODE_ONLY, 'graft token signs with the dev issuer and is refused when NODE_ENV=production: get tokens from your identity provider.');
    }
    const ttl = Number(options.ttl);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 7 * 24 * 3600) throw new CliError('--ttl must be a whole number of seconds from 1 to 604800.', ExitCode.USAGE);
    const issuer = await loadOrCreateDevIssuer(loadConfig().dataDir);
    const token = await signDevToken(issuer, {
      subject: options.sub,
      scopes: options.scopes.split(/\s+/).filter(Boolean),
      ttlSeconds: ttl,
      ...(options.tenant ? { tenant: options.tenant } : {}),
    });
    process.stdout.write(`${token}\n`);
  });

registryOptions(
  program
    .command('publish')
    .description('Publish the extension version described by a graft.json (registers the extension if needed); several --manifest: one release, all or none')
    .requiredOption('--manifest <path>', 'path of graft.json (repeatable: the versions are published together as one release)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--reason <text>', 'why (kept with a release of several)')
    .option('--json', 'print the result as JSON'),
).action(async (options: { manifest: string[]; registry: string; token?: string; json?: boolean; reason?: string }) => {
  const client = new AdminClient(options.registry, requireToken(options.token));
  const members = await Promise.all(
    options.manifest.map(async (path) => {
      const { manifest, sdl } = await loadManifestFile(path);
      // Resolver directive modules (graft.json directives[].module) travel with the publish.
      const directiveModules = manifest.directives?.length ? await (await import('../directives/index.js')).loadDirectiveSources(path, manifest) : undefined;
      return { manifest, sdl, ...(directiveModules ? { directiveModules } : {}) };
    }),
  );
  if (members.length > 1) {
    const result = await client.request<ReleaseResponse>('POST', '/releases', { extensions: members, ...(options.reason ? { reason: options.reason } : {}) });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `Released ${result.versions.map((v) => `${v.version.extension}@${v.version.version}`).join(', ')} together (release #${result.release.id}); supergraph #${result.supergraph.id} (${result.supergraph.members.map((m) => `${m.extension}@${m.version}`).join(', ')}) is live.\n`,
    );
    return;
  }
  const [{ manifest, sdl, directiveModules }] = members as [(typeof members)[number]];
  const publish = () =>
    client.request<PublishResponse>('POST', `/extensions/${manifest.name}/versions`, { manifest, sdl, ...(directiveModules ? { directiveModules } : {}) });
  let result: PublishResponse;
  try {
    result = await publish();
  } catch (error) {
    if (!(error instanceof AdminApiError) || error.body.code !== GraftErrorCode.EXTENSION_NOT_FOUND) throw error;
    await client.request('POST', '/extensions', { name: manifest.name, owner: manifest.owner, description: manifest.description ?? '' });
    result = await publish();
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `Published ${result.version.extension}@${result.version.version}; supergraph #${result.supergraph.id} (${result.supergraph.members.map((m) => `${m.extension}@${m.version}`).join(', ')}) is live.\n`,
  );
});

interface PublishResponse {
  version: { extension: string; version: string };
  supergraph: { id: number; members: Array<{ extension: string; version: string }> };
}

interface ReleaseResponse {
  release: { id: number };
  versions: Array<{ version: { extension: string; version: string } }>;
  supergraph: { id: number; members: Array<{ extension: string; version: string }> };
}

const extensions = program.command('extensions').description('Inspect the registry');
registryOptions(extensions.command('list').description('List extensions').option('--json', 'print JSON')).action(
  async (options: { registry: string; token?: string; json?: boolean }) => {
    const client = new AdminClient(options.registry, requireToken(options.token));
    const { extensions: list } = await client.request<{ extensions: ExtensionRecord[] }>('GET', '/extensions');
    if (options.json) {
      process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      return;
    }
    const rows = [['NAME', 'VERSION', 'STATUS', 'OWNER'], ...list.map((e) => [e.name, e.activeVersion ?? '-', e.status, e.owner])];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const row of rows) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
  },
);

program
  .command('compose')
  .description('Compose graft.json manifests (default: the examples) and write schema/ artefacts')
  .option('--manifest <path...>', 'graft.json files to compose')
  .option('--out <dir>', 'output folder', 'schema')
  .option('--check', 'write nothing; exit 1 if the artefacts are stale')
  .action(async (options: { manifest?: string[]; out: string; check?: boolean }) => {
    const manifests = options.manifest ?? EXAMPLE_NAMES.map(exampleManifestPath);
    const { composeArtefacts } = await import('./compose.js');
    const report = await composeArtefacts({ manifests, outDir: options.out, check: options.check ?? false });
    if (options.check) {
      if (report.stale.length > 0) {
        throw new CliError(`Stale schema artefacts: ${report.stale.join(', ')}. Run: npm run compose`, ExitCode.REFUSED);
      }
      process.stdout.write('Schema artefacts are up to date.\n');
      return;
    }
    process.stdout.write(report.written.length > 0 ? `Wrote ${report.written.join(', ')}\n` : 'Schema artefacts are up to date.\n');
  });
registerCheckCommand(program);
registerChangelogCommand(program);
registerKeysCommand(program);
registerInitCommand(program);
registerDevCommand(program);
registerSimulateCommand(program);
registerContractTestCommand(program);
registerMigrateCommand(program);

function printError(error: unknown): void {
  if (error instanceof AdminApiError) {
    process.stderr.write(`error ${error.body.code}: ${error.body.message}\n`);
    const compositionErrors = error.body.details?.['compositionErrors'];
    if (Array.isArray(compositionErrors)) {
      for (const e of compositionErrors as Array<{ code: string; message: string }>) process.stderr.write(`  - ${e.code}: ${e.message}\n`);
    }
  } else if (error instanceof GraftError || error instanceof CliError) {
    process.stderr.write(`error${'code' in error && error.code ? ` ${error.code}` : ''}: ${error.message}\n`);
  } else {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exit(error.exitCode === 0 ? 0 : ExitCode.USAGE);
  }
  printError(error);
  process.exit(exitCodeFor(error));
}
