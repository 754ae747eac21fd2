// Reading an extension's live schema the way the gateway talks to it: a POST of
// `{ _service { sdl } }` through the upstream Agent (so the network policy's guarded
// connect applies), with a minted gateway token (subgraphs refuse anything else), a
// timeout, no redirects and a size cap.
import type { Agent } from 'undici';
import { HealthCheckError } from './failure.js';

export const SERVICE_SDL_QUERY = '{ _service { sdl } }';

/** The extension the monitor checks. */
export interface HealthTarget {
  name: string;
  url: string;
}

/** Reads the live SDL; `signal` aborts it (the monitor's own timeout). */
export type FetchServiceSdl = (extension: HealthTarget, options?: { signal?: AbortSignal }) => Promise<string>;

/** SDLs are small; anything bigger is not an answer to this query. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) {
      body.destroy();
      throw new HealthCheckError(`the answer to ${SERVICE_SDL_QUERY} is larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function sdlOf(parsed: unknown): string | undefined {
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const data = (parsed as { data?: unknown }).data;
  if (typeof data !== 'object' || data === null) return undefined;
  const service = (data as { _service?: unknown })._service;
  if (typeof service !== 'object' || service === null) return undefined;
  const sdl = (service as { sdl?: unknown }).sdl;
  return typeof sdl === 'string' ? sdl : undefined;
}

function firstErrorMessage(parsed: unknown): string | undefined {
  const errors = typeof parsed === 'object' && parsed !== null ? (parsed as { errors?: unknown }).errors : undefined;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const message = (errors[0] as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message.replace(/\s+/g, ' ').slice(0, 160) : 'an error without a message';
}

/**
 * A ready `fetchServiceSdl` for HealthMonitor: POSTs `{ _service { sdl } }` through
 * `agent` with `authorization: Bearer <tokenFor(name)>`, gives up after `timeoutMs`, and
 * treats a redirect as a failure (it is never followed).
 */
export function fetchServiceSdlOver(agent: Agent, tokenFor: (name: string) => Promise<string>, timeoutMs: number): FetchServiceSdl {
  return async (extension, options = {}) => {
    const url = new URL(extension.url);
    const token = await tokenFor(extension.name);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const response = await agent.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query: SERVICE_SDL_QUERY }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal,
    });
    const { statusCode } = response;
    if (statusCode >= 300 && statusCode < 400) {
      await response.body.dump();
      throw new HealthCheckError(`the extension answered with a redirect (HTTP ${statusCode}); Graft does not follow redirects, so fix the subgraph URL`);
    }
    if (statusCode === 401 || statusCode === 403) {
      await response.body.dump();
      throw new HealthCheckError(
        `the extension refused the gateway's token (HTTP ${statusCode}): check that it verifies tokens against the gateway's /.well-known/jwks.json and issuer`,
      );
    }
    const text = await readCapped(response.body);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new HealthCheckError(`the extension answered HTTP ${statusCode} without a GraphQL JSON body`);
    }
    const sdl = sdlOf(parsed);
    if (sdl !== undefined && statusCode >= 200 && statusCode < 300) return sdl;
    const error = firstErrorMessage(parsed);
    if (error !== undefined) throw new HealthCheckError(`the extension answered HTTP ${statusCode} with a GraphQL error: ${error}`);
    if (statusCode >= 400) throw new HealthCheckError(`the extension answered HTTP ${statusCode}`);
    throw new HealthCheckError(`the answer has no _service.sdl: is the extension a Federation subgraph?`);
  };
}
