// Bridges node:http to Apollo Server: routes /health (public) and /graphql (gateway token
// required: 401 before the body is even read), reads the body with a hard size cap, and
// hands Apollo a method/headers/search/body request. No framework: a subgraph needs
// exactly these two routes and nothing that could add attack surface.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type HTTPGraphQLRequest } from '@apollo/server';
import { AuthenticationError, type ExtensionAuth } from './auth.js';
import type { ExtensionContext, ExtensionRequest } from './context.js';
import { COST_BUDGET_HEADER, parseCostBudget } from './cost.js';
import { MAX_REQUEST_BODY_BYTES, sendError, sendJson } from './errors.js';
import type { ExtensionStatsRecorder } from './stats.js';
import { withRequestSpan } from './tracing.js';

export const GRAPHQL_PATH = '/graphql';
export const HEALTH_PATH = '/health';

export interface RequestHandlerOptions<TContext extends ExtensionContext> {
  name: string;
  apollo: ApolloServer<TContext>;
  stats: ExtensionStatsRecorder;
  /** Verifies the Authorization header; throws AuthenticationError to refuse with 401. */
  authenticate: (authorization: string | undefined) => Promise<ExtensionAuth>;
  createContext: (request: ExtensionRequest, auth: ExtensionAuth, costBudget: number | undefined) => Promise<TContext>;
  maxBodyBytes?: number;
}

type BodyReadResult = { kind: 'complete'; bytes: Buffer } | { kind: 'too-large' } | { kind: 'aborted' };

/**
 * Reads the whole body unless it exceeds `limit`. A declared Content-Length over the
 * limit is refused before reading; a chunked body is refused as soon as it crosses it.
 * After a refusal the rest is still drained (and discarded) so the client, which is
 * usually still sending, gets to read the 413 instead of a connection reset.
 */
function readBody(req: IncomingMessage, limit: number): Promise<BodyReadResult> {
  const declaredLength = Number(req.headers['content-length']);
  if (Number.isFinite(declaredLength) && declaredLength > limit) {
    req.resume();
    return Promise.resolve({ kind: 'too-large' });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyReadResult): void => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) settle({ kind: 'too-large' });
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (!settled) {
        settled = true;
        resolve({ kind: 'complete', bytes: Buffer.concat(chunks, size) });
      }
    });
    req.on('error', () => settle({ kind: 'aborted' }));
    req.on('close', () => settle({ kind: 'aborted' }));
  });
}

function isJsonContentType(contentType: string | undefined): boolean {
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return mediaType === 'application/json' || (mediaType.startsWith('application/') && mediaType.endsWith('+json'));
}

function toHeaderMap(req: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

function splitUrl(url: string): { path: string; search: string } {
  const queryStart = url.indexOf('?');
  return queryStart === -1 ? { path: url, search: '' } : { path: url.slice(0, queryStart), search: url.slice(queryStart) };
}

export function createRequestHandler<TContext extends ExtensionContext>(
  options: RequestHandlerOptions<TContext>,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { name, apollo, stats, authenticate, createContext } = options;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES;
  const method = (req: IncomingMessage): string => (req.method ?? 'GET').toUpperCase();

  function answerHealth(req: IncomingMessage, res: ServerResponse): void {
    if (method(req) !== 'GET' && method(req) !== 'HEAD') {
      sendError(res, 405, 'METHOD_NOT_ALLOWED', `${HEALTH_PATH} answers GET only.`, name, { allow: 'GET, HEAD' });
      return;
    }
    sendJson(res, 200, { status: 'ok', name });
  }

  /** The body Apollo expects: parsed JSON for JSON requests, otherwise undefined (Apollo then explains the 400). */
  async function readGraphQLBody(req: IncomingMessage, res: ServerResponse): Promise<{ body: unknown } | undefined> {
    if (method(req) !== 'POST') return { body: undefined };
    const read = await readBody(req, maxBodyBytes);
    if (read.kind === 'aborted') {
      res.destroy();
      return undefined;
    }
    if (read.kind === 'too-large') {
      sendError(
        res,
        413,
        'PAYLOAD_TOO_LARGE',
        `The request body is larger than ${maxBodyBytes} bytes; send a smaller operation or fewer variables.`,
        name,
        { connection: 'close' },
      );
      return undefined;
    }
    if (!isJsonContentType(req.headers['content-type']) || read.bytes.length === 0) return { body: undefined };
    try {
      return { body: JSON.parse(read.bytes.toString('utf8')) as unknown };
    } catch {
      sendError(res, 400, 'BAD_REQUEST', 'The request body is not valid JSON.', name);
      return undefined;
    }
  }

  /** The verified caller, or undefined after answering 401 (before reading the body). */
  async function authenticateRequest(req: IncomingMessage, res: ServerResponse): Promise<ExtensionAuth | undefined> {
    try {
      return await authenticate(req.headers.authorization);
    } catch (error) {
      const message = error instanceof AuthenticationError ? error.message : 'The gateway token could not be verified.';
      // The body is not read: discard it and close, so the client can read the refusal.
      req.resume();
      sendError(res, 401, 'UNAUTHENTICATED', message, name, {
        'www-authenticate': 'Bearer error="invalid_token"',
        connection: 'close',
      });
      return undefined;
    }
  }

  async function answerGraphQL(req: IncomingMessage, res: ServerResponse, search: string): Promise<void> {
    stats.recordRequest();
    const auth = await authenticateRequest(req, res);
    if (!auth) return;
    const budget = parseCostBudget(req.headers[COST_BUDGET_HEADER]);
    if ('error' in budget) {
      req.resume();
      sendError(res, 400, 'BAD_REQUEST', budget.error, name, { connection: 'close' });
      return;
    }
    const read = await readGraphQLBody(req, res);
    if (!read) return;
    const httpGraphQLRequest: HTTPGraphQLRequest = { method: method(req), headers: toHeaderMap(req), search, body: read.body };
    const requestInfo: ExtensionRequest = {
      method: method(req),
      url: req.url ?? GRAPHQL_PATH,
      headers: req.headers,
      remoteAddress: req.socket.remoteAddress,
    };
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: () => createContext(requestInfo, auth, budget.budget),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }

  return (req, res) => {
    const { path, search } = splitUrl(req.url ?? '/');
    let answered: Promise<void>;
    if (path === HEALTH_PATH) answered = Promise.resolve(answerHealth(req, res));
    else if (path === GRAPHQL_PATH) {
      // Each GraphQL request continues the gateway's trace (W3C traceparent), see tracing.ts.
      answered = withRequestSpan(name, req.headers, async (span) => {
        await answerGraphQL(req, res, search);
        span.setAttribute('http.response.status_code', res.statusCode);
      });
    } else answered = Promise.resolve(sendError(res, 404, 'NOT_FOUND', `No route ${path}; GraphQL is served at ${GRAPHQL_PATH}.`, name));
    answered.catch(() => {
      // Apollo turns resolver and context errors into responses itself; reaching here
      // means the transport failed. Say nothing internal, and never leak a stack.
      if (!res.headersSent) sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'The extension failed to answer.', name);
      else res.destroy();
    });
  };
}
