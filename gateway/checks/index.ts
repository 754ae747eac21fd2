// Schema checks: the versioning check of a proposed graph change — composition, schema
// diff (subgraph and API level, breaking / dangerous / safe), usage check against client
// operations, verdict. It is the schema-check step of the publish pipeline
// (gateway/publish/pipeline.ts), which `graft check` and publish both run (DESIGN.md,
// "Direction" 2: one pipeline, two front doors).
//
// Everything here is pure except the loaders, which only read files.
export type {
  ChangeLevel,
  NotChecked,
  PipelineFinding,
  PipelineStepName,
  PublishVerdict,
  Criticality,
  OperationDocument,
  OperationFailure,
  SchemaChange,
  SchemaCheckInput,
  SchemaCheckReport,
  UsageReport,
  UsedOperation,
  Verdict,
} from './types.js';
export { applySubgraphChanges, changedSubgraphNames, runSchemaCheck, verdictOf } from './check.js';
export { diffApiSchemas, diffSchemas, diffSubgraph, mostSevere, type ClassifiedChange, type DiffOptions, type SubgraphDiffInput } from './diff.js';
export { classifyDirectiveUsage, type Classification } from './rules.js';
export { checkOperations, parseOperations, type OperationImpact, type ParsedOperation } from './operations.js';
export {
  formatGithub,
  formatJson,
  formatMarkdown,
  formatReport,
  formatText,
  MARKDOWN_MARKER,
  REPORT_FORMATS,
  type ReportFormat,
  type SubgraphSource,
} from './format.js';
export { assertSubgraphName, loadOperationDir, loadSubgraphDir, loadSubgraphFile, PLACEHOLDER_URL } from './loaders.js';
