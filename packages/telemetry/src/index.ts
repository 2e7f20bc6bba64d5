export { startTelemetry } from "./setup.js";
export type { Telemetry, TelemetryOptions } from "./setup.js";
export {
  readTelemetrySettings,
  DEFAULT_LINK_COUNT_LIMIT,
  DEFAULT_METRIC_EXPORT_INTERVAL_MS,
  DEFAULT_OTLP_TIMEOUT_MS,
} from "./settings.js";
export type { SamplerSetting, TelemetrySettings } from "./settings.js";
export {
  spanContextOf,
  traceContextOfMessage,
  traceContextOfRequest,
  traceHeadersOf,
  traceLogFields,
} from "./trace-context.js";
export type { HeaderReader } from "./trace-context.js";
export { instrumentFastify, serveMetrics, traceRequests, withContext } from "./fastify.js";
export type { InstrumentFastifyOptions, TraceRequestsOptions } from "./fastify.js";
export { BATCH_SIZE_BUCKETS, LATENCY_BUCKETS_SECONDS, OPERATION_BUCKETS_SECONDS } from "./buckets.js";
export { METRICS, createAggregatorMetrics, createDeliveryMetrics, createGatewayMetrics } from "./metrics.js";
export type {
  AggregatorMetrics,
  AggregatorSnapshot,
  DeliveryMetrics,
  DestinationCounts,
  GatewayEventCount,
  GatewayMetrics,
  GatewayOutcome,
  GatewaySnapshot,
  HubState,
  LoadedRow,
  LoaderCounts,
  RegionStreamState,
} from "./metrics.js";
export { MESSAGING_ATTRS } from "./semconv.js";
