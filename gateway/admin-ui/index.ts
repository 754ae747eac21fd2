// The extension catalog page at /admin/ui: static files (index.html, app.js, sdl.js,
// styles.css) and the front-end modules it imports (Preact, its hooks and htm), served
// from node_modules under /admin/ui/vendor/: no build step and no CDN. The page itself is
// public; every datum on it comes from the admin API, called with the operator's token.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GraftError, GraftErrorCode } from '../errors/index.js';

/** Where the server registers this plugin. */
export const ADMIN_UI_PREFIX = '/admin/ui';

/**
 * Scripts and styles from this origin's files only (no inline script, style or eval), data
 * from this origin only, no framing, no forms posting anywhere, and DOM sinks locked by
 * Trusted Types (the page never sets HTML from strings).
 */
export const ADMIN_UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': ADMIN_UI_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // Revalidate every time (cheap: ETag), so a gateway upgrade never mixes old and new files.
  'cache-control': 'no-cache',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const TYPES = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml' } as const;

function asset(text: string, type: string): Asset {
  const body = Buffer.from(text, 'utf8');
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/** A vendored ES module, with its source map comment dropped (the maps are not served). */
function vendorModule(source: string, name: string, rewrites: Array<[from: string, to: string]> = []): string {
  let text = source.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
  for (const [from, to] of rewrites) {
    if (text.split(from).length !== 2) {
      throw new Error(`admin-ui: expected exactly one "${from}" in ${name}; has the package changed? Update gateway/admin-ui/index.ts.`);
    }
    text = text.replace(from, to);
  }
  // A browser resolves relative URLs only (there is no import map: it would be an inline script).
  const bare = /(?:\bfrom|\bimport)\s*["'](?![./])([^"']+)["']/.exec(text);
  if (bare) throw new Error(`admin-ui: ${name} imports "${bare[1]}", which a browser cannot resolve without an import map.`);
  return text;
}

async function loadAssets(): Promise<Map<string, Asset>> {
  const require = createRequire(import.meta.url);
  const own = async (file: string) => readFile(join(HERE, file), 'utf8');
  const preact = require.resolve('preact'); // .../preact/dist/preact.mjs
  const hooks = require.resolve('preact/hooks'); // .../preact/hooks/dist/hooks.mjs
  const htm = join(dirname(require.resolve('htm')), 'htm.mjs'); // the ES module next to the CommonJS main
  return new Map<string, Asset>([
    ['index.html', asset(await own('index.html'), TYPES.html)],
    ['app.js', asset(await own('app.js'), TYPES.js)],
    ['sdl.js', asset(await own('sdl.js'), TYPES.js)],
    ['styles.css', asset(await own('styles.css'), TYPES.css)],
    ['favicon.svg', asset(await own('favicon.svg'), TYPES.svg)],
    ['vendor/preact.mjs', asset(vendorModule(await readFile(preact, 'utf8'), 'preact'), TYPES.js)],
    ['vendor/hooks.mjs', asset(vendorModule(await readFile(hooks, 'utf8'), 'preact/hooks', [['from"preact"', 'from"./preact.mjs"']]), TYPES.js)],
    ['vendor/htm.mjs', asset(vendorModule(await readFile(htm, 'utf8'), 'htm'), TYPES.js)],
  ]);
}

/** Registers the page's routes; register it with `{ prefix: ADMIN_UI_PREFIX }`. */
export async function adminUi(app: FastifyInstance): Promise<void> {
  const assets = await loadAssets();

  const send = (request: FastifyRequest, reply: FastifyReply, path: string): FastifyReply => {
    const found = assets.get(path);
    if (!found) throw new GraftError(GraftErrorCode.NOT_FOUND, `There is no file ${ADMIN_UI_PREFIX}/${path}: the catalog page is at ${ADMIN_UI_PREFIX}/.`);
    void reply.headers(SECURITY_HEADERS).header('content-type', found.type).header('etag', found.etag);
    if (request.headers['if-none-match'] === found.etag) return reply.code(304).send();
    return reply.send(found.body);
  };

  const hidden = { schema: { hide: true } };
  app.get('/', hidden, async (request, reply) => {
    // The page links its files relatively (so it also works under a proxy's path prefix):
    // /admin/ui must become /admin/ui/ first. A relative Location keeps that prefix too.
    const path = request.url.split('?')[0] ?? '';
    if (!path.endsWith('/')) return reply.headers(SECURITY_HEADERS).redirect('ui/', 301);
    return send(request, reply, 'index.html');
  });
  app.get<{ Params: { file: string } }>('/:file', hidden, async (request, reply) => send(request, reply, request.params.file));
  app.get<{ Params: { file: string } }>('/vendor/:file', hidden, async (request, reply) => send(request, reply, `vendor/${request.params.file}`));
}
