#!/usr/bin/env node
// The `graft` command. Graft is written in TypeScript and runs through tsx's
// loader, so there is no build step between editing a file and running it.
import { unsupportedNodeMessage } from './node-support.js';

// Before any dependency loads: on an unsupported Node one line and exit 2, not a stack trace.
const unsupported = unsupportedNodeMessage(process.version);
if (unsupported) {
  process.stderr.write(`${unsupported}\n`);
  process.exit(2);
}
const { register } = await import('tsx/esm/api');
register();
await import('../gateway/cli/main.ts');
