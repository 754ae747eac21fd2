// OpenTelemetry in an extension: every GraphQL request runs in a server span that
// continues the gateway's trace (the W3C `traceparent` header the gateway sends on each
// fetch), so resolvers' own spans (trace.getActiveSpan(), any instrumentation) land in the
// same trace as the gateway's. Spans are recorded when the process registered a tracer
// provider: runExtensionProcess does so from the standard OTEL_* variables, as the gateway does.
import type { IncomingHttpHeaders } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export const SDK_TRACER_NAME = 'graft-sdk';
/** The span of one GraphQL request in an extension (attribute `graft.extension`). */
export const SUBGRAPH_REQUEST_SPAN = 'graft.subgraph.request';

// Trace context only (never baggage); used directly, so the trace continues even when the
// process registered no global propagator.
const propagator = new W3CTraceContextPropagator();

/** Runs `handle` inside a server span whose parent is the gateway's fetch span (from `traceparent`). */
export async function withRequestSpan<T>(extension: string, headers: IncomingHttpHeaders, handle: (span: Span) => Promise<T>): Promise<T> {
  const parent = propagator.extract(ROOT_CONTEXT, headers, {
    get: (carrier, key) => carrier[key],
    keys: (carrier) => Object.keys(carrier),
  });
  const span = trace
    .getTracer(SDK_TRACER_NAME)
    .startSpan(SUBGRAPH_REQUEST_SPAN, { kind: SpanKind.SERVER, attributes: { 'graft.extension': extension } }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => handle(span));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Registers a tracer provider when the OTEL_* variables ask for one (OTEL_TRACES_EXPORTER
 * otlp or console, or an OTEL_EXPORTER_OTLP_ENDPOINT; never with OTEL_SDK_DISABLED=true).
 * Returns a function that flushes and stops it, or undefined when tracing stays off.
 */
export function startTracingFromEnv(env: NodeJS.ProcessEnv, serviceName: string): (() => Promise<void>) | undefined {
  if (env['OTEL_SDK_DISABLED'] === 'true') return undefined;
  const named = (env['OTEL_TRACES_EXPORTER'] ?? '').split(/[\s,]+/).filter(Boolean);
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || (env['OTEL_EXPORTER_OTLP_ENDPOINT'] ? `${env['OTEL_EXPORTER_OTLP_ENDPOINT'].replace(/\/+$/, '')}/v1/traces` : undefined);
  const kind = named.includes('otlp') || (named.length === 0 && endpoint) ? 'otlp' : named.includes('console') ? 'console' : undefined;
  if (!kind) return undefined;
  const exporter = kind === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter(endpoint ? { url: endpoint } : {});
  const provider = new NodeTracerProvider({
    // The extension's own name, not OTEL_SERVICE_NAME: extensions spawned by `graft start`
    // inherit the gateway's environment and must not report as the gateway.
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return () => provider.shutdown();
}
