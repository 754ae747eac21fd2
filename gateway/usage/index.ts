// Usage (issue 17): which operations frontends really run, per client, recorded from the
// telemetry's view of every resolved operation and stored in the registry; the publish
// pipeline's usage step reads it back (gateway/publish).
export { operationUsageOf } from './operation.js';
export { UNKNOWN_CLIENT, UsageRecorder, type UsageRecorderOptions } from './recorder.js';
