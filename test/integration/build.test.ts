// Production runs compiled JavaScript: bin/graft.js runs dist/ (npm run build), and a
// missing or stale dist/ is rebuilt with a line that says so, never run silently. Run in a
// copy of the checkout (its node_modules linked), so the real dist/ is never touched.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { REPO_ROOT, tempDir } from '../helpers/index.js';

function run(cwd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

interface BuildModule {
  distState(root: string): 'fresh' | 'missing' | 'stale';
}

describe('bin/graft.js runs dist/', () => {
  test('a missing dist/ is built first, with one line on stderr, and the command then runs compiled; a changed source makes it stale', async () => {
    const copy = await tempDir('graft-build-');
    try {
      for (const entry of ['bin', 'scripts', 'gateway', 'subgraphs', 'schema', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) {
        await cp(join(REPO_ROOT, entry), join(copy.path, entry), { recursive: true, filter: (source) => !source.includes('node_modules') && !source.endsWith('.test.ts') });
      }
      await symlink(join(REPO_ROOT, 'node_modules'), join(copy.path, 'node_modules'));
      const build = (await import(pathToFileURL(join(copy.path, 'scripts', 'build.js')).href)) as BuildModule;
      assert.equal(build.distState(copy.path), 'missing');

      const dataDir = join(copy.path, 'data');
      await mkdir(dataDir);
      const first = await run(copy.path, ['bin/graft.js', 'token', '--sub', 'me'], { GRAFT_DATA_DIR: dataDir });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^ey[\w-]+\.[\w-]+\.[\w-]+\n$/);
      assert.equal(first.stderr, 'graft: dist/ is missing; building it now (npm run build)...\n');
      assert.equal(build.distState(copy.path), 'fresh');
      // The copied assets are beside the compiled code (read through import.meta.url).
      assert.equal(await readFile(join(copy.path, 'dist', 'subgraphs', 'crm', 'crm.graphql'), 'utf8'), await readFile(join(copy.path, 'subgraphs', 'crm', 'crm.graphql'), 'utf8'));
      assert.ok((await readFile(join(copy.path, 'dist', 'gateway', 'cli', 'main.js'), 'utf8')).length > 0);

      const again = await run(copy.path, ['bin/graft.js', 'token', '--sub', 'me'], { GRAFT_DATA_DIR: dataDir });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stderr, '', 'a fresh dist/ runs without a word');

      await appendFile(join(copy.path, 'gateway', 'cli', 'main.ts'), '\n// edited after the build\n');
      assert.equal(build.distState(copy.path), 'stale');
      await writeFile(join(copy.path, 'dist', 'build-stamp.json'), 'not json');
      assert.equal(build.distState(copy.path), 'stale', 'an unreadable stamp counts as stale');
    } finally {
      await copy.remove();
    }
  });
});
