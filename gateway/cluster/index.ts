// Multi-process mode (GRAFT_WORKERS > 1), the cluster folder's one door: the primary
// (startCluster: prepares the data dir once, forks and supervises the workers) and the
// worker's end (connectToPrimary). The primary serves no request; each worker runs one
// gateway (startGraftServer) on the shared HOST:PORT.
export { startCluster, workerExecArgv, type ClusterOptions, type GraftCluster } from './primary.js';
export { connectToPrimary, type ClusterMember, type LeaderTask, type PrimaryConnection, type WorkerRole } from './worker.js';
export { prepareSharedState, type SharedState } from './prepare.js';
export { DEFAULT_RESTART_POLICY, RestartBudget, type RestartPolicy } from './restart.js';
export { LEADER_ID } from './messages.js';
