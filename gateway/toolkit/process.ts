// Runs an extension's server.ts as a child process, the way `graft dev`, `simulate` and
// `contract-test` need it: on an ephemeral loopback port, verifying the tokens of a given
// issuer, resolved once it printed the SDK's ready line ({"event":"ready","url":...}).
// The child exits with its parent (GRAFT_EXIT_WITH_PARENT and a piped stdin).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** tsx's ESM loader, resolved from Graft's own install so the extension folder needs none. */
const TSX_LOADER = import.meta.resolve('tsx');

export interface ExtensionProcessOptions {
  name: string;
  /** The extension's server.ts (runExtensionProcess). */
  entry: string;
  cwd: string;
  /** Where the extension fetches the keys of the tokens it accepts, and their issuer. */
  gatewayAuth: { jwksUrl: string; issuer: string };
  /** 0 (default): an ephemeral port. */
  port?: number;
  host?: string;
  timeoutMs?: number;
  /** Every line the child writes after its ready line (stdout) and on stderr. */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Called when the child exits (after it was ready). */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  env?: Record<string, string>;
}

export interface ExtensionProcess {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the child is gone. Idempotent. */
  stop(): Promise<void>;
}

const STDERR_TAIL_LINES = 20;

export function startExtensionProcess(options: ExtensionProcessOptions): Promise<ExtensionProcess> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = spawn(process.execPath, ['--import', TSX_LOADER, options.entry], {
    cwd: options.cwd,
    env: {
      ...process.env,
      ...options.env,
      PORT: String(options.port ?? 0),
      HOST: options.host ?? '127.0.0.1',
      GRAFT_EXIT_WITH_PARENT: '1',
      GRAFT_GATEWAY_JWKS_URL: options.gatewayAuth.jwksUrl,
      GRAFT_GATEWAY_ISSUER: options.gatewayAuth.issuer,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderrTail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    options.onOutput?.(line, 'stderr');
  });

  let stopping: Promise<void> | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(force);
    })();
    return stopping;
  };

  return new Promise((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`extension "${options.name}" did not print its ready line within ${timeoutMs} ms${describeTail(stderrTail)}`));
    }, timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (ready) {
        options.onOutput?.(line, 'stdout');
        return;
      }
      const url = readyUrl(line);
      if (url === undefined) {
        options.onOutput?.(line, 'stdout');
        return;
      }
      ready = true;
      clearTimeout(timer);
      resolve({ name: options.name, url, child, stop });
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`extension "${options.name}" could not be started: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) {
        // Let the last stderr lines arrive before naming them.
        setImmediate(() => reject(new Error(`extension "${options.name}" exited (code ${code}) before it was ready${describeTail(stderrTail)}`)));
        return;
      }
      options.onExit?.(code, signal);
    });
  });
}

function readyUrl(line: string): string | undefined {
  try {
    const event = JSON.parse(line) as { event?: unknown; url?: unknown };
    return event.event === 'ready' && typeof event.url === 'string' ? event.url : undefined;
  } catch {
    return undefined;
  }
}

function describeTail(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `:\n    ${lines.join('\n    ')}`;
}
