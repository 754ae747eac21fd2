// `graft check` as CI runs it: a child process on a copy of schema/, real files, exit codes
// and the json / markdown / github outputs; and --registry against a small fake admin API.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GRAFT = join(REPO_ROOT, 'bin', 'graft.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function graft(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [GRAFT, 'check', ...args], { cwd, env: { ...process.env, GRAFT_TOKEN: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Replaces `anchor` in `text`, failing loudly if schema/ no longer contains it. */
function edit(text: string, anchor: string | RegExp, replacement: string): string {
  assert.match(text, typeof anchor === 'string' ? new RegExp(anchor.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : anchor, `schema/ changed: update this test's anchor ${anchor}`);
  return text.replace(anchor, replacement);
}

interface JsonReport {
  verdict: string;
  changes: Array<Record<string, unknown>>;
  compositionErrors: Array<{ code: string; message: string; subgraphs: string[]; coordinates: string[] }>;
  affectedOperations: Array<{ name: string; file: string; line: number; errors: string[] }>;
  operationsFailingOnBase: unknown[];
}

describe('graft check on a copy of schema/', () => {
  let dir: string;
  let inventory: string;
  let orders: string;
  let crm: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'graft-check-'));
    await cp(join(REPO_ROOT, 'schema'), join(dir, 'base'), { recursive: true });
    inventory = await readFile(join(dir, 'base', 'subgraphs', 'inventory.graphql'), 'utf8');
    orders = await readFile(join(dir, 'base', 'subgraphs', 'orders.graphql'), 'utf8');
    crm = await readFile(join(dir, 'base', 'subgraphs', 'crm.graphql'), 'utf8');
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function proposal(name: string, sdl: string): Promise<string> {
    const file = join('proposed', `${name}-${Math.random().toString(36).slice(2)}.graphql`);
    await cp(join(dir, 'base', 'subgraphs', `${name}.graphql`), join(dir, file));
    await writeFile(join(dir, file), sdl);
    return file;
  }

  test('a safe change exits 0; --format json prints exactly one JSON object', async () => {
    const file = await proposal('crm', `${crm}\n"A note on a customer."\ntype Note { id: ID! text: String! }\n\nextend type Query { notes: [Note!]! }\n`);
    const run = await graft(['--base', 'base', '--subgraph', `crm=${file}`, '--operations', 'base/operations', '--format', 'json'], dir);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as JsonReport;
    assert.equal(report.verdict, 'safe');
    assert.deepEqual(Object.keys(report).slice(0, 4), ['verdict', 'changes', 'compositionErrors', 'affectedOperations']);
    assert.deepEqual(
      report.changes.map((c) => [c['level'], c['subgraph'], c['type'], c['criticality'], c['path']]),
      [
        ['subgraph', 'crm', 'TYPE_ADDED', 'safe', 'Note'],
        ['subgraph', 'crm', 'FIELD_ADDED', 'safe', 'Query.notes'],
        ['api', undefined, 'TYPE_ADDED', 'safe', 'Note'],
        ['api', undefined, 'FIELD_ADDED', 'safe', 'Query.notes'],
      ],
    );
    for (const change of report.changes) assert.equal(typeof change['message'], 'string');
    assert.deepEqual(report.affectedOperations, []);
  });

  test('a breaking change exits 1 and names the operations it breaks (json)', async () => {
    const file = await proposal('inventory', edit(inventory, /\bstock: Int!/, 'inStock: Int!'));
    const run = await graft(['--base', 'base', '--subgraph', `inventory=${file}`, '--operations', 'base/operations', '--format', 'json'], dir);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /publish would refuse it \(PUBLISH_REJECTED\)/, 'the operations given are judged as registered ones');
    const report = JSON.parse(run.stdout) as JsonReport;
    assert.equal(report.verdict, 'breaking');
    const removed = report.changes.find((c) => c['level'] === 'api' && c['type'] === 'FIELD_REMOVED');
    assert.deepEqual([removed?.['path'], removed?.['criticality']], ['Product.stock', 'breaking']);
    const broken = report.affectedOperations.map((o) => o.name).sort();
    assert.ok(broken.includes('ProductCatalog'), `ProductCatalog selects Product.stock: ${broken.join(', ')}`);
    const catalog = report.affectedOperations.find((o) => o.name === 'ProductCatalog')!;
    assert.equal(catalog.file, join('base', 'operations', 'ProductCatalog.graphql'));
    assert.match(catalog.errors.join(' '), /Cannot query field "stock" on type "Product"/);
  });

  test('a dangerous change exits 0, and 1 with --fail-on dangerous', async () => {
    const file = await proposal('orders', edit(orders, /\bCANCELLED\b/, 'CANCELLED\n  REFUNDED'));
    const lenient = await graft(['--base', 'base', '--subgraph', `orders=${file}`], dir);
    assert.equal(lenient.code, 0, lenient.stderr);
    assert.match(lenient.stdout, /^Schema check: DANGEROUS/);
    const strict = await graft(['--base', 'base', '--subgraph', `orders=${file}`, '--fail-on', 'dangerous'], dir);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /verdict dangerous \(--fail-on dangerous\)/);
  });

  test('a change that does not compose exits 1 with the composition errors (markdown)', async () => {
    // README's example: inventory declares Customer.name as Int while crm has a String.
    const file = await proposal('inventory', `${inventory}\ntype Customer @key(fields: "id") { id: ID! name: Int }\n`);
    const run = await graft(['--base', 'base', '--subgraph', `inventory=${file}`, '--format', 'markdown'], dir);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /^<!-- graft-schema-check -->\n## ❌ Graft schema check: `composition-error`\n\nchanged: inventory · \d+ composition errors · no operations checked\n/);
    assert.match(run.stdout, /### Composition errors\n\n\| Code \| Subgraphs \| Coordinates \| Message \|\n\| --- \| --- \| --- \| --- \|\n\| `FIELD_TYPE_MISMATCH` \| crm, inventory \| `Customer.name` \|/);
    assert.match(run.stdout, /\*\*Subgraph `inventory`\*\*/);
  });

  test('markdown of a breaking change: summary, a table per level, the broken operations', async () => {
    const file = await proposal('inventory', edit(inventory, /\bstock: Int!/, 'inStock: Int!'));
    const run = await graft(['--base', 'base', '--subgraph', `inventory=${file}`, '--operations', 'base/operations', '--format', 'markdown'], dir);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /## ❌ Graft schema check: `breaking`/);
    assert.match(run.stdout, /changed: inventory · API changes: 1 breaking, 0 dangerous, 1 safe · \d+ of \d+ operations broken/);
    assert.match(run.stdout, /\*\*API schema\*\* \(1 breaking, 0 dangerous, 1 safe\)\n\n\| \| Change \| Path \| Message \|\n\| --- \| --- \| --- \| --- \|\n/);
    assert.match(run.stdout, /\| 🔴 breaking \| `FIELD_REMOVED` \| `Product.stock` \|/);
    assert.match(run.stdout, /### Operations broken by this change\n\n\| Operation \| File \| Errors \|/);
    assert.match(run.stdout, /\| `ProductCatalog` \| `base\/operations\/ProductCatalog.graphql:\d+` \| Cannot query field "stock" on type "Product"\./);
  });

  test('github: workflow commands on the subgraph file given on the command line, at the changed line', async () => {
    const sdl = edit(inventory, /\bstock: Int!/, 'inStock: Int!');
    const file = await proposal('inventory', sdl);
    const typeLine = sdl.split('\n').findIndex((l) => /^type Product\b/.test(l)) + 1; // the name's line, not its description's
    const run = await graft(['--base', 'base', '--subgraph', `inventory=${file}`, '--operations', 'base/operations', '--format', 'github'], dir);
    assert.equal(run.code, 1);
    const lines = run.stdout.trim().split('\n');
    assert.ok(lines.every((l) => /^::(error|warning|notice) /.test(l)), run.stdout);
    // The removed field is annotated on its type's line in the proposed file.
    assert.ok(
      lines.some((l) => l.startsWith(`::error file=${file},line=${typeLine},title=breaking change (subgraph inventory)%3A FIELD_REMOVED Product.stock::`)),
      run.stdout,
    );
    assert.ok(lines.some((l) => /^::error file=base\/operations\/ProductCatalog\.graphql,line=\d+,title=Operation ProductCatalog is broken by this schema change::/.test(l)));
    assert.match(lines.at(-1)!, /^::error title=Graft schema check%3A breaking::/);
  });

  test('github: a dangerous change is a ::warning', async () => {
    const file = await proposal('orders', edit(orders, /\bCANCELLED\b/, 'CANCELLED\n  REFUNDED'));
    const run = await graft(['--base', 'base', '--subgraph', `orders=${file}`, '--format', 'github'], dir);
    assert.equal(run.code, 0);
    assert.match(run.stdout, new RegExp(`^::warning file=${file.replace(/\./g, '\\.')},line=\\d+,title=dangerous change \\(subgraph orders\\)%3A ENUM_VALUE_ADDED OrderStatus\\.REFUNDED::`, 'm'));
  });

  test('--delete removes a subgraph: its fields leave the API (breaking)', async () => {
    const run = await graft(['--base', 'base', '--delete', 'inventory', '--format', 'json'], dir);
    // orders references Product by key, so without inventory the graph may not compose at all: either way it fails.
    assert.equal(run.code, 1, run.stderr);
    const report = JSON.parse(run.stdout) as JsonReport;
    assert.ok(['breaking', 'composition-error'].includes(report.verdict));
    assert.ok(report.changes.some((c) => c['type'] === 'SUBGRAPH_REMOVED' && c['subgraph'] === 'inventory'));
  });

  test('bad usage and unreadable input exit 2', async () => {
    const ok = await proposal('crm', crm);
    const cases: Array<[string[], RegExp]> = [
      [['--subgraph', `crm=${ok}`], /exactly one of --base/],
      [['--base', 'base', '--registry', 'http://127.0.0.1:1', '--subgraph', `crm=${ok}`], /exactly one of --base/],
      [['--base', 'base'], /Nothing to check/],
      [['--base', 'base', '--subgraph', 'crm'], /--subgraph takes <name>=<file.graphql>/],
      [['--base', 'base', '--subgraph', 'crm=missing.graphql'], /Cannot read the SDL of subgraph "crm" at missing\.graphql: it does not exist/],
      [['--base', 'nowhere', '--subgraph', `crm=${ok}`], /Cannot read the base schema folder/],
      [['--base', 'base', '--subgraph', `crm=${ok}`, '--format', 'yaml'], /argument 'yaml' is invalid/],
      [['--base', 'base', '--subgraph', `crm=${ok}`, '--fail-on', 'safe'], /argument 'safe' is invalid/],
      [['--base', 'base', '--delete', 'billing'], /Cannot remove subgraph "billing"/],
      [['--base', 'base', '--subgraph', `crm=${ok}`, '--operations', 'nowhere'], /Cannot read the operations folder/],
    ];
    for (const [args, message] of cases) {
      const run = await graft(args, dir);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '', 'nothing on stdout when there is no report');
    }
    const unparsable = await proposal('crm', 'type Query {');
    const run = await graft(['--base', 'base', '--subgraph', `crm=${unparsable}`], dir);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /SDL_INVALID/);
    await writeFile(join(dir, 'broken-op.graphql'), 'query {');
    const badOps = await graft(['--base', 'base', '--subgraph', `crm=${ok}`, '--operations', '.'], dir);
    assert.equal(badOps.code, 2);
    assert.match(badOps.stderr, /broken-op\.graphql:1:8 does not parse/);
    await rm(join(dir, 'broken-op.graphql'));
  });
});

describe('graft check --registry (the base from a running gateway)', () => {
  const TOKEN = 'test-token';
  const CRM = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Customer @key(fields: "id") { id: ID! name: String! email: String }
type Query { customers: [Customer!]! }
`;
  let server: Server;
  let url: string;
  let dir: string;
  let operations: unknown = undefined;
  let apiSdl: string | undefined;
  const seen: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'graft-check-registry-'));
    server = createServer((request, response) => {
      seen.push(`${request.method} ${request.url} ${request.headers.authorization}`);
      const send = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (request.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { code: 'UNAUTHENTICATED', message: 'no' });
      if (request.url === '/admin/supergraph') return send(200, { id: 1, members: [{ extension: 'crm', version: '1.2.0' }], ...(apiSdl ? { apiSdl } : {}) });
      if (request.url === '/admin/extensions/crm/versions/1.2.0') return send(200, { extension: 'crm', version: '1.2.0', sdl: CRM });
      if (request.url === '/admin/operations' && operations !== undefined) return send(200, operations);
      return send(404, { code: 'NOT_FOUND', message: `Route GET:${request.url} not found` });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('reads the members and their SDLs with the token; GET /admin/operations answering 404 means no operations', async () => {
    await writeFile(join(dir, 'crm.graphql'), CRM.replace(' email: String', ''));
    const run = await graft(['--registry', url, '--subgraph', 'crm=crm.graphql', '--format', 'json'], dir, { GRAFT_TOKEN: TOKEN });
    assert.equal(run.code, 1, run.stderr);
    const report = JSON.parse(run.stdout) as JsonReport & { operationsChecked: number };
    assert.equal(report.verdict, 'breaking');
    assert.equal(report.operationsChecked, 0);
    assert.deepEqual(seen.map((s) => s.split(' ').slice(0, 2).join(' ')), [
      'GET /admin/supergraph',
      'GET /admin/extensions/crm/versions/1.2.0',
      'GET /admin/operations',
      'GET /admin/extensions/crm/versions', // its history, for the versioning rules (404 here: not checked)
    ]);
    assert.ok(seen.every((s) => s.endsWith(`Bearer ${TOKEN}`)));
  });

  test('the API schema the gateway serves is the base API (the base is not composed again)', async () => {
    // A served API with a field the member SDLs lack: only a diff against the served API sees it go.
    apiSdl = 'type Customer { id: ID! name: String! email: String }\ntype Query { customers: [Customer!]! legacy: Int }\n';
    try {
      await writeFile(join(dir, 'crm.graphql'), CRM);
      const run = await graft(['--registry', url, '--subgraph', 'crm=crm.graphql', '--format', 'json'], dir, { GRAFT_TOKEN: TOKEN });
      const report = JSON.parse(run.stdout) as JsonReport;
      assert.deepEqual(report.changes.map((c) => [c['level'], c['type'], c['path']]), [['api', 'FIELD_REMOVED', 'Query.legacy']]);
    } finally {
      apiSdl = undefined;
    }
  });

  test('registered operations are checked when the gateway has them', async () => {
    operations = { operations: [{ name: 'Emails', document: 'query Emails { customers { email } }' }, { name: 'Names', document: 'query Names { customers { name } }' }] };
    await writeFile(join(dir, 'crm.graphql'), CRM.replace(' email: String', ''));
    const run = await graft(['--registry', url, '--subgraph', 'crm=crm.graphql', '--format', 'json'], dir, { GRAFT_TOKEN: TOKEN });
    const report = JSON.parse(run.stdout) as JsonReport;
    assert.deepEqual(report.affectedOperations.map((o) => [o.name, o.file]), [['Emails', 'registry:Emails']]);
  });

  test('--registry without a token exits 2; a refused token exits 1', async () => {
    await writeFile(join(dir, 'crm.graphql'), CRM);
    const missing = await graft(['--registry', url, '--subgraph', 'crm=crm.graphql'], dir);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--registry needs --token/);
    const refused = await graft(['--registry', url, '--token', 'wrong', '--subgraph', 'crm=crm.graphql'], dir);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /UNAUTHENTICATED/);
  });
});
