// The example extensions that `npm start` runs: real HTTP subgraphs, each on its own
// loopback port, together in one child process, registered in the embedded registry on first start.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The root of the running code: the checkout, or dist/ in a compiled start (which holds copies of the SDL, manifests and schema/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Compiled (dist/, `npm run build`): the examples run compiled too, without tsx's loader. */
const COMPILED = import.meta.url.endsWith('.js');
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

/**
 * Starts the examples in one child process (subgraphs/serve-examples.ts), each on its
 * port, and resolves once each printed its ready line. They share the child: `onExit`
 * and stopExamples act on it once.
 */
export function startExamples(
  examples: ReadonlyArray<{ name: string; port: number }>,
  options: {
    host: string;
    /** Where the examples verify the gateway's tokens (SDK env GRAFT_GATEWAY_JWKS_URL / _ISSUER). */
    gatewayAuth: { jwksUrl: string; issuer: string };
    onExit?: (code: number | null) => void;
    timeoutMs?: number;
  },
): Promise<RunningExample[]> {
  const args = examples.map(({ name, port }) => `${name}=${port}`);
  const entry = COMPILED ? [join(REPO_ROOT, 'subgraphs', 'serve-examples.js')] : ['--import', 'tsx', join(REPO_ROOT, 'subgraphs', 'serve-examples.ts')];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      HOST: options.host,
      GRAFT_EXIT_WITH_PARENT: '1',
      GRAFT_GATEWAY_JWKS_URL: options.gatewayAuth.jwksUrl,
      GRAFT_GATEWAY_ISSUER: options.gatewayAuth.issuer,
    },
    // stdin stays open for the child's lifetime: when this process dies it closes, and the examples exit.
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const names = examples.map((e) => e.name).join(', ');
  return new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`the examples (${names}) did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    const ready = new Map<string, RunningExample>();
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const event = JSON.parse(line) as { event?: string; name?: string; url?: string };
        if (event.event !== 'ready' || typeof event.url !== 'string' || typeof event.name !== 'string') return;
        ready.set(event.name, { name: event.name, url: event.url, child, manifestPath: exampleManifestPath(event.name) });
        if (ready.size === examples.length) {
          clearTimeout(timer);
          resolve(examples.map((e) => ready.get(e.name)!));
        }
      } catch {
        // not our JSON line; the examples may log other things
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (ready.size < examples.length) reject(new Error(`the examples (${names}) exited with code ${code} before they were ready`));
      options.onExit?.(code);
    });
  });
}

export async function stopExamples(examples: readonly RunningExample[]): Promise<void> {
  await Promise.all(
    [...new Set(examples.map((example) => example.child))].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const force = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}
