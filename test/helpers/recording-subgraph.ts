// A subgraph that records every request it receives (headers, query, variables), for
// tests that prove what reaches an extension: never a denied field, never the user's token.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse } from 'graphql';

export interface RecordedRequest {
  headers: IncomingHttpHeaders;
  query: string;
  variables: Record<string, unknown> | undefined;
}

export interface RecordingSubgraph {
  url: string;
  received: RecordedRequest[];
  close(): Promise<void>;
}

/** Lets a fault-injection test answer a request itself (status, raw body, delay) instead of the schema. */
/** A canned answer; with `dripEveryMs`, the body is sent one byte at a time, headers first (a slow body, not a slow start). */
export interface InterceptedAnswer {
  status: number;
  body: string;
  dripEveryMs?: number;
}
export type Intercept = (request: RecordedRequest, index: number) => Promise<InterceptedAnswer | undefined> | InterceptedAnswer | undefined;

export async function startRecordingSubgraph(
  sdl: string,
  resolvers: Record<string, any>,
  options: { intercept?: Intercept } = {},
): Promise<RecordingSubgraph> {
  const schema = buildSubgraphSchema([{ typeDefs: parse(sdl), resolvers }]);
  const received: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', async () => {
      const { query, variables, operationName } = JSON.parse(body) as { query: string; variables?: Record<string, unknown>; operationName?: string };
      const recorded = { headers: request.headers, query, variables };
      received.push(recorded);
      const intercepted = await options.intercept?.(recorded, received.length - 1);
      if (intercepted) {
        if (response.destroyed) return;
        response.writeHead(intercepted.status, { 'content-type': 'application/json' });
        if (intercepted.dripEveryMs === undefined) {
          response.end(intercepted.body);
          return;
        }
        response.flushHeaders();
        for (const byte of intercepted.body) {
          if (response.destroyed) return;
          response.write(byte);
          await new Promise((resolve) => setTimeout(resolve, intercepted.dripEveryMs));
        }
        response.end();
        return;
      }
      const result = await graphql({ schema, source: query, variableValues: variables ?? null, operationName: operationName ?? null });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(result));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
