// GraphiQL in development mode, in a real browser: headless Debian chromium driven by
// playwright-core against a real gateway with the three example extensions. The page and
// every asset come from the gateway (never the internet), the dev token is pre-filled, and
// the README tour query runs and shows its data. Off in production.
// CI installs chromium (.ci/run); without /usr/bin/chromium this test fails, it never skips.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../../gateway/config/index.js';
import { startGraftServer, type GraftServer } from '../../gateway/server/index.js';
import { CROSS_EXTENSION_QUERY, REPO_ROOT, exampleManifest, exampleUserToken, gatewayAuthOf, graphql, publish, startExamples, tempDir, tokenFor, type RunningExamples } from '../helpers/index.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const USER = { subject: 'alice', scopes: ['crm:read', 'crm:pii', 'orders:read', 'inventory:read'] };

describe('GraphiQL at GET /graphql in chromium (development mode)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: GraftServer;
  let examples: RunningExamples;
  let browser: Browser;
  let page: Page;
  /** Console errors, uncaught exceptions (a CSP violation is one), failed requests, requests leaving the gateway. */
  const pageErrors: string[] = [];
  const graphqlRequests: Array<{ authorization: string | undefined; body: string }> = [];

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`The GraphiQL test needs Debian's chromium at ${CHROMIUM}, and it is missing. Install it with \`apt-get update && apt-get install -y chromium\` (.ci/run does this in CI).`);
    }
    dir = await tempDir();
    const config = loadConfig({ NODE_ENV: 'test' }, { port: 0, dataDir: dir.path, logLevel: 'silent' });
    server = await startGraftServer({ config, graphiql: { user: USER, defaultQuery: CROSS_EXTENSION_QUERY } });
    examples = await startExamples(gatewayAuthOf(server));
    const admin = await tokenFor(server, 'admin', ['graft:admin']);
    for (const name of ['crm', 'orders', 'inventory'] as const) assert.equal((await publish(server, admin, await exampleManifest(name, examples[name].url))).status, 201);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => pageErrors.push(`page: ${error.message}`));
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== new URL(server.url).origin) pageErrors.push(`left the gateway: ${request.url()}`);
      if (url.pathname === '/graphql' && request.method() === 'POST') graphqlRequests.push({ authorization: request.headers()['authorization'], body: request.postData() ?? '' });
    });
    page.on('response', (response) => {
      if (response.status() >= 400) pageErrors.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await examples?.close();
    await dir?.remove();
  });

  it('answers a browser with the GraphiQL page and its assets from the gateway, under a CSP without inline scripts', async () => {
    const html = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
    const csp = html.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self';/);
    assert.doesNotMatch(csp, /script-src[^;]*unsafe/);
    const body = await html.text();
    for (const src of body.match(/(?:src|href)="[^"]+"/g) ?? []) assert.match(src, /="\/graphiql\/assets\//, `${src} is not served by the gateway`);
    const bundle = await fetch(`${server.url}/graphiql/assets/graphiql.js`);
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-type') ?? '', /^text\/javascript/);
    // A GraphQL client's GET still reaches GraphQL.
    const token = await exampleUserToken(server);
    const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json', authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' } });
    assert.deepEqual(await get.json(), { data: { __typename: 'Query' } });
  });

  it('runs the README tour query with the pre-filled dev token and shows the data', async () => {
    const expected = await graphql(server, CROSS_EXTENSION_QUERY, { token: await exampleUserToken(server) });
    assert.equal(expected.body.errors, undefined);
    const firstName = (expected.body.data as { customers: Array<{ name: string }> }).customers[0]!.name;

    await page.goto(`${server.url}/graphql`);
    const run = page.locator('.graphiql-execute-button');
    await run.waitFor({ state: 'visible', timeout: 30_000 });
    // The query editor opens with the tour query (defaultQuery).
    await page.locator('.graphiql-query-editor').getByText('customers').first().waitFor({ timeout: 30_000 });
    await run.click();
    const response = page.locator('.graphiql-response');
    await response.getByText(firstName).first().waitFor({ timeout: 30_000 });
    const shown = await response.innerText();
    assert.match(shown, /"customers"/);
    assert.match(shown, /"stock"/);
    assert.doesNotMatch(shown, /"errors"/);

    // GraphiQL sends the query without its spaces.
    const tourRun = graphqlRequests.find((request) => request.body.replace(/\s/g, '').includes('customers(first:2)'));
    assert.ok(tourRun, `GraphiQL sent the tour query to /graphql: ${JSON.stringify(graphqlRequests).slice(0, 3000)}`);
    assert.match(tourRun.authorization ?? '', /^Bearer ey/, 'the dev token is pre-filled as the Authorization header');
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'graphiql.png') });
    assert.deepEqual(pageErrors, []);
  });
});

describe('GraphiQL in production', () => {
  it('is off: a browser GET of /graphql gets no page and GraphiQL assets are not served', async () => {
    const dir = await tempDir();
    // Production needs a real issuer's keys; none is fetched unless a token is presented.
    const config = loadConfig({ NODE_ENV: 'production', GRAFT_JWT_ISSUER: 'https://idp.example', GRAFT_JWKS_URL: 'http://127.0.0.1:9/jwks' }, { port: 0, dataDir: dir.path, logLevel: 'silent' });
    const server = await startGraftServer({ config });
    try {
      const html = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
      assert.doesNotMatch(html.headers.get('content-type') ?? '', /text\/html/);
      assert.doesNotMatch(await html.text(), /GraphiQL/);
      assert.equal((await fetch(`${server.url}/graphiql/assets/graphiql.js`)).status, 404);
    } finally {
      await server.close();
      await dir.remove();
    }
  });
});
