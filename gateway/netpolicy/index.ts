// Subgraph URLs come from extension authors and are untrusted (DESIGN.md, decision 6):
// checkSubgraphUrl refuses them at publish, createGuardedConnect again at connect time
// (DNS rebinding). Loopback, link-local, cloud metadata, private, unspecified, multicast
// and broadcast addresses are refused unless the operator's NetworkPolicy allows them.
export { networkPolicyFromEnv, compileNetworkPolicy, type CompiledNetworkPolicy } from './policy.js';
// Plain settings, owned by the configuration (gateway/config reads them from the environment).
export { devNetworkPolicy, productionNetworkPolicy, NETWORK_POLICY_ENV, type NetworkPolicy } from '../config/index.js';
export { checkSubgraphUrl, systemResolver, type HostResolver } from './check.js';
export { createGuardedConnect, type GuardedConnectOptions } from './connect.js';
