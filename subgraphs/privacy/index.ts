// The privacy example extension: the resolver directives @mask and @formatDate (declared
// in graft.json, code in ./directives, run by the gateway in its sandbox) and the subgraph
// that composes them into the graph (./privacy.graphql) with a privacy notice.
import { readFileSync } from 'node:fs';
import { defineExtension } from '../sdk/index.js';
import { resolvers } from './resolvers.js';

/** Port server.ts listens on when PORT is not set (matches graft.json's subgraph.url). */
export const DEFAULT_PORT = 4104;

export const typeDefs = readFileSync(new URL('./privacy.graphql', import.meta.url), 'utf8');

export const extension = defineExtension({ name: 'privacy', typeDefs, resolvers });

export { PRIVACY_NOTICE, type PrivacyNoticeRecord } from './resolvers.js';
