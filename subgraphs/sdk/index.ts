// The extension SDK: everything an extension author imports. Other folders import this
// file only, never the modules beside it.
export {
  defineExtension,
  type Extension,
  type ExtensionDefinition,
  type ListenOptions,
  type RunningExtension,
} from './define.js';
export type { ExtensionResolvers } from './resolvers.js';
export type { ContextFactory, ExtensionContext, ExtensionRequest } from './context.js';
export {
  DEFAULT_GATEWAY_ISSUER,
  GATEWAY_ISSUER_ENV,
  GATEWAY_JWKS_URL_ENV,
  GATEWAY_TOKEN_ALGORITHMS,
  MAX_GATEWAY_TOKEN_LIFETIME_SECONDS,
  gatewayAuthFromEnv,
  type ExtensionAuth,
  type GatewayAuthOptions,
} from './auth.js';
export { UNAUTHORIZED_CODE, type ExtensionPolicies, type ExtensionPolicy } from './authorization.js';
export { COST_BUDGET_HEADER, type ActualCost } from './cost.js';
export { readSdlDirectives, type AppliedDirectives, type SdlDirectives } from './directives.js';
export { signTestToken, testAuth, type TestAuth, type TestTokenInput } from './testing.js';
export { LoaderRegistry, type BatchLoadFunction, type LoaderOptions } from './loaders.js';
export type { ExtensionStats } from './stats.js';
export { MAX_REQUEST_BODY_BYTES } from './errors.js';
export { GRAPHQL_PATH, HEALTH_PATH } from './http.js';
export { runExtensionProcess, runExtensionsProcess, type HostedExtension, type ProcessOptions, type ReadyEvent } from './process.js';
export { DEFAULT_MAX_PAGE_SIZE, takeFirst } from './paging.js';
