// The extension catalog page in a real browser: headless Debian chromium driven by
// playwright-core, against a real gateway with the three example extensions. It asserts
// what a person sees, and saves a screenshot to test-artifacts/catalog.png.
// CI installs chromium (.ci/run); without /usr/bin/chromium this test fails, it never skips.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { CROSS_EXTENSION_QUERY, REPO_ROOT, exampleUserToken, graphql, http, startGraftWithExamples, tokenFor } from '../helpers/index.js';

// What the page.evaluate callbacks use in the browser (this project's TypeScript has no DOM lib).
declare const sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
declare const window: { scrollTo(x: number, y: number): void };

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const EXAMPLES = ['crm', 'inventory', 'orders'] as const;
const OWNER = 'graft-examples@example.com';

describe('catalog page (/admin/ui) in chromium', () => {
  let graft: Awaited<ReturnType<typeof startGraftWithExamples>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Console errors, uncaught exceptions (a CSP violation is one) and failed requests. */
  const pageErrors: string[] = [];
  /** GET /admin/stats is optional to the page: without it, latency and errors read "no data". */
  let statsAvailable = false;

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `The catalog page test needs Debian's chromium at ${CHROMIUM}, and it is missing. ` +
          'Install it with `apt-get update && apt-get install -y chromium` (.ci/run does this in CI).',
      );
    }
    graft = await startGraftWithExamples();
    // Traffic through all three extensions, for the latency and error columns.
    const query = await graphql(graft.server, CROSS_EXTENSION_QUERY, { token: await exampleUserToken(graft.server) });
    assert.equal(query.body.errors, undefined);
    statsAvailable = (await http(`${graft.server.url}/admin/stats`, { token: graft.admin })).status === 200;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
    page = await context.newPage();
    page.on('console', (message) => {
      // Failed responses are reported below, with their URL.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(`console: ${message.text()}`);
    });
    page.on('response', (response) => {
      // The 401s of the sign-in tests are expected; any other failure is not.
      const missingStats = response.status() === 404 && !statsAvailable && new URL(response.url()).pathname === '/admin/stats';
      if (response.status() >= 400 && response.status() !== 401 && !missingStats) pageErrors.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    });
    page.on('pageerror', (error) => pageErrors.push(`page: ${error.message}`));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await graft?.close();
  });

  const rowOf = (name: string): Locator => page.locator('table.catalog tbody tr', { has: page.getByRole('rowheader', { name: new RegExp(`^${name}\\b`) }) });

  it('serves a static page with a strict Content-Security-Policy, and no data without a token', async () => {
    const raw = await fetch(`${graft.server.url}/admin/ui/`);
    assert.equal(raw.status, 200);
    assert.match(raw.headers.get('content-type') ?? '', /^text\/html/);
    const csp = raw.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/, 'no inline scripts, no eval');
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(raw.headers.get('x-content-type-options'), 'nosniff');
    const html = await raw.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script is a file');

    const redirect = await fetch(`${graft.server.url}/admin/ui`, { redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), 'ui/');

    for (const path of ['app.js', 'sdl.js', 'styles.css', 'vendor/preact.mjs', 'vendor/hooks.mjs', 'vendor/htm.mjs']) {
      const file = await fetch(`${graft.server.url}/admin/ui/${path}`);
      assert.equal(file.status, 200, path);
      const etag = file.headers.get('etag');
      assert.ok(etag, path);
      const again = await fetch(`${graft.server.url}/admin/ui/${path}`, { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304, path);
    }
    const hooks = await (await fetch(`${graft.server.url}/admin/ui/vendor/hooks.mjs`)).text();
    assert.match(hooks, /from"\.\/preact\.mjs"/, 'the vendored hooks import the vendored preact');
    assert.equal((await fetch(`${graft.server.url}/admin/ui/../ui/nope.js`)).status, 404);
    assert.equal((await fetch(`${graft.server.url}/admin/ui/vendor/..%2F..%2Fpackage.json`)).status, 404);

    const data = await http(`${graft.server.url}/admin/extensions`);
    assert.equal(data.status, 401, 'the data behind the page needs a token');
  });

  it('refuses a bad token, then signs in with an admin token', async () => {
    await page.goto(`${graft.server.url}/admin/ui`);
    assert.equal(new URL(page.url()).pathname, '/admin/ui/');
    // htm does not decode HTML entities: the scope must read as written, not as "&lt;name&gt;".
    const signInText = await page.locator('main').innerText();
    assert.match(signInText, /graft:publish:<name> only that one/);
    assert.doesNotMatch(signInText, /&lt;|&gt;/);
    const tokenField = page.getByLabel('Admin token (JWT)');
    await tokenField.fill('not-a-jwt');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'The gateway refused this token' }).waitFor();

    await tokenField.fill(graft.admin);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Extension catalog' }).waitFor();
    await page.getByRole('table', { name: /Extensions in this gateway/ }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('graft.adminToken')), graft.admin, 'kept for this tab only');
    await page.getByText('Signed in as admin').waitFor();
  });

  it('shows a row for each example extension with its owner, version, status, scopes and limits', async () => {
    for (const name of EXAMPLES) {
      const row = rowOf(name);
      await row.waitFor();
      const text = await row.innerText();
      assert.match(text, new RegExp(OWNER.replace(/[.]/g, '\\.')), `${name}: owner`);
      assert.match(text, /1\.0\.0/, `${name}: active version`);
      assert.match(text, /\bactive\b/, `${name}: status`);
      assert.match(text, /all tenants/, `${name}: tenants`);
      assert.match(text, new RegExp(`${name}:read`), `${name}: scopes`);
      assert.match(text, /timeout\s+2000 ms/, `${name}: limits`);
      const [p95, errors] = await row.locator('td.num').allInnerTexts();
      if (statsAvailable) {
        assert.match(p95 ?? '', /^\d+(\.\d+)? m?s$/, `${name}: p95 of the query above`);
        assert.match(errors ?? '', /^0 %/, `${name}: error rate`);
      } else {
        assert.deepEqual([p95, errors], ['no data', 'no data'], `${name}: without GET /admin/stats`);
      }
      await row.getByRole('button', { name: `Pause ${name}` }).waitFor();
    }
    // Health comes from the gateway's active checks (every 30 s): run one now. All three examples answer.
    await graft.server.health.checkNow();
    await rowOf('crm').getByText('healthy', { exact: true }).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('table.catalog tbody tr').count(), EXAMPLES.length);
  });

  it('pauses an extension from the page: its row shows a "paused" badge and the gateway has paused it', async () => {
    const row = rowOf('inventory');
    await row.getByRole('button', { name: 'Pause inventory' }).click();
    await row.locator('.badge', { hasText: /^paused$/ }).waitFor();
    await row.getByRole('button', { name: 'Resume inventory' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'inventory is paused' }).waitFor({ state: 'attached' });
    const stored = await http<{ status: string }>(`${graft.server.url}/admin/extensions/inventory`, { token: graft.admin });
    assert.equal(stored.body.status, 'paused');
    // The other rows are untouched.
    assert.equal(await rowOf('crm').locator('.badge', { hasText: /^paused$/ }).count(), 0);
  });

  it('refreshes itself: a change made elsewhere appears without a reload', async () => {
    const resumed = await http(`${graft.server.url}/admin/extensions/inventory/resume`, { method: 'POST', token: graft.admin });
    assert.equal(resumed.status, 200);
    await rowOf('inventory').getByRole('button', { name: 'Pause inventory' }).waitFor({ timeout: 15_000 });
    await http(`${graft.server.url}/admin/extensions/inventory/pause`, { method: 'POST', token: graft.admin });
    await rowOf('inventory').locator('.badge', { hasText: /^paused$/ }).waitFor({ timeout: 15_000 });
  });

  it('opens the detail view of an extension: the fields it contributes, its versions and its changelog', async () => {
    await rowOf('orders').getByRole('link', { name: 'orders' }).click();
    assert.match(page.url(), /#\/extensions\/orders$/);
    const detail = page.getByRole('region', { name: /^orders/ });
    await detail.getByRole('heading', { name: 'Fields it contributes' }).waitFor();
    const fields = detail.getByRole('region', { name: 'Fields it contributes' });
    for (const coordinate of ['Order.id', 'Order.total', 'Order.items', 'OrderItem.product', 'Customer.orders', 'Query.order']) {
      await fields.getByRole('rowheader', { name: new RegExp(`^${coordinate.replace('.', '\\.')}\\b`) }).waitFor();
    }
    assert.match(await fields.innerText(), /@key\(fields: "id"\)/);
    assert.match(await fields.innerText(), /PENDING/, 'enum values');
    const versions = detail.getByRole('region', { name: 'Version history' });
    await versions.getByRole('rowheader', { name: /1\.0\.0/ }).waitFor();
    assert.match(await versions.innerText(), /admin/, 'published by');
    await detail.getByRole('region', { name: 'Changelog' }).getByText('1.0.0').first().waitFor();
  });

  it('saves a screenshot of the catalog, with no console error or CSP violation', async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await page.getByRole('link', { name: 'Back to all extensions' }).waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, 'catalog.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
  });

  it('renders latency, error rate and breaker state in the shape GET /admin/stats documents', async () => {
    // The documented answer, served to a second tab: this pins the page's side of the contract
    // (the real route, when the gateway has it, is asserted against real traffic above).
    const stats = {
      windowSeconds: 300,
      extensions: [
        { name: 'crm', requests: 1200, errorRate: 0.0025, p95Ms: 41.7, breaker: 'closed' },
        { name: 'inventory', requests: 0, errorRate: 0, p95Ms: null, breaker: 'closed' },
        { name: 'orders', requests: 80, errorRate: 0.25, p95Ms: 1830, breaker: 'open' },
      ],
    };
    const second = await context.newPage();
    try {
      await second.route('**/admin/stats', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(stats) }));
      await second.goto(`${graft.server.url}/admin/ui/`);
      // sessionStorage is per tab: a new tab signs in again.
      await second.getByLabel('Admin token (JWT)').fill(graft.admin);
      await second.getByRole('button', { name: 'Sign in' }).click();
      const row = (name: string) => second.locator('table.catalog tbody tr', { has: second.getByRole('rowheader', { name: new RegExp(`^${name}\\b`) }) });
      await row('crm').waitFor();
      assert.deepEqual(await row('crm').locator('td.num').allInnerTexts(), ['42 ms', '0.3 %\nof 1200 req.']);
      assert.deepEqual(await row('inventory').locator('td.num').allInnerTexts(), ['no requests', 'no requests']);
      assert.deepEqual(await row('orders').locator('td.num').allInnerTexts(), ['1.83 s', '25 %\nof 80 req.']);
      await row('orders').getByText('breaker open').waitFor();
      await second.getByText('over the last 5 min').waitFor();
    } finally {
      await second.close();
    }
  });

  it('signs out when the token is no longer accepted', async () => {
    const expired = await tokenFor(graft.server, 'admin', ['graft:admin']);
    await page.evaluate((token) => sessionStorage.setItem('graft.adminToken', token), `${expired}x`);
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Signed out' }).waitFor({ timeout: 15_000 });
    await page.getByLabel('Admin token (JWT)').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('graft.adminToken')), null);
  });
});
