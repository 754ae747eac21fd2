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
  let running: RunningExtension;
  let stopTracing: (() => Promise<void>) | undefined;
  try {
    stopTracing = startTracingFromEnv(env, extension.name);
    const port = portFrom(env['PORT'], options.defaultPort);
    // From this env (not necessarily process.env); throws, explaining what to set, without it.
    const auth = resolveGatewayAuth(undefined, env, extension.name);
    running = await extension.listen({ port, host: env['HOST'] || undefined, auth });
  } catch (error) {
    process.stderr.write(`${extension.name}: failed to start: ${(error as Error).message}\n`);
    process.exit(1);
  }

  const ready: ReadyEvent = { event: 'ready', name: running.name, url: running.url };
  process.stdout.write(`${JSON.stringify(ready)}\n`);

  const shutDown = (): void => {
    running
      .close()
      .then(() => stopTracing?.())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`${extension.name}: failed to close: ${(error as Error).message}\n`);
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
