// One pipeline, two front doors (DESIGN.md, "Direction" 2): every refusal publish makes,
// `graft check --registry` predicts with the same codes and exit code 1, and what check
// accepts, publish accepts. Each case runs through graft check's own work (checkProposal,
// in this process: the command line around it is pinned by check-cli.test.ts) against a
// running gateway over HTTP, then through the admin API's publish.
// The gateway is strict about usage (GRAFT_USAGE_STRICT): a breaking change stays breaking
// without traffic, which the cases below pin (test/integration/usage.test.ts pins the lenient default).
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkProposal } from '../../gateway/cli/index.js';
import { REPO_ROOT, http, startGraftWithExamples, tempDir, tokenFor } from '../helpers/index.js';

interface Case {
  name: string;
  /** The inventory version proposed (the example's is 1.0.0). */
  version: string;
  sdl: (current: string) => string;
  manifest?: (current: Record<string, unknown>) => Record<string, unknown>;
  /** Publish as the extension's owner (graft:publish:inventory) rather than an admin. */
  asOwner?: boolean;
  /** The codes publish refuses with; none: accepted. */
  expected: string[];
}

function replaced(text: string, anchor: string, replacement: string): string {
  assert.ok(text.includes(anchor), `subgraphs/inventory changed: update this test's anchor ${anchor}`);
  return text.replace(anchor, replacement);
}

const STOCK = 'stock: Int! @requiresScopes(scopes: [["inventory:read"]])';
const PRICE = '  "Unit price in the shop\'s currency, with at most 2 decimals."\n  price: Float!\n';

const CASES: Case[] = [
  { name: 'a scope it is not granted', version: '1.1.0', sdl: (s) => replaced(s, STOCK, 'stock: Int! @requiresScopes(scopes: [["inventory:admin"]])'), expected: ['GRANT_NOT_ALLOWED'] },
  { name: 'a grant outside its namespace from its owner', version: '1.0.1', sdl: (s) => s, manifest: (m) => ({ ...m, grants: ['inventory:read', 'crm:read'] }), asOwner: true, expected: ['GRANT_NOT_ALLOWED'] },
  {
    name: 'an unknown @policy',
    version: '1.1.0',
    sdl: (s) => replaced(replaced(s, '"@listSize"]', '"@listSize", "@policy"]'), 'price: Float!', 'price: Float! @policy(policies: [["no-such-policy"]])'),
    expected: ['UNKNOWN_POLICY'],
  },
  { name: 'a type that does not compose', version: '1.1.0', sdl: (s) => `${s}\ntype Customer @key(fields: "id") { id: ID! name: Int }\n`, expected: ['COMPOSITION_FAILED'] },
  { name: 'a breaking change on a minor version', version: '1.1.0', sdl: (s) => replaced(s, PRICE, ''), expected: ['PUBLISH_REJECTED', 'DEPRECATION_REQUIRED'] },
  { name: 'a removal that was never deprecated, on a major', version: '2.0.0', sdl: (s) => replaced(s, PRICE, ''), expected: ['DEPRECATION_REQUIRED'] },
  { name: 'a version already published', version: '1.0.0', sdl: (s) => `${s}\nextend type Query { restocks: Int }\n`, expected: ['VERSION_EXISTS'] },
  { name: 'a version below the latest', version: '0.9.0', sdl: (s) => `${s}\nextend type Query { restocks: Int }\n`, expected: ['VERSION_NOT_GREATER'] },
  { name: 'a dangerous change on a patch version', version: '1.0.1', sdl: (s) => replaced(s, '  name: String!\n  "Unit', '  name: String! @requiresScopes(scopes: [["inventory:read"]])\n  "Unit'), expected: ['PUBLISH_REJECTED'] },
  { name: 'a safe addition on a minor version', version: '1.1.0', sdl: (s) => `${s}\nextend type Query { restocks: Int }\n`, expected: [] },
];

describe('graft check says what publish does', () => {
  let graft: Awaited<ReturnType<typeof startGraftWithExamples>>;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let owner: string;
  let manifest: Record<string, unknown>;
  let sdl: string;

  before(async () => {
    graft = await startGraftWithExamples({ usage: { strict: true } });
    dir = await tempDir();
    owner = await tokenFor(graft.server, 'inventory-ci', ['graft:publish:inventory']);
    manifest = { ...JSON.parse(await readFile(join(REPO_ROOT, 'subgraphs', 'inventory', 'graft.json'), 'utf8')), subgraph: { url: graft.examples.inventory.url, schema: './inventory.graphql' } };
    sdl = await readFile(join(REPO_ROOT, 'subgraphs', 'inventory', 'inventory.graphql'), 'utf8');
  });
  after(async () => {
    await graft?.close();
    await dir?.remove();
  });

  /** The case's graft.json and SDL, as a CI checkout has them. */
  async function write(index: number, c: Case): Promise<{ path: string; body: { manifest: Record<string, unknown>; sdl: string } }> {
    const folder = join(dir.path, `case-${index}`);
    await mkdir(folder, { recursive: true });
    const body = { manifest: { ...(c.manifest ? c.manifest(manifest) : manifest), version: c.version }, sdl: c.sdl(sdl) };
    await writeFile(join(folder, 'graft.json'), JSON.stringify(body.manifest));
    await writeFile(join(folder, 'inventory.graphql'), body.sdl);
    return { path: join(folder, 'graft.json'), body };
  }

  async function check(manifestPath: string, asAdmin: boolean): Promise<{ code: number; codes: string[]; failure: string }> {
    const outcome = await checkProposal({
      registry: graft.server.url,
      token: graft.admin,
      manifest: [manifestPath],
      subgraph: [],
      delete: [],
      format: 'json',
      failOn: 'breaking',
      excludeClient: [],
      ...(asAdmin ? { asAdmin } : {}),
    });
    const codes = [...new Set((outcome.report.publish?.findings ?? []).filter((f) => f.severity === 'error').map((f) => f.code))].sort();
    return { code: outcome.exitCode, codes, failure: outcome.failure ?? '' };
  }

  test('every refusal of publish is predicted by graft check with the same codes and exit 1; what check accepts, publish accepts', async () => {
    const written = await Promise.all(CASES.map((c, i) => write(i, c)));
    // graft check reads and never stores: every case is checked against the same graph first.
    const checked: Array<Awaited<ReturnType<typeof check>>> = [];
    for (const [i, c] of CASES.entries()) checked.push(await check(written[i]!.path, !c.asOwner));
    let accepted = 0;
    for (const [i, c] of CASES.entries()) {
      const published = await http<any>(`${graft.server.url}/admin/extensions/inventory/versions`, { token: c.asOwner ? owner : graft.admin, body: written[i]!.body });
      const publishCodes = published.status === 201 ? [] : [...new Set((published.body.details?.findings ?? [{ code: published.body.code }]).map((f: { code: string }) => f.code))].sort();
      assert.deepEqual(publishCodes, [...c.expected].sort(), `${c.name}: publish answered ${published.status} ${JSON.stringify(published.body).slice(0, 500)}`);
      assert.deepEqual(checked[i]!.codes, publishCodes, `${c.name}: graft check predicts publish's codes`);
      assert.equal(checked[i]!.code, published.status === 201 ? 0 : 1, `${c.name}: exit code ${checked[i]!.code} (${checked[i]!.failure})`);
      if (published.status === 201) accepted += 1;
    }
    assert.equal(accepted, 1, 'the last case, a safe addition, is accepted by both');
  });
});
