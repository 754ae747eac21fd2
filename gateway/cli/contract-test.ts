// `graft contract-test --extension <name> [--registry <url> --token <jwt> | --manifest <graft.json>]`:
// checks a running subgraph against its registered SDL and its policy directives
// (gateway/toolkit/contract.ts). Exit 0 pass, 1 failures, 2 usage.
//
// The subgraph answers only gateway-minted tokens, so the test needs a key it trusts:
// - registry mode (--registry/--token, or GRAFT_TOKEN): the SDL, grants and URL of the
//   extension's active (or --version) version come from the admin API; the tokens are
//   minted with the gateway's own upstream signing key, read (never created) from its
//   data dir (--data-dir, default GRAFT_DATA_DIR or .graft), and the key is checked
//   against the gateway's /.well-known/jwks.json first. The admin API hands out no
//   subgraph tokens, so this mode runs where the gateway's data dir is (dev, staging, CI
//   next to the gateway).
// - manifest mode (--manifest, or an example name alone): contract-test starts the
//   extension itself from the server.ts beside graft.json, trusting the SDK test kit's
//   key (served on a loopback JWKS URL), and tests it against graft.json's SDL. No
//   gateway is needed: what an author runs before publishing.
import { Option, type Command } from 'commander';

interface ContractTestOptions {
  extension: string;
  manifest?: string;
  registry: string;
  token?: string;
  dataDir: string;
  version?: string;
  sample: string[];
  timeoutMs: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerContractTestCommand(program: Command): void {
  program
    .command('contract-test')
    .description('Check a running subgraph against its registered SDL and its policy directives (drift, @key resolvers, fields that error, scopes enforced)')
    .requiredOption('--extension <name>', 'the extension to test')
    .option('--manifest <graft.json>', 'test against this manifest: starts the extension from the server.ts beside it')
    .addOption(new Option('--registry <url>', 'gateway URL (registry mode)').env('GRAFT_REGISTRY_URL').default('http://127.0.0.1:4000'))
    .addOption(new Option('--token <jwt>', 'admin API token with graft:admin or graft:publish:<name> (registry mode)').env('GRAFT_TOKEN'))
    .addOption(new Option('--data-dir <dir>', "the gateway's data dir, for its upstream signing key (registry mode)").env('GRAFT_DATA_DIR').default('.graft'))
    .option('--version <version>', 'registered version to test against (default: the active one)')
    .option('--sample <Type=id>', 'a sample entity for _entities, e.g. Order=o1 or Order={"id":"o1"} (repeatable)', collect, [])
    .option('--timeout-ms <ms>', 'timeout of each request to the subgraph', '10000')
    .option('--json', 'print the report as JSON')
    .action(async (options: ContractTestOptions) => {
      process.exitCode = await runContractTestCommand(options);
    });
}

interface Target {
  url: string;
  sdl: string;
  grants: readonly string[];
  mint: (claims: { scopes: readonly string[]; anonymous?: boolean }) => Promise<string>;
  close(): Promise<void>;
}

async function runContractTestCommand(options: ContractTestOptions): Promise<number> {
  const { CliError, ExitCode } = await import('./exit.js');
  const toolkit = await import('../toolkit/index.js');
  const timeoutMs = toolkit.parseInteger('--timeout-ms', options.timeoutMs, 100, 600_000);
  toolkit.assertExtensionName(options.extension);
  if (options.manifest && options.token) {
    throw new CliError('Pass either --manifest (start the extension from its folder) or --registry/--token (test the registered, running one), not both.', ExitCode.USAGE);
  }
  let manifestPath = options.manifest;
  if (!manifestPath && !options.token) {
    const { EXAMPLE_NAMES } = await import('./examples.js');
    if (!(EXAMPLE_NAMES as readonly string[]).includes(options.extension)) {
      throw new CliError(
        `Say what to test "${options.extension}" against: --manifest <graft.json> (starts it locally), or --registry <url> --token <jwt> (the registered version; or set GRAFT_TOKEN).`,
        ExitCode.USAGE,
      );
    }
    manifestPath = toolkit.exampleDir(options.extension);
  }
  const target = manifestPath ? await fromManifest(options.extension, manifestPath) : await fromRegistry(options);
  try {
    const samples = parseSamples(options.sample, target.sdl, toolkit.readSubgraph, (message) => new CliError(message, ExitCode.USAGE));
    const report = await toolkit.runContractTest({ name: options.extension, url: target.url, registeredSdl: target.sdl, grants: target.grants, mint: target.mint, samples, timeoutMs });
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : toolkit.formatContractReport(report));
    return report.passed ? ExitCode.OK : ExitCode.REFUSED;
  } finally {
    await target.close();
  }
}

type SubgraphReader = (sdl: string) => { entities: ReadonlyMap<string, ReadonlyArray<{ fields: string; resolvable: boolean }>> };

/** `--sample Order=o1` / `--sample 'Order={"id":"o1"}'` → representations by type. */
function parseSamples(values: readonly string[], sdl: string, readSubgraph: SubgraphReader, usage: (message: string) => Error): Map<string, Array<Record<string, unknown>>> {
  const samples = new Map<string, Array<Record<string, unknown>>>();
  if (values.length === 0) return samples;
  const { entities } = readSubgraph(sdl);
  for (const value of values) {
    const at = value.indexOf('=');
    const typeName = value.slice(0, at);
    const raw = value.slice(at + 1);
    if (at <= 0 || raw === '') throw usage(`--sample takes <Type>=<id> or <Type>=<JSON object>; got "${value}".`);
    const key = entities.get(typeName)?.find((k) => k.resolvable);
    if (!key) throw usage(`--sample ${value}: ${typeName} is not a resolvable entity (@key) of this subgraph.`);
    let representation: Record<string, unknown>;
    if (raw.startsWith('{')) {
      try {
        representation = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        throw usage(`--sample ${value}: the value is not a JSON object.`);
      }
    } else {
      const field = key.fields.trim();
      if (!/^[_A-Za-z][_0-9A-Za-z]*$/.test(field)) throw usage(`--sample ${value}: ${typeName}'s key is "${field}"; give it as JSON, e.g. ${typeName}={...}.`);
      representation = { [field]: raw };
    }
    const list = samples.get(typeName) ?? [];
    list.push(representation);
    samples.set(typeName, list);
  }
  return samples;
}

async function fromManifest(name: string, manifestPath: string): Promise<Target> {
  const { createServer } = await import('node:http');
  const { signTestToken, testAuth } = await import('../../subgraphs/sdk/index.js');
  const toolkit = await import('../toolkit/index.js');
  const { CliError, ExitCode } = await import('./exit.js');
  const source = await toolkit.resolveExtensionSource(manifestPath);
  if (source.name !== name) throw new CliError(`${source.manifestPath} describes "${source.name}", not "${name}".`, ExitCode.USAGE);
  const kit = await testAuth();
  // The test kit's public key, where the extension's SDK fetches gateway keys from.
  const jwks = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(kit.auth.jwks));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', () => resolve()));
  const address = jwks.address() as { port: number };
  const closeJwks = () => new Promise<void>((resolve) => {
    jwks.closeAllConnections();
    jwks.close(() => resolve());
  });
  let running: Awaited<ReturnType<typeof toolkit.startExtensionProcess>>;
  try {
    running = await toolkit.startExtensionProcess({
      name,
      entry: source.entry,
      cwd: source.dir,
      gatewayAuth: { jwksUrl: `http://127.0.0.1:${address.port}/.well-known/jwks.json`, issuer: kit.auth.issuer },
    });
  } catch (error) {
    await closeJwks();
    throw new CliError((error as Error).message, ExitCode.REFUSED);
  }
  return {
    url: running.url,
    sdl: source.sdl,
    grants: source.manifest.grants ?? [],
    mint: ({ scopes, anonymous }) => signTestToken({ extension: name, scopes, subject: 'graft-contract-test', ...(anonymous ? { anonymous } : {}) }),
    async close() {
      await running.stop();
      await closeJwks();
    },
  };
}

/** The gateway's upstream signing key file in its data dir (gateway/upstream/tokens.ts). */
const UPSTREAM_KEY_FILE = 'upstream-signing.jwk.json';

async function fromRegistry(options: ContractTestOptions): Promise<Target> {
  const { access } = await import('node:fs/promises');
  const { join, resolve } = await import('node:path');
  const { AdminClient } = await import('./admin-client.js');
  const { CliError, ExitCode } = await import('./exit.js');
  const { loadConfig } = await import('../config/index.js');
  const { UpstreamTokenIssuer } = await import('../upstream/index.js');
  const name = options.extension;
  const client = new AdminClient(options.registry, options.token!);
  const extension = await client.request<{ activeVersion?: string | null }>('GET', `/extensions/${encodeURIComponent(name)}`);
  const version = options.version ?? extension.activeVersion ?? undefined;
  if (!version) throw new CliError(`Extension "${name}" has no active version: pass --version <version> or publish one.`, ExitCode.REFUSED);
  const record = await client.request<{ manifest: { subgraph: { url: string }; grants?: string[] }; sdl: string }>(
    'GET',
    `/extensions/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`,
  );

  const dataDir = resolve(options.dataDir);
  try {
    await access(join(dataDir, UPSTREAM_KEY_FILE));
  } catch {
    throw new CliError(
      `No gateway signing key in ${dataDir}: contract-test mints the subgraph's tokens with the gateway's own key, so run it where the gateway's data dir is (--data-dir or GRAFT_DATA_DIR), or test the extension locally with --manifest <graft.json>.`,
      ExitCode.USAGE,
    );
  }
  const issuer = await UpstreamTokenIssuer.create({ issuer: loadConfig().upstreamIssuer, dataDir });
  const base = options.registry.replace(/\/+$/, '').replace(/\/admin$/, '');
  let kids: string[] = [];
  try {
    const published = (await (await fetch(`${base}/.well-known/jwks.json`, { redirect: 'error' })).json()) as { keys?: Array<{ kid?: string }> };
    kids = (published.keys ?? []).flatMap((key) => (key.kid ? [key.kid] : []));
  } catch (error) {
    issuer.stop();
    throw new CliError(`Cannot read the gateway's keys at ${base}/.well-known/jwks.json: ${(error as Error).message}`, ExitCode.REFUSED);
  }
  if (!kids.includes(issuer.activeKid)) {
    issuer.stop();
    throw new CliError(
      `The signing key in ${dataDir} (kid ${issuer.activeKid}) is not one the gateway at ${base} publishes (${kids.join(', ') || 'none'}): pass that gateway's data dir with --data-dir.`,
      ExitCode.USAGE,
    );
  }
  const grants = record.manifest.grants ?? [];
  return {
    url: record.manifest.subgraph.url,
    sdl: record.sdl,
    grants,
    mint: ({ scopes, anonymous }) =>
      issuer.tokenFor(
        { subject: anonymous ? 'anonymous' : 'graft-contract-test', anonymous: anonymous === true, scopes: new Set(scopes), tenant: undefined, claims: {} },
        name,
        grants,
      ),
    async close() {
      issuer.stop();
    },
  };
}
