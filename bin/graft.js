#!/usr/bin/env node
// The `graft` command. It runs Graft compiled to JavaScript (dist/, `npm run build`, which
// `npm install` runs too): no TypeScript loader at start. dist/ carries the fingerprint of
// the sources it was built from; when they changed since (or dist/ is missing), it is
// rebuilt first and a line on stderr says so: a stale build never runs silently.
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unsupportedNodeMessage } from './node-support.js';

// Before any dependency loads: on an unsupported Node one line and exit 2, not a stack trace.
const unsupported = unsupportedNodeMessage(process.version);
if (unsupported) {
  process.stderr.write(`${unsupported}\n`);
  process.exit(2);
}

// Node 22.1+ keeps V8's compiled code on disk: later starts skip most of the compiling, a
// good part of start-up. The variable passes it on to the processes graft starts (the
// examples, the workers). Node 20 has no such cache and ignores both.
if (typeof module.enableCompileCache === 'function') {
  process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), 'node-compile-cache');
  module.enableCompileCache(process.env.NODE_COMPILE_CACHE);
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
