// The extension author's toolkit (issue 7): what `graft init`, `graft dev`,
// `graft simulate` and `graft contract-test` are made of. The CLI wires these to a
// gateway; nothing here imports the server.
export { GRAFT_ROOT, SDK_IMPORT, assertExtensionName, camelCase, pascalCase, scaffoldExtension, type ScaffoldOptions, type ScaffoldResult } from './scaffold.js';
export { CODEGEN_CONFIG_FILE, generateTypes, hasCodegenConfig } from './typegen.js';
export { startExtensionProcess, type ExtensionProcess, type ExtensionProcessOptions } from './process.js';
export { SERVER_ENTRY, exampleDir, resolveExtensionSource, type ExtensionSource } from './source.js';
export { watchTree, type TreeWatcher, type WatchOptions } from './watch.js';
export { DevExtension, devVersion, type DevExtensionOptions, type DevPublish } from './dev-session.js';
export { parseDuration, parseInteger, parseRate } from './options.js';
export { startFaultProxy, type FaultProxy, type FaultProxyOptions, type FaultProxyStats } from './fault-proxy.js';
export { codesOf, percentile, runLoad, summarizeLatency, type LatencySummary, type LoadOptions, type LoadReport } from './load.js';
export { loadQueryFor, representationOf, selectionFor } from './selection.js';
export { readSubgraph, type AccessRequirement, type EntityKey, type SubgraphModel } from './sdl-model.js';
export {
  UNAUTHORIZED_CODE,
  coordinateOf,
  formatContractReport,
  runContractTest,
  type CheckKind,
  type CheckStatus,
  type ContractCheck,
  type ContractReport,
  type ContractTestInput,
  type TokenMinter,
} from './contract.js';
export { simulationVerdict, formatSimulationReport, type SimulationReport, type SimulationVerdict } from './simulate-report.js';
