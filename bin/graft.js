#!/usr/bin/env node
// The `graft` command. Graft is written in TypeScript and runs through tsx's
// loader, so there is no build step between editing a file and running it.
import { register } from 'tsx/esm/api';

register();
await import('../gateway/cli/main.ts');
