// One gateway worker of `graft start` with GRAFT_WORKERS > 1: the module the primary
// forks (start-cluster.ts). It runs the same gateway as single-process mode, told its role
// (worker 1 leads) and wired to the primary: its registry changes and the leader's health
// statuses go to the other workers, theirs come back here.
import { connectToPrimary } from '../cluster/index.js';
import { loadGraftConfig } from '../config/index.js';
import { startGraftServer } from '../server/index.js';
import { BOOTSTRAP_TASK, bootstrapExamples, examplesToPublish } from './bootstrap.js';
import { GRAPHIQL_START } from './start.js';

// First, so nothing the primary relays while the gateway starts is missed.
const primary = connectToPrimary();
try {
  const config = await loadGraftConfig();
  const server = await startGraftServer({
    config,
    role: primary.role,
    onRegistryChange: () => primary.registryChanged(),
    onHealthRound: (statuses) => primary.shareHealth(statuses),
    graphiql: GRAPHIQL_START,
  });
  primary.ready(server, server.url, {
    [BOOTSTRAP_TASK]: (payload) => bootstrapExamples(server, examplesToPublish(payload)),
  });
} catch (error) {
  // The primary reports it (and stops the other workers) when this happens at start.
  await primary.failed(error);
  process.exit(1);
}
