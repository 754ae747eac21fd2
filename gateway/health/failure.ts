// What a failed health check says. Statuses are shown to extension authors and operators,
// so the text is one short line about the extension's endpoint: never a stack, a file
// path, or the gateway's own internals.
import { isGraftError } from '../errors/index.js';

/** A failure whose message was written for the status page (safe to show as is). */
export class HealthCheckError extends Error {
  override readonly name = 'HealthCheckError';
}

/** Raised by the monitor when the check ran out of time. */
export class HealthCheckTimeout extends HealthCheckError {}

const BY_CODE: Record<string, string> = {
  ECONNREFUSED: 'connection refused: nothing listens at the subgraph URL',
  ECONNRESET: 'the connection was reset by the extension',
  EPIPE: 'the connection was closed by the extension',
  ENOTFOUND: 'the host name of the subgraph URL does not resolve',
  EAI_AGAIN: 'the host name of the subgraph URL could not be resolved right now',
  EHOSTUNREACH: 'the host of the subgraph URL is unreachable',
  ENETUNREACH: 'the network of the subgraph URL is unreachable',
  UND_ERR_SOCKET: 'the connection was closed by the extension before it answered',
  UND_ERR_CLOSED: 'the connection was closed before the extension answered',
};

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

const oneLine = (text: string, max = 200): string => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

/**
 * The status text for `error`, and whether it was foreseen (an unforeseen one is worth a
 * log line with the full error, which the caller may write to the gateway log).
 */
export function describeFailure(error: unknown, timeoutMs: number): { message: string; foreseen: boolean } {
  if (error instanceof HealthCheckError) return { message: oneLine(error.message), foreseen: true };
  // Refusals of the network policy (URL_NOT_ALLOWED) are written for authors already.
  if (isGraftError(error)) return { message: oneLine(error.message), foreseen: true };
  const { code, name } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; name?: unknown };
  if ((typeof code === 'string' && TIMEOUT_CODES.has(code)) || name === 'TimeoutError' || name === 'AbortError') {
    return { message: `no answer within ${timeoutMs} ms`, foreseen: true };
  }
  if (typeof code === 'string') {
    const known = BY_CODE[code];
    if (known) return { message: known, foreseen: true };
    if (/^(ERR_TLS|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_SSL)/.test(code)) {
      return { message: `the TLS handshake failed (${code})`, foreseen: true };
    }
  }
  return { message: 'the health check failed; the gateway log has the details', foreseen: false };
}
