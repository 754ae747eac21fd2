// `npm run build`: compiles Graft to dist/ with tsc (tsconfig.build.json), copies beside the
// compiled code every non-TypeScript file it reads (the catalog page, the scaffold
// templates, the examples' SDL, manifests and directive modules, schema/: so every
// `new URL('./x', import.meta.url)` resolves in dist/ as in the sources), then stamps
// dist/ with the fingerprint of the sources it was built from.
//
// bin/graft.js runs dist/ and compares that stamp with the sources' fingerprint first: a
// missing or stale dist/ is rebuilt (one line says so), never run silently. The
// fingerprint is a hash of the sources' contents, not their dates: a checkout, a
// `git stash` or a copy changes dates without changing what was built.
//
// Plain JavaScript with only node: imports (bin/graft.js loads it before any dependency).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folders compiled (their .ts files) and copied (everything else) into dist/. */
const SOURCE_DIRS = ['gateway', 'subgraphs', 'schema'];
/** What else decides the output. */
const BUILD_INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.js'];
export const DIST_DIR = 'dist';
const STAMP_FILE = 'build-stamp.json';

/** Source files under SOURCE_DIRS (relative, sorted); tests are neither compiled nor copied. */
function listSources(root) {
  const files = [];
  const walk = (relativeDir) => {
    for (const entry of readdirSync(join(root, relativeDir), { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const path = `${relativeDir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && !entry.name.endsWith('.test.ts')) files.push(path);
    }
  };
  for (const dir of SOURCE_DIRS) walk(dir);
  return files.sort();
}

/** The hash of every source file's path and contents and of the build's own inputs. */
export function sourceFingerprint(root) {
  const hash = createHash('sha256');
  for (const file of [...listSources(root), ...BUILD_INPUTS]) {
    hash.update(file).update('\0').update(readFileSync(join(root, file))).update('\0');
  }
  return hash.digest('hex');
}

/** 'fresh', 'missing' or 'stale': whether dist/ was built from the sources as they are. */
export function distState(root) {
  const stampPath = join(root, DIST_DIR, STAMP_FILE);
  if (!existsSync(stampPath)) return 'missing';
  try {
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8'));
    return stamp.fingerprint === sourceFingerprint(root) ? 'fresh' : 'stale';
  } catch {
    return 'stale';
  }
}

class TypeScriptMissing extends Error {}

/**
 * Builds dist/ from scratch in a temporary folder and swaps it in at the end: a process
 * starting meanwhile never sees half a build, and two builds at once do not mix files.
 * Throws with what to do when TypeScript is not installed or the code does not compile.
 */
export function buildDist(root) {
  let tsc;
  try {
    tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    throw new TypeScriptMissing('TypeScript is not installed (a devDependency): run npm install without --omit=dev, then npm run build (or ship a built dist/).');
  }
  const fingerprint = sourceFingerprint(root);
  const staging = join(root, `${DIST_DIR}.building-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  try {
    const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', staging], { cwd: root, encoding: 'utf8' });
    if (compiled.status !== 0) throw new Error(`tsc failed to compile Graft:\n${compiled.stdout}${compiled.stderr}`);
    for (const file of listSources(root)) {
      if (file.endsWith('.ts')) continue;
      mkdirSync(dirname(join(staging, file)), { recursive: true });
      cpSync(join(root, file), join(staging, file));
    }
    writeFileSync(join(staging, STAMP_FILE), `${JSON.stringify({ fingerprint, builtAt: new Date().toISOString(), node: process.version }, null, 2)}\n`);
    rmSync(join(root, DIST_DIR), { recursive: true, force: true });
    renameSync(staging, join(root, DIST_DIR));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const ifStale = process.argv.includes('--if-stale');
  if (ifStale && distState(root) === 'fresh') process.exit(0);
  const started = Date.now();
  try {
    buildDist(root);
  } catch (error) {
    // At install without devDependencies (npm ci --omit=dev) there is no compiler: the
    // install goes on, and bin/graft.js says what to do if dist/ is then missing or stale.
    if (process.argv.includes('--after-install') && error instanceof TypeScriptMissing) {
      console.warn(`graft postinstall: dist/ not built: ${error.message}`);
      process.exit(0);
    }
    console.error(`graft build: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  console.log(`graft build: compiled to ${DIST_DIR}/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
