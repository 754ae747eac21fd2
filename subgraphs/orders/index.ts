// The orders example extension: its Federation SDL (./orders.graphql) and resolvers.
import { readFileSync } from 'node:fs';
import { defineExtension } from '../sdk/index.js';
import { resolvers } from './resolvers.js';

/** Port server.ts listens on when PORT is not set (matches graft.json's subgraph.url). */
export const DEFAULT_PORT = 4102;

export const typeDefs = readFileSync(new URL('./orders.graphql', import.meta.url), 'utf8');

export const extension = defineExtension({ name: 'orders', typeDefs, resolvers });
