// Runs every *.test.ts file under gateway/, subgraphs/ and test/ with Node's own
// test runner (Node 20's --test does not expand globs, so we list the files here).
// Usage: npm test [-- <substring filter>...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2);

function collect(dir, out) {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (entry.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const files = ['gateway', 'subgraphs', 'test']
  .flatMap((dir) => collect(join(root, dir), []))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

// Many tests run bin/graft.js, which runs dist/: build it once here if the sources changed,
// rather than in each of those processes (checking a fresh build costs a hash of the sources).
const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.js'), '--if-stale'], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

// The time-out is a guard against a hung test file, not a measure: the slowest files (the
// toolkit's, which scaffold, build and run whole extensions) take over a minute on a busy
// 2-core machine, so the guard sits well above that.
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, GRAFT_LOG_LEVEL: process.env.GRAFT_LOG_LEVEL ?? 'silent' } },
);
process.exit(result.status ?? 1);
