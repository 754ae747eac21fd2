// `graft simulate --extension <name|graft.json> --latency 200ms --error-rate 0.1
// --concurrency 50 [--duration 10s]`: what users would see if the extension were slow and
// failing. Starts a gateway (throwaway data dir, the resilience settings of GRAFT_* env
// variables, like production), the examples and the extension as child processes, puts
// a fault-injecting proxy (gateway/toolkit/fault-proxy.ts) in front of the extension,
// runs a bounded load on loopback and prints error codes, p50/p99, breaker trips and a
// verdict against the extension's limits.timeoutMs. Exit 0 pass or warn, 1 fail, 2 usage.
//
// Gateway, proxy and load share this process (the extensions run in their own): on a busy
// machine the latencies include that CPU contention.
import type { Command } from 'commander';

interface SimulateOptions {
  extension: string;
  latency: string;
  errorRate: string;
  concurrency: string;
  duration: string;
  requests: string;
  timeoutMs?: string;
  query?: string;
  seed?: string;
  json?: boolean;
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('Inject latency and 503s in front of an extension, run a load through a local gateway, and show what users would see')
    .requiredOption('--extension <name|graft.json>', 'an example (crm, orders, inventory), or a graft.json / folder with a server.ts beside it')
    .option('--latency <duration>', 'added to every request to the extension (e.g. 200ms)', '0ms')
    .option('--error-rate <rate>', 'share of requests answered 503 by the proxy (0..1 or 10%)', '0')
    .option('--concurrency <n>', 'concurrent users', '10')
    .option('--duration <duration>', 'at most this long (e.g. 10s)', '10s')
    .option('--requests <n>', 'at most this many requests', '10000')
    .option('--timeout-ms <ms>', "try another limits.timeoutMs than the manifest's")
    .option('--query <graphql>', 'the operation to run (default: one built from the extension SDL)')
    .option('--seed <n>', 'seed of the injected failures (reproducible runs)')
    .option('--json', 'print the report as JSON')
    .action(async (options: SimulateOptions) => {
      process.exitCode = await runSimulate(options);
    });
}

async function runSimulate(options: SimulateOptions): Promise<number> {
  const toolkit = await import('../toolkit/index.js');
  const settings = {
    latencyMs: toolkit.parseDuration('--latency', options.latency, { max: 60_000 }),
    errorRate: toolkit.parseRate('--error-rate', options.errorRate),
    concurrency: toolkit.parseInteger('--concurrency', options.concurrency, 1, 1000),
    durationMs: toolkit.parseDuration('--duration', options.duration, { min: 100, max: 600_000 }),
    maxRequests: toolkit.parseInteger('--requests', options.requests, 1, 1_000_000),
  };
  const timeoutOverride = options.timeoutMs === undefined ? undefined : toolkit.parseInteger('--timeout-ms', options.timeoutMs, 1, 60_000);
  const seed = options.seed === undefined ? undefined : toolkit.parseInteger('--seed', options.seed, 0, 2 ** 32 - 1);
  const target = await toolkit.resolveExtensionSource(options.extension);

  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { loadConfig } = await import('../config/index.js');
  const { signDevToken } = await import('../auth/index.js');
  const { SYSTEM_ACTOR } = await import('../publish/index.js');
  const { startGraftServer } = await import('../server/index.js');
  const { DIRECTIVE_EXAMPLE_NAMES, EXAMPLE_NAMES } = await import('./examples.js');
  const { loadDirectiveSources } = await import('../directives/index.js');
  const { CliError, ExitCode } = await import('./exit.js');

  const dataDir = await mkdtemp(join(tmpdir(), 'graft-simulate-'));
  // Development mode whatever NODE_ENV says, and no external JWKS: the dev issuer signs the simulated users' tokens.
  const config = loadConfig(
    { ...process.env, NODE_ENV: 'development', GRAFT_JWKS_URL: '', GRAFT_JWKS_FILE: '', GRAFT_JWT_ISSUER: '' },
    { port: 0, host: '127.0.0.1', dataDir, logLevel: 'silent' },
  );
  const server = await startGraftServer({ config });
  const processes: Array<{ stop(): Promise<void> }> = [];
  let proxy: Awaited<ReturnType<typeof toolkit.startFaultProxy>> | undefined;
  try {
    const gatewayAuth = { jwksUrl: `${server.url}/.well-known/jwks.json`, issuer: server.upstreamTokens.issuer };
    // The examples in their usual publish order, the extension in its slot (or last).
    // privacy first: crm's Customer.email uses its @mask.
    const all = await Promise.all([...DIRECTIVE_EXAMPLE_NAMES, ...EXAMPLE_NAMES].map((name) => (name === target.name ? target : toolkit.resolveExtensionSource(toolkit.exampleDir(name)))));
    if (!all.includes(target)) all.push(target);
    const started = await Promise.all(
      all.map((source) => toolkit.startExtensionProcess({ name: source.name, entry: source.entry, cwd: source.dir, gatewayAuth })),
    );
    processes.push(...started);
    const targetProcess = started[all.indexOf(target)]!;
    proxy = await toolkit.startFaultProxy({ target: targetProcess.url, latencyMs: settings.latencyMs, errorRate: settings.errorRate, injecting: false, ...(seed === undefined ? {} : { seed }) });

    // The extension is registered behind the proxy.
    for (const [index, source] of all.entries()) {
      const isTarget = source === target;
      const limits = isTarget && timeoutOverride !== undefined ? { ...source.manifest.limits, timeoutMs: timeoutOverride } : source.manifest.limits;
      const manifest = {
        ...source.manifest,
        subgraph: { ...source.manifest.subgraph, url: isTarget ? proxy.url : started[index]!.url },
        ...(limits ? { limits } : {}),
      };
      await server.registry.register({ name: manifest.name, owner: manifest.owner, description: manifest.description ?? '' }, SYSTEM_ACTOR);
      const directiveModules = manifest.directives?.length ? await loadDirectiveSources(source.manifestPath, manifest) : undefined;
      await server.registry.publish({ manifest, sdl: source.sdl, ...(directiveModules ? { directiveModules } : {}) }, SYSTEM_ACTOR);
    }

    const apiSchema = server.gateway.current?.apiSchema;
    const query = options.query ?? (apiSchema ? toolkit.loadQueryFor(target.sdl, apiSchema) : undefined);
    if (!query) {
      throw new CliError(`Cannot build a query that reaches "${target.name}" without arguments: pass --query '<operation>'.`, ExitCode.USAGE);
    }
    const scopes = [...new Set(all.flatMap((source) => source.manifest.grants ?? []))].sort();
    const token = await signDevToken(server.devIssuer!, { subject: 'simulated-user', scopes, ttlSeconds: 3600 });

    // One request first, without faults: a query the gateway rejects is a usage error, not a finding.
    const probe = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query }),
    });
    const probeBody = (await probe.json()) as { errors?: Array<{ message: string; extensions?: { code?: string } }> };
    const rejected = probeBody.errors?.find((e) => /^GRAPHQL_(PARSE|VALIDATION)_FAILED$|^BAD_USER_INPUT$|^COST_|^TOO_MANY_|^QUERY_TOO_DEEP$/.test(e.extensions?.code ?? ''));
    if (rejected) throw new CliError(`The gateway rejects the query (${rejected.extensions?.code}): ${rejected.message}`, ExitCode.USAGE);
    proxy.resetStats();
    proxy.injecting = true;
    const resilience = server.gateway.resilienceOf(target.name);
    const tripsBefore = resilience.trips;

    const users = await toolkit.runLoad({ url: `${server.url}/graphql`, query, token, ...settings });
    const stats = proxy.stats;
    const timeoutMs = timeoutOverride ?? target.manifest.limits?.timeoutMs ?? config.upstream.defaultTimeoutMs;
    const partialReport = {
      extension: target.name,
      settings: { ...settings, query },
      timeout: {
        ms: Math.min(timeoutMs, config.upstream.maxTimeoutMs),
        source: (timeoutOverride !== undefined ? 'option' : target.manifest.limits?.timeoutMs !== undefined ? 'manifest' : 'gateway default') as 'option' | 'manifest' | 'gateway default',
      },
      users,
      extensionSide: {
        requests: stats.requests,
        injected503: stats.injectedErrors,
        forwarded: stats.forwarded,
        abandonedByGateway: stats.abandoned,
        latencyMs: toolkit.summarizeLatency(stats.durationsMs),
      },
      breaker: { trips: resilience.trips - tripsBefore, state: resilience.breakerState },
    };
    const report = { ...partialReport, verdict: toolkit.simulationVerdict(partialReport) };
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : toolkit.formatSimulationReport(report));
    return report.verdict.level === 'fail' ? ExitCode.REFUSED : ExitCode.OK;
  } finally {
    await proxy?.close();
    await server.close();
    await Promise.all(processes.map((p) => p.stop()));
    await rm(dataDir, { recursive: true, force: true });
  }
}
