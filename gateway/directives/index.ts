// Extension resolver directives (DESIGN.md, decision 6): small, pure value transforms that
// extensions contribute (`@mask`, `@formatDate`, ...), declared in graft.json, applied by
// the gateway to responses, and run in a QuickJS/WebAssembly sandbox. The folder's door.
export { DirectiveRuntime, type DirectiveLogger, type DirectiveRuntimeOptions } from './runtime.js';
export {
  GRAFT_DIRECTIVE_LINK,
  checkDirectivePublish,
  modulesOfVersion,
  parseDirectiveDefinition,
  type DirectiveDeclaration,
  type DirectiveModule,
  type DirectivePublishCheck,
  type DirectivePublishInput,
} from './catalog.js';
export { DEFAULT_SANDBOX_LIMITS, QuickJSSandbox, type BatchOutcome, type FailureKind, type SandboxBatch, type SandboxLimits, type ValueOutcome } from './sandbox.js';
export { DEFAULT_BREAKER_OPTIONS, DirectiveBreaker, type BreakerOptions, type BreakerState } from './breaker.js';
export { applyDirectives, conformsTo, type ApplyDependencies, type DirectiveContext, type DirectiveFailureReason } from './apply.js';
export { prepareDirectives, type PreparedDirectives } from './prepared.js';
export { TYPENAME_ALIAS } from './operation.js';
export { loadDirectiveSources } from './sources.js';
