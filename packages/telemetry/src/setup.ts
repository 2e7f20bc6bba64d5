import type { IncomingMessage, ServerResponse } from "node:http";
import { context, metrics, propagation, trace, type Meter, type Tracer } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type MetricReader } from "@opentelemetry/sdk-metrics";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import { readTelemetrySettings, type SamplerSetting, type TelemetrySettings } from "./settings.js";

export interface TelemetryOptions {
  /** `tributary-gateway`, `tributary-aggregator`…; OTEL_SERVICE_NAME overrides it. */
  serviceName: string;
  serviceVersion: string;
  /** Resource attributes every signal carries, e.g. `{ "tributary.region": "us" }`. */
  attributes?: Record<string, string>;
  /** The process environment (OTEL_* variables), passed in by the app. */
  env: Readonly<Record<string, string | undefined>>;
  /** Extra span processors (tests: an InMemorySpanExporter); they turn tracing on without an endpoint. */
  spanProcessors?: SpanProcessor[];
  /** Told about unusable OTEL_* values. */
  warn?: (message: string) => void;
}

export interface Telemetry {
  readonly settings: TelemetrySettings;
  /** True when spans are recorded (an OTLP endpoint or a test processor): callers skip span work otherwise. */
  readonly tracing: boolean;
  readonly tracer: Tracer;
  readonly meter: Meter;
  /** Answers a Prometheus scrape (text exposition format) on the app's own HTTP server. */
  handleMetricsRequest(request: IncomingMessage, response: ServerResponse): void;
  /** Exports what is buffered (spans, a last metrics push). */
  forceFlush(): Promise<void>;
  /** Flushes, stops the exporters and unregisters the global providers. */
  shutdown(): Promise<void>;
}

function samplerOf(setting: SamplerSetting): Sampler {
  switch (setting.kind) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(setting.ratio);
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(setting.ratio) });
  }
}

/**
 * Sets up traces and metrics for one process and registers them as the global providers, so
 * instrumented code anywhere uses `@opentelemetry/api` alone.
 *
 * - Metrics are always collected and served in the Prometheus format by the app's own HTTP server
 *   (`handleMetricsRequest`, mounted at /metrics); with an OTLP endpoint they are also pushed.
 * - Traces are recorded only where they go somewhere (an OTLP endpoint, or a test's processor):
 *   without one no tracer provider is registered and every span call is the API's no-op.
 *
 * The SDK is assembled from its parts rather than through `@opentelemetry/sdk-node`, whose defaults
 * export to localhost:4318 when no endpoint is set and which reads process.env itself: here "no
 * endpoint" means "export nothing", and the settings come from one typed reader.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const warn = options.warn ?? (() => undefined);
  const settings = readTelemetrySettings(options.env, warn);
  const resource = resourceFromAttributes({
    ...options.attributes,
    ...settings.resourceAttributes,
    [ATTR_SERVICE_NAME]: settings.serviceName ?? options.serviceName,
    [ATTR_SERVICE_VERSION]: options.serviceVersion,
  });

  // Prometheus pulls through the app's server: the exporter's own HTTP server is never started.
  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const readers: MetricReader[] = [prometheus];
  if (settings.metricsEndpoint) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({
          url: settings.metricsEndpoint,
          headers: settings.headers,
          timeoutMillis: settings.timeoutMs,
        }),
        exportIntervalMillis: settings.metricExportIntervalMs,
        exportTimeoutMillis: Math.min(settings.timeoutMs, settings.metricExportIntervalMs),
      }),
    );
  }
  const meterProvider = new MeterProvider({ resource, readers });
  metrics.setGlobalMeterProvider(meterProvider);

  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (settings.tracesEndpoint) {
    processors.push(
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({
          url: settings.tracesEndpoint,
          headers: settings.headers,
          timeoutMillis: settings.timeoutMs,
        }),
        // Several spans per event at thousands of events a second: the default queue (2,048) would
        // drop spans under load; a bigger one costs memory only while the collector is slow.
        maxQueueSize: 32_768,
        maxExportBatchSize: 2_048,
        scheduledDelayMillis: 1_000,
      }),
    );
  }
  const tracing = !settings.disabled && processors.length > 0;
  let tracerProvider: TracerProvider | undefined;
  if (tracing) {
    tracerProvider = new TracerProvider({
      resource,
      sampler: samplerOf(settings.sampler),
      spanLimits: { linkCountLimit: settings.linkCountLimit },
      spanProcessors: processors,
    });
    trace.setGlobalTracerProvider(tracerProvider);
    // The active context follows async calls (the request's span → the publish span it starts).
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  }

  const name = options.serviceName;
  return {
    settings,
    tracing,
    // The provider's own tracer: a global registration can lose to one made earlier (a test runner's).
    tracer: tracerProvider?.getTracer(name, options.serviceVersion) ?? trace.getTracer(name, options.serviceVersion),
    meter: meterProvider.getMeter(name, options.serviceVersion),
    handleMetricsRequest: (request, response) => prometheus.getMetricsRequestHandler(request, response),
    async forceFlush() {
      await Promise.all([meterProvider.forceFlush(), tracerProvider?.forceFlush()]);
    },
    async shutdown() {
      await Promise.allSettled([meterProvider.shutdown(), tracerProvider?.shutdown()]);
      metrics.disable();
      if (tracing) {
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
}
