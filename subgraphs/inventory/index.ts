// The inventory example extension: its Federation SDL (./inventory.graphql) and resolvers.
import { readFileSync } from 'node:fs';
import { defineExtension } from '../sdk/index.js';
import { resolvers } from './resolvers.js';

/** Port server.ts listens on when PORT is not set (matches graft.json's subgraph.url). */
export const DEFAULT_PORT = 4103;

export const typeDefs = readFileSync(new URL('./inventory.graphql', import.meta.url), 'utf8');

export const extension = defineExtension({ name: 'inventory', typeDefs, resolvers });
