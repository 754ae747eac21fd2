// Observability of the gateway (issue 7): OpenTelemetry traces, Prometheus metrics at
// /metrics, one structured log line per /graphql request, and the per-extension stats
// window behind GET /admin/stats. The README's "Operating Graft" section documents names
// and labels.
export {
  ANONYMOUS_OPERATION,
  ATTR_EXTENSION,
  GatewayTelemetry,
  RequestTelemetry,
  type ResolvedOperation,
  SPAN_OPERATION,
  SPAN_POLICY,
  SPAN_RESULT_STEP,
  UNKNOWN_OPERATION,
  type GatewayTelemetryOptions,
  type TelemetryContext,
} from './gateway-telemetry.js';
export { BREAKER_VALUES, GraftMetrics, type MetricsSources, type RequestOutcome } from './metrics.js';
export { BoundedLabel, ERROR_CODE, OPERATION_NAME, OTHER, type BoundedLabelOptions } from './labels.js';
export { ExtensionStatsWindow, type ExtensionStatsWindowOptions, type ExtensionWindowStats, type StatsSnapshot } from './stats-window.js';
export {
  TRACER_NAME,
  graftTracer,
  startTracing,
  startTracingFrom,
  type StartTracingOptions,
  type TracingHandle,
  type TracingSettings,
} from './tracing.js';
export { REDACTED, REDACT_PATHS, createGraftLogger } from './logger.js';
