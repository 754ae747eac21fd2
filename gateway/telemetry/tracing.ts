// OpenTelemetry tracing for the gateway process. Off by default; on when the standard
// OTEL_* variables ask for it (see gateway/config: OTEL_TRACES_EXPORTER,
// OTEL_EXPORTER_OTLP_ENDPOINT, ...). Graft registers the global tracer provider once per
// process: @apollo/gateway creates its own spans (gateway.request, gateway.plan,
// gateway.execute, gateway.fetch, ...) through the same global API, so they land in the
// same traces as Graft's (graft.operation, graft.policy, graft.result_step).
import { context, propagation, trace, type ProxyTracerProvider, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export const TRACER_NAME = 'graft';

/** Graft's tracer (a no-op until a tracer provider is registered). */
export function graftTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** The telemetry.traces part of GraftConfig. */
export interface TracingSettings {
  /** none: tracing off (the default). */
  exporter: 'none' | 'otlp' | 'console';
  /** OTLP/HTTP (JSON) traces URL, e.g. http://collector:4318/v1/traces; undefined: the exporter's default. */
  otlpEndpoint: string | undefined;
  serviceName: string;
}

export interface StartTracingOptions {
  /** Where spans go: an exporter (tests: InMemorySpanExporter), or what the settings name. */
  exporter: SpanExporter | 'otlp' | 'console';
  otlpEndpoint?: string | undefined;
  serviceName?: string;
  /** Export each span when it ends (tests) instead of in batches. */
  simple?: boolean;
}

export interface TracingHandle {
  /** Undefined when another tracer provider was already registered in this process (Graft then uses that one). */
  readonly provider: NodeTracerProvider | undefined;
  /** Flushes pending spans. */
  flush(): Promise<void>;
  /** Flushes, and unregisters the provider when the last user of it stopped. */
  stop(): Promise<void>;
}

let shared: { provider: NodeTracerProvider; users: number } | undefined;

function exporterOf(options: StartTracingOptions): SpanExporter {
  if (options.exporter === 'console') return new ConsoleSpanExporter();
  if (options.exporter === 'otlp') return new OTLPTraceExporter(options.otlpEndpoint ? { url: options.otlpEndpoint } : {});
  return options.exporter;
}

/**
 * Registers a tracer provider for this process (W3C trace context propagation, async-hooks
 * context). Several gateways in one process (tests) share the first registration.
 */
export function startTracing(options: StartTracingOptions): TracingHandle {
  if (!shared) {
    const resource = defaultResource()
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName ?? 'graft-gateway' }));
    const exporter = exporterOf(options);
    const provider = new NodeTracerProvider({
      resource,
      spanProcessors: [options.simple ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
    });
    // Trace context only: no baggage, so nothing a client sends travels to extensions.
    provider.register({ propagator: new W3CTraceContextPropagator() });
    if ((trace.getTracerProvider() as ProxyTracerProvider).getDelegate?.() !== provider) {
      // The host process registered its own OpenTelemetry SDK first: Graft's spans go there.
      void provider.shutdown();
      return { provider: undefined, flush: async () => {}, stop: async () => {} };
    }
    shared = { provider, users: 0 };
  }
  const current = shared;
  current.users += 1;
  let stopped = false;
  return {
    provider: current.provider,
    flush: () => current.provider.forceFlush(),
    async stop() {
      if (stopped) return;
      stopped = true;
      current.users -= 1;
      if (current.users > 0) {
        await current.provider.forceFlush();
        return;
      }
      if (shared === current) shared = undefined;
      await current.provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** Starts tracing as the settings say; undefined when they say none. */
export function startTracingFrom(settings: TracingSettings): TracingHandle | undefined {
  if (settings.exporter === 'none') return undefined;
  return startTracing({ exporter: settings.exporter, otlpEndpoint: settings.otlpEndpoint, serviceName: settings.serviceName });
}
