// The Node lines Graft runs on: graphql-shield loads on Node >= 23 (patched at install by
// scripts/patch-dependencies.js), and an unsupported Node gets one line and exit 2 from
// bin/graft.js before any dependency loads.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import semver from 'semver';
import { REPO_ROOT } from '../helpers/index.js';

function runNode(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A preload that makes the process report another Node version, as an old Node would. */
function pretendNode(version: string): string[] {
  const source = `Object.defineProperty(process, 'version', { value: ${JSON.stringify(version)} });`;
  return ['--import', `data:text/javascript,${encodeURIComponent(source)}`];
}

describe('graphql-shield on every supported Node line', () => {
  test("graphql-shield's ESM entry loads in a fresh process on this Node", async () => {
    const script = `const shield = await import('graphql-shield'); if (typeof shield.shield !== 'function' || typeof shield.chain !== 'function') process.exit(3); console.log('loaded on', process.version);`;
    const result = await runNode(['--input-type=module', '-e', script]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^loaded on v\d+/);
  });

  test('the installed graphql-shield no longer imports util.isUndefined (removed in Node 23), in its ESM and CJS builds', async () => {
    const esm = await readFile(join(REPO_ROOT, 'node_modules', 'graphql-shield', 'esm', 'rules.js'), 'utf8');
    const cjs = await readFile(join(REPO_ROOT, 'node_modules', 'graphql-shield', 'cjs', 'rules.js'), 'utf8');
    assert.doesNotMatch(esm, /import\s*\{[^}]*isUndefined[^}]*\}\s*from\s*'util'/);
    assert.doesNotMatch(cjs, /require\("util"\)/);
  });

  test('the patch runs at install: package.json postinstall runs scripts/patch-dependencies.js, which is idempotent', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.match(pkg.scripts['postinstall'] ?? '', /scripts\/patch-dependencies\.js/);
    const again = await runNode([join(REPO_ROOT, 'scripts', 'patch-dependencies.js')]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /graphql-shield@7\.6\.5 esm\/rules\.js: already patched/);
  });
});

describe('bin/graft.js on an unsupported Node', () => {
  for (const version of ['v18.20.4', 'v20.17.0', 'v21.7.3', 'v23.11.0']) {
    test(`Node ${version}: one line naming the supported versions, exit code 2, no stack trace`, async () => {
      const result = await runNode([...pretendNode(version), join(REPO_ROOT, 'bin', 'graft.js'), 'token', '--sub', 'me']);
      assert.equal(result.code, 2);
      assert.equal(result.stdout, '');
      const lines = result.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, new RegExp(`Node ${version.replace(/\./g, '\\.')} is not supported; use Node 20\\.18 or newer 20\\.x, 22\\.x, or 24 and newer`));
    });
  }

  test('the version check and package.json engines accept the same versions', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    const support = (await import(pathToFileURL(join(REPO_ROOT, 'bin', 'node-support.js')).href)) as {
      unsupportedNodeMessage(version: string): string | undefined;
      NODE_ENGINES_RANGE: string;
    };
    assert.equal(pkg.engines.node, support.NODE_ENGINES_RANGE);
    for (const version of ['18.20.4', '20.0.0', '20.17.9', '20.18.0', '20.20.2', '21.7.3', '22.0.0', '22.11.0', '23.11.0', '24.0.0', '24.11.1', '25.2.0']) {
      assert.equal(support.unsupportedNodeMessage(`v${version}`) === undefined, semver.satisfies(version, pkg.engines.node), version);
    }
  });
});
