#!/usr/bin/env node
// The `graft` command. It runs Graft compiled to JavaScript (dist/, `npm run build`, which
// `npm install` runs too): no TypeScript loader at start. dist/ carries the fingerprint of
// the sources it was built from; when they changed since (or dist/ is missing), it is
// rebuilt first and a line on stderr says so: a stale build never runs silently.
import { fileURLToPath } from 'node:url';
import { unsupportedNodeMessage } from './node-support.js';

// Before any dependency loads: on an unsupported Node one line and exit 2, not a stack trace.
const unsupported = unsupportedNodeMessage(process.version);
if (unsupported) {
  process.stderr.write(`${unsupported}\n`);
  process.exit(2);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const { buildDist, distState } = await import('../scripts/build.js');
const state = distState(root);
if (state !== 'fresh') {
  const why = state === 'missing' ? 'dist/ is missing' : 'dist/ is stale (the sources changed since it was built)';
  process.stderr.write(`graft: ${why}; building it now (npm run build)...\n`);
  try {
    buildDist(root);
  } catch (error) {
    process.stderr.write(`graft: the build failed, nothing was run: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
await import('../dist/gateway/cli/main.js');
