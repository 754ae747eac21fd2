// The schema lint policy over real HTTP (issue 16, item 3): set in the gateway's config,
// applied by the publish pipeline. An `error` finding refuses with 422 LINT_FAILED listing
// every finding with its path, and nothing is stored; `warn` findings publish with hints;
// an invalid policy stops the start with a ConfigError.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '../../gateway/config/index.js';
import type { GraftServer } from '../../gateway/server/index.js';
import { exampleManifest, http, runGraft, startGateway, startGraftWithExamples, tempDir, type RunningExamples } from '../helpers/index.js';

const LINT = {
  rules: {
    'naming-convention': 'error',
    'require-scopes-on-sensitive-fields': ['error', { patterns: ['email', '*Token'] }],
    'forbidden-names': ['error', { names: ['temp*'] }],
    'require-description': 'warn',
  },
} as const;

describe('schema lint policy', () => {
  let graft: Awaited<ReturnType<typeof startGraftWithExamples>>;
  let server: GraftServer;
  let examples: RunningExamples;
  let admin: string;

  before(async () => {
    graft = await startGraftWithExamples({ lint: LINT as never });
    ({ server, examples, admin } = graft);
  });
  after(async () => {
    await graft?.close();
  });

  const crmWith = async (version: string, fields: string) => {
    const { manifest, sdl } = await exampleManifest('crm', examples.crm.url, { version });
    return { manifest, sdl: sdl.replace('type Customer @key(fields: "id") {', `type Customer @key(fields: "id") {\n${fields}`) };
  };

  test('error findings refuse with 422 LINT_FAILED listing every finding with its path; nothing is stored', async () => {
    const before = await http<{ id: number }>(`${server.url}/admin/supergraph`, { token: admin });
    const body = await crmWith('1.1.0', '  "Reset." resetToken: String\n  "Flag." Temp_flag: Boolean\n');
    const refused = await http<{ code: string; message: string; details: { findings: Array<{ code: string; path: string; step: string }> } }>(
      `${server.url}/admin/extensions/crm/versions`,
      { token: admin, body },
    );
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'LINT_FAILED');
    assert.deepEqual(
      refused.body.details.findings.map((f) => `${f.code} ${f.step} ${f.path}`),
      ['LINT_FAILED lint Customer.resetToken', 'LINT_FAILED lint Customer.Temp_flag', 'LINT_FAILED lint Customer.Temp_flag'],
    );
    assert.match(refused.body.message, /Customer\.resetToken looks sensitive \(matches "\*Token"\) but has no @requiresScopes/);
    assert.match(refused.body.message, /Customer\.Temp_flag is not camelCase/);
    assert.match(refused.body.message, /Customer\.Temp_flag has a forbidden name \(matches "temp\*"\)/);
    const after = await http<{ id: number }>(`${server.url}/admin/supergraph`, { token: admin });
    assert.equal(after.body.id, before.body.id, 'the graph did not change');
    const versions = await http<{ versions: Array<{ version: string }> }>(`${server.url}/admin/extensions/crm/versions`, { token: admin });
    assert.deepEqual(versions.body.versions.map((v) => v.version), ['1.0.0']);
  });

  test('warn findings publish, and come back as hints naming rule and path', async () => {
    const published = await http<{ hints: string[] }>(`${server.url}/admin/extensions/crm/versions`, { token: admin, body: await crmWith('1.1.0', '  nickname: String\n') });
    assert.equal(published.status, 201, JSON.stringify(published.body));
    assert.ok(
      published.body.hints.some((h) => h.includes('[crm] LINT_FAILED at Customer.nickname: Field Customer.nickname has no description') && h.endsWith('[require-description]')),
      published.body.hints.join('\n'),
    );
  });

  test('the admin API hands the policy to graft check --registry, which refuses what publish refuses (LINT_FAILED, exit 1)', async () => {
    const supergraph = await http<{ lint: unknown }>(`${server.url}/admin/supergraph`, { token: admin });
    assert.deepEqual(supergraph.body.lint, LINT);
    const { sdl } = await crmWith('9.0.0', '  "Reset." resetToken: String\n');
    await writeFile(join(graft.dir.path, 'crm.graphql'), sdl);
    const run = await runGraft(['check', '--registry', server.url, '--subgraph', 'crm=crm.graphql', '--version', '9.0.0', '--format', 'json'], {
      cwd: graft.dir.path,
      env: { GRAFT_TOKEN: admin },
    });
    assert.equal(run.code, 1, run.stderr);
    const report = JSON.parse(run.stdout) as { publish?: { outcome: string; findings: Array<{ code: string; severity: string; path?: string; step: string }> } };
    assert.equal(report.publish?.outcome, 'refused');
    const lint = report.publish?.findings.filter((f) => f.step === 'lint') ?? [];
    assert.deepEqual(lint.filter((f) => f.severity === 'error').map((f) => `${f.code} ${f.path}`), ['LINT_FAILED Customer.resetToken']);
    assert.deepEqual(lint.filter((f) => f.severity === 'warning').map((f) => f.path), ['Customer.id', 'Customer.name'], 'warnings are reported too');
  });
});

describe('schema lint policy: an invalid policy stops the start', () => {
  test('as an override: a ConfigError naming the rule, before anything listens', async () => {
    const dir = await tempDir();
    try {
      await assert.rejects(startGateway(dir.path, { lint: { rules: { 'naming-convention': 'strict' } } as never }), (error: unknown) => error instanceof ConfigError && /"naming-convention"\] has severity "strict"/.test(error.message));
    } finally {
      await dir.remove();
    }
  });

  test('in GRAFT_CONFIG: graft start exits 2 and says what is wrong', async () => {
    const dir = await tempDir();
    try {
      const file = join(dir.path, 'graft.config.mjs');
      await writeFile(file, "export default { lint: { rules: { 'require-list-sizes': 'error' } } };\n");
      const run = await runGraft(['start', '--no-examples'], { cwd: dir.path, env: { GRAFT_CONFIG: file, GRAFT_DATA_DIR: dir.path, PORT: '0' } });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /unknown rule "require-list-sizes": the rules are naming-convention/);
    } finally {
      await dir.remove();
    }
  });
});
