// GraphiQL in development mode: GET /graphql from a browser (Accept: text/html) opens
// GraphiQL served by the gateway itself, from the npm package @graphql-yoga/render-graphiql
// (a prebuilt browser bundle of GraphiQL, React and Monaco with its workers), never from a
// CDN: Apollo's default landing page loads from the internet, which many company networks
// block, so it stays off. Every asset is a file under /graphiql/assets/ and the page has
// no inline script (its CSP says so). A dev token is pre-filled as the Authorization
// header. The server registers none of this in production (NODE_ENV=production).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const GRAPHIQL_ASSETS = '/graphiql/assets';

export interface GraphiQLOptions {
  /** The GraphQL endpoint's path. */
  endpoint: string;
  /** A token for the Authorization header (the dev issuer's); undefined leaves it empty. */
  devToken: () => Promise<string | undefined>;
  /** The query in the editor when the browser kept none from a previous visit. */
  defaultQuery?: string;
}

interface Asset {
  body: string;
  type: string;
  etag: string;
}

const SECURITY_HEADERS = {
  // Monaco and GraphiQL set inline styles; scripts and workers come from the gateway only.
  'content-security-policy':
    "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

function asset(body: string, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/** The bundle is ~7 MB of JavaScript strings: loaded on the first visit, not at start. */
let assets: Promise<Map<string, Asset>> | undefined;
function loadAssets(): Promise<Map<string, Asset>> {
  assets ??= (async () => {
    const bundle = await import('@graphql-yoga/render-graphiql/graphiql');
    const js = 'text/javascript; charset=utf-8';
    return new Map([
      ['graphiql.js', asset(bundle.js, js)],
      ['graphiql.css', asset(bundle.css, 'text/css; charset=utf-8')],
      ['editor.worker.js', asset(bundle.editorWorkerService, js)],
      ['json.worker.js', asset(bundle.jsonWorker, js)],
      ['graphql.worker.js', asset(bundle.graphqlWorker, js)],
      ['start.js', asset(await readFile(new URL('./start.js', import.meta.url), 'utf8'), js)],
    ]);
  })();
  return assets;
}

/** A browser navigating to the endpoint (not a GraphQL client doing a GET). */
export function wantsGraphiQL(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return request.method === 'GET' && accept.includes('text/html');
}

function escapeForScriptTag(json: string): string {
  // Inside <script type="application/json">, "</script>" or "<!--" would end the element early.
  return json.replace(/</g, '\\u003c');
}

async function page(options: GraphiQLOptions): Promise<string> {
  const token = await options.devToken();
  const settings = {
    endpoint: options.endpoint,
    title: 'Graft GraphiQL',
    headers: JSON.stringify(token ? { Authorization: `Bearer ${token}` } : {}, null, 2),
    // A fresh dev token on each visit: a stored one would expire.
    shouldPersistHeaders: false,
    ...(options.defaultQuery ? { defaultQuery: options.defaultQuery } : {}),
  };
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Graft GraphiQL</title>
    <link rel="stylesheet" href="${GRAPHIQL_ASSETS}/graphiql.css" />
  </head>
  <body>
    <div id="root" style="height: 100vh"></div>
    <script type="application/json" id="graphiql-options">${escapeForScriptTag(JSON.stringify(settings))}</script>
    <script src="${GRAPHIQL_ASSETS}/graphiql.js"></script>
    <script src="${GRAPHIQL_ASSETS}/start.js"></script>
  </body>
</html>
`;
}

/**
 * Serves GraphiQL's files under GRAPHIQL_ASSETS and returns the hook that answers a
 * browser's GET of the endpoint with the page (register it on the root app, onRequest).
 */
export async function graphiql(app: FastifyInstance, options: GraphiQLOptions): Promise<(request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>> {
  app.get<{ Params: { file: string } }>(`${GRAPHIQL_ASSETS}/:file`, { schema: { hide: true } }, async (request, reply) => {
    const file = (await loadAssets()).get(request.params.file);
    if (!file) return reply.code(404).type('text/plain; charset=utf-8').send('Not found.');
    void reply.headers({ ...SECURITY_HEADERS, 'cache-control': 'no-cache', etag: file.etag });
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.type(file.type).send(file.body);
  });
  return async (request, reply) => {
    if (request.url.split('?')[0] !== options.endpoint || !wantsGraphiQL(request)) return undefined;
    return reply
      .headers({ ...SECURITY_HEADERS, 'cache-control': 'no-store' })
      .type('text/html; charset=utf-8')
      .send(await page(options));
  };
}
