// The example extensions that `npm start` runs: each a real HTTP subgraph in its own
// child process on a loopback port, registered in the embedded registry on first start.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Publish order matters only for readability: each publish composes with what is active. */
export const EXAMPLE_NAMES = ['crm', 'orders', 'inventory'] as const;
/**
 * Examples that contribute resolver directives (their code is published with graft.json;
 * see gateway/directives). `graft start` runs and publishes them too, first, so crm's
 * @mask is implemented from the first supergraph on. They stay out of EXAMPLE_NAMES: the
 * schema artefacts (`graft compose`) and the toolkit (`graft dev`, `graft simulate`)
 * publish manifests and SDL only.
 */
export const DIRECTIVE_EXAMPLE_NAMES = ['privacy'] as const;
export const EXAMPLE_DEFAULT_PORTS: Record<(typeof EXAMPLE_NAMES)[number] | (typeof DIRECTIVE_EXAMPLE_NAMES)[number], number> = {
  crm: 4101,
  orders: 4102,
  inventory: 4103,
  privacy: 4104,
};

export interface RunningExample {
  name: string;
  url: string;
  child: ChildProcess;
  manifestPath: string;
}

export function exampleManifestPath(name: string): string {
  return join(REPO_ROOT, 'subgraphs', name, 'graft.json');
}

/** Starts one example and resolves once it printed its ready line. */
export function startExample(
  name: string,
  options: {
    port: number;
    host: string;
    /** Where the example verifies the gateway's tokens (SDK env GRAFT_GATEWAY_JWKS_URL / _ISSUER). */
    gatewayAuth: { jwksUrl: string; issuer: string };
    onExit?: (code: number | null) => void;
    timeoutMs?: number;
  },
): Promise<RunningExample> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'subgraphs', name, 'server.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: String(options.port),
      HOST: options.host,
      GRAFT_EXIT_WITH_PARENT: '1',
      GRAFT_GATEWAY_JWKS_URL: options.gatewayAuth.jwksUrl,
      GRAFT_GATEWAY_ISSUER: options.gatewayAuth.issuer,
    },
    // stdin stays open for the child's lifetime: when this process dies it closes, and the example exits.
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`example "${name}" did not start within ${options.timeoutMs ?? 30_000} ms`));
    }, options.timeoutMs ?? 30_000);
    let ready = false;
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (ready) return;
      try {
        const event = JSON.parse(line) as { event?: string; url?: string };
        if (event.event === 'ready' && typeof event.url === 'string') {
          ready = true;
          clearTimeout(timer);
          resolve({ name, url: event.url, child, manifestPath: exampleManifestPath(name) });
        }
      } catch {
        // not our JSON line; the example may log other things
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`example "${name}" exited with code ${code} before it was ready`));
      options.onExit?.(code);
    });
  });
}

export async function stopExamples(examples: readonly RunningExample[]): Promise<void> {
  await Promise.all(
    examples.map(
      (example) =>
        new Promise<void>((resolve) => {
          if (example.child.exitCode !== null || example.child.signalCode !== null) return resolve();
          const force = setTimeout(() => example.child.kill('SIGKILL'), 5000);
          example.child.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          example.child.kill('SIGTERM');
        }),
    ),
  );
}
