// Edge policy (DESIGN.md, "Flow of one request"): authorization directives read once per
// supergraph and evaluated once per operation, before planning.
export { extractAuthorizationMetadata, type AuthorizationMetadata, type Requirement } from './metadata.js';
export {
  OperationAuthorizer,
  deniedErrors,
  forbiddenError,
  insertDeniedNulls,
  type AuthorizationMode,
  type AuthorizationOutcome,
  type DeniedSelection,
  type PolicyFunction,
} from './authorize.js';
export { authorizationUsageOf, type SubgraphAuthorizationUsage } from './subgraph-usage.js';
export {
  prepareEdgeGuard,
  principalOf,
  type EdgeFacts,
  type EdgeGuard,
  type EdgeGuardOptions,
  type GuardDecision,
  type OperationCheck,
  type OperationCheckFactory,
} from './edge.js';
export { costCheck, type CostCheckOptions } from './cost-check.js';
