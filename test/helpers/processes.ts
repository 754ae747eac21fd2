// Plain HTTP calls and bounded polling for the tests that run real Graft processes
// (multi-process mode, replicas): one request per call on its own connection unless an
// agent is given, and a poll that fails the test instead of hanging it.
import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Answer<T = any> {
  status: number;
  headers: IncomingHttpHeaders;
  body: T;
}

/**
 * One HTTP request. Without `agent`, on a connection of its own: the primary hands each new
 * connection to the next worker, so successive calls reach different workers. With a
 * keep-alive agent of one socket, every call goes to the worker that took that connection.
 */
export function call<T = any>(url: string, options: { method?: string; token?: string; body?: unknown; agent?: Agent; timeoutMs?: number } = {}): Promise<Answer<T>> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        agent: options.agent ?? false,
        timeout: options.timeoutMs ?? 15_000,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${options.timeoutMs ?? 15_000} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Polls until `check` returns a value (not undefined); bounded, so a broken gateway fails the test instead of hanging it. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(50);
  }
  throw new Error(`gave up waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}


