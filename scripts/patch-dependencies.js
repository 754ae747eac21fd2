// Runs at install (package.json "postinstall", also under `npm ci`): patches the
// dependencies that do not load on every Node line Graft supports. Idempotent; a patch
// whose target no longer looks as expected fails the install with a message saying what
// to check, so an upgrade of the patched package is never silently half-patched.
//
// graphql-shield 7.6.5 (its last release, 2022-11) imports `isUndefined` from 'util',
// which Node 23 removed: its ESM build then fails to link ("does not provide an export
// named 'isUndefined'") and its CJS build throws when a chain/race rule runs. The patch
// replaces that one function with its definition (`value === undefined`).
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Each patch: a package at an exact version, and literal text replacements in its files. */
export const DEPENDENCY_PATCHES = [
  {
    package: 'graphql-shield',
    version: '7.6.5',
    files: {
      'esm/rules.js': [["import { isUndefined } from 'util';", 'const isUndefined = (value) => value === undefined; // patched by Graft: util.isUndefined left Node 23']],
      'cjs/rules.js': [['const util_1 = require("util");', 'const util_1 = { isUndefined: (value) => value === undefined }; // patched by Graft: util.isUndefined left Node 23']],
    },
  },
];

/**
 * Applies the patches under `root` (the project folder). Returns one line per file
 * patched or already patched; throws with a clear message when a target is unexpected.
 */
export function patchDependencies(root) {
  const report = [];
  for (const patch of DEPENDENCY_PATCHES) {
    const folder = join(root, 'node_modules', patch.package);
    const manifestFile = join(folder, 'package.json');
    if (!existsSync(manifestFile)) throw new Error(`${patch.package} is not installed under ${root}/node_modules: run npm install.`);
    const { version } = JSON.parse(readFileSync(manifestFile, 'utf8'));
    if (version !== patch.version) {
      throw new Error(
        `${patch.package} is ${version}, the patch in scripts/patch-dependencies.js is for ${patch.version}: check whether ${version} still needs it, then update or remove the patch.`,
      );
    }
    for (const [file, replacements] of Object.entries(patch.files)) {
      const path = join(folder, file);
      let text = readFileSync(path, 'utf8');
      let changed = false;
      for (const [from, to] of replacements) {
        if (text.includes(to)) continue;
        if (!text.includes(from)) throw new Error(`${patch.package}/${file} does not contain the text the patch replaces (${JSON.stringify(from)}): update scripts/patch-dependencies.js.`);
        text = text.replace(from, to);
        changed = true;
      }
      if (changed) writeFileSync(path, text);
      report.push(`${patch.package}@${version} ${file}: ${changed ? 'patched' : 'already patched'}`);
    }
  }
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    for (const line of patchDependencies(fileURLToPath(new URL('..', import.meta.url)))) console.log(`graft postinstall: ${line}`);
  } catch (error) {
    console.error(`graft postinstall: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
