// The four Guild subgraphs in ONE process (the machine has 2 cores: one process for the
// subgraphs leaves the other core to the gateway under test), each on its own port of
// 127.0.0.1 behind a minimal node:http server. Prints one line:
//   {"event":"ready","urls":{"accounts":"http://127.0.0.1:p/graphql",...},"pid":n}
// The data is static, so each answer is a pure function of the request body: answers are
// cached by body (GUILD_SUBGRAPH_CACHE=off turns that off), which keeps the subgraphs
// cheap and the measurement on the gateways. Auth headers are ignored: these are benchmark
// subgraphs, not Graft extensions. GET /stats counts the GraphQL requests each subgraph served.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { execute, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { SUBGRAPHS, subgraphSchema } from './subgraphs.js';

const CACHE = process.env['GUILD_SUBGRAPH_CACHE'] !== 'off';
const MAX_CACHED = 10_000;
const MAX_BODY = 1024 * 1024;

interface Request {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')));
    request.on('error', reject);
  });
}

/** GraphQL requests served per subgraph (GET /stats on any port): fetches per gateway request. */
const served: Record<string, number> = {};

function handler(name: string, schema: GraphQLSchema) {
  served[name] = 0;
  const documents = new Map<string, DocumentNode>();
  const answers = new Map<string, string>();
  const answer = async (body: string): Promise<{ status: number; text: string }> => {
    let request: Request;
    try {
      request = JSON.parse(body) as Request;
    } catch {
      return { status: 400, text: JSON.stringify({ errors: [{ message: 'body is not JSON' }] }) };
    }
    if (typeof request.query !== 'string') return { status: 400, text: JSON.stringify({ errors: [{ message: 'no query' }] }) };
    let document = documents.get(request.query);
    if (!document) {
      try {
        document = parse(request.query);
      } catch (error) {
        return { status: 400, text: JSON.stringify({ errors: [{ message: (error as Error).message }] }) };
      }
      const problems = validate(schema, document);
      if (problems.length > 0) return { status: 400, text: JSON.stringify({ errors: problems.map((p) => ({ message: p.message })) }) };
      if (documents.size < MAX_CACHED) documents.set(request.query, document);
    }
    const result = await execute({
      schema,
      document,
      variableValues: (request.variables ?? undefined) as Record<string, unknown> | undefined,
      operationName: typeof request.operationName === 'string' ? request.operationName : undefined,
    });
    return { status: 200, text: JSON.stringify(result) };
  };
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method === 'GET' && request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (request.method === 'GET' && request.url === '/stats') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served));
      return;
    }
    if (request.method !== 'POST' || !request.url?.startsWith('/graphql')) {
      response.writeHead(404).end();
      return;
    }
    let status = 200;
    let text: string;
    try {
      const body = await readBody(request);
      // Health checks and drift detection (Graft asks for _service { sdl }) are not counted.
      if (!body.includes('_service')) served[name]! += 1;
      const cached = CACHE ? answers.get(body) : undefined;
      if (cached !== undefined) text = cached;
      else {
        ({ status, text } = await answer(body));
        if (CACHE && status === 200 && !text.includes('"errors"') && answers.size < MAX_CACHED) answers.set(body, text);
      }
    } catch (error) {
      status = 500;
      text = JSON.stringify({ errors: [{ message: (error as Error).message }] });
    }
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

const basePort = Number(process.env['PORT'] ?? 0);
const servers: Server[] = [];
const urls: Record<string, string> = {};
for (const [index, subgraph] of SUBGRAPHS.entries()) {
  const server = createServer(handler(subgraph.name, subgraphSchema(subgraph)));
  server.keepAliveTimeout = 65_000;
  servers.push(server);
  const port = await listen(server, basePort === 0 ? 0 : basePort + index);
  urls[subgraph.name] = `http://127.0.0.1:${port}/graphql`;
}
process.stdout.write(`${JSON.stringify({ event: 'ready', urls, pid: process.pid, cache: CACHE })}\n`);

const stop = () => {
  for (const server of servers) server.closeAllConnections();
  void Promise.all(servers.map((s) => new Promise((r) => s.close(r)))).then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.once('end', stop);
process.stdin.resume();
