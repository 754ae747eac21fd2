// The publish side (DESIGN.md, "Flow of one publish"): the pipeline's steps (pipeline.ts,
// pure: shared with `graft check`), the versioning rules and change reports
// (versioning.ts), and the registry service (service.ts) that owns extension state and
// turns every change of the graph into a release. The folder's door.
export {
  RegistryService,
  SYSTEM_ACTOR,
  type Actor,
  type PublishInput,
  type PublishResult,
  type RegistryServiceOptions,
  type RegistrySyncResult,
  type ReleaseInput,
  type ReleaseMemberInput,
  type ReleaseResult,
  type SupergraphHost,
} from './service.js';
export {
  errorsOf,
  PIPELINE_STEPS,
  refusalOf,
  runPipeline,
  type ActiveMember,
  type DirectiveChecker,
  type ExtensionHistory,
  type Finding,
  type NotChecked,
  type PipelineInput,
  type PipelineResult,
  type ProposedMember,
  type StepName,
  type UsageCheckInput,
} from './pipeline.js';
export {
  bumpOf,
  buildChangelog,
  deprecatedElements,
  requiredBumpOf,
  suggestVersion,
  type BumpLevel,
  type Changelog,
  type ChangelogDeprecation,
  type ChangelogEntry,
  type DeprecatedElement,
  type ForcedOverride,
  type Removal,
  type VersionReport,
} from './versioning.js';
