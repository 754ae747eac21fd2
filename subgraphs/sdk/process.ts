// Runs an extension as its own process (what each example's server.ts does), with a
// machine-readable contract for whoever spawns it (the gateway, tests, scripts):
//   env PORT (default: the extension's own) and HOST (default 127.0.0.1);
//   env GRAFT_GATEWAY_JWKS_URL and GRAFT_GATEWAY_ISSUER (default "graft-gateway"): where the
//   gateway's token keys are; without them the extension refuses to start (exit 1);
//   once listening, exactly one JSON line on stdout: {"event":"ready","name":...,"url":...};
//   SIGTERM / SIGINT close the server and exit 0; a start failure goes to stderr, exit 1;
//   with GRAFT_EXIT_WITH_PARENT=1 and a piped stdin, the end of stdin (the parent died,
//   even by SIGKILL) shuts the extension down too, so no orphan keeps its port;
//   OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_ENDPOINT: export traces (service.name = the
//   extension's name) that continue the gateway's (see tracing.ts); off without them.
import { resolveGatewayAuth } from './auth.js';
import type { Extension, RunningExtension } from './define.js';
import { startTracingFromEnv } from './tracing.js';

export interface ProcessOptions {
  /** Port used when the PORT variable is not set. */
  defaultPort: number;
  env?: NodeJS.ProcessEnv;
}

export interface ReadyEvent {
  event: 'ready';
  name: string;
  url: string;
}

function portFrom(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`PORT must be an integer from 0 to 65535, got "${value}".`);
  }
  return port;
}

export async function runExtensionProcess(extension: Extension, options: ProcessOptions): Promise<RunningExtension> {
  const env = options.env ?? process.env;
  const [running] = await runExtensionsProcess([{ extension, port: () => portFrom(env['PORT'], options.defaultPort) }], { env, serviceName: extension.name });
  return running!;
}

/** One extension of runExtensionsProcess: its port is read when it starts (a bad value is a start failure). */
export interface HostedExtension {
  extension: Extension;
  port: () => number;
}

/**
 * Runs several extensions in this one process, each on its own port, with the contract of
 * runExtensionProcess: one ready line per extension once all listen, the same variables,
 * signals and exit codes (a start failure of any stops them all). `graft start` hosts the
 * examples this way: one process loads the SDK once instead of once per example.
 * Traces report as `serviceName` (spans carry `graft.extension`: one tracer per process).
 */
export async function runExtensionsProcess(hosted: readonly HostedExtension[], options: { env?: NodeJS.ProcessEnv; serviceName: string }): Promise<RunningExtension[]> {
  const env = options.env ?? process.env;
  const names = hosted.map((h) => h.extension.name).join(', ');
  const running: RunningExtension[] = [];
  let stopTracing: (() => Promise<void>) | undefined;
  try {
    stopTracing = startTracingFromEnv(env, options.serviceName);
    for (const { extension, port } of hosted) {
      // From this env (not necessarily process.env); throws, explaining what to set, without it.
      const auth = resolveGatewayAuth(undefined, env, extension.name);
      running.push(await extension.listen({ port: port(), host: env['HOST'] || undefined, auth }));
    }
  } catch (error) {
    process.stderr.write(`${names}: failed to start: ${(error as Error).message}\n`);
    process.exit(1);
  }

  for (const extension of running) {
    const ready: ReadyEvent = { event: 'ready', name: extension.name, url: extension.url };
    process.stdout.write(`${JSON.stringify(ready)}\n`);
  }

  const shutDown = (): void => {
    Promise.all(running.map((extension) => extension.close()))
      .then(() => stopTracing?.())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`${names}: failed to close: ${(error as Error).message}\n`);
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', shutDown);
  process.once('SIGINT', shutDown);
  if (env['GRAFT_EXIT_WITH_PARENT'] === '1') {
    process.stdin.once('end', shutDown);
    process.stdin.once('close', shutDown);
    process.stdin.resume();
  }
  return running;
}
