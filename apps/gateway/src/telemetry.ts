import { context, SpanKind, SpanStatusCode, trace, type Context } from "@opentelemetry/api";
import type { EventMessage, PublishReceipt } from "@tributary/streams";
import { MESSAGING_ATTRS, traceHeadersOf, type GatewayMetrics, type Telemetry } from "@tributary/telemetry";
import type { GatewayCounters } from "./counters.js";

/**
 * The publish function with telemetry around it: the PubAck latency histogram and the bytes
 * counter always; with tracing on, a producer span per event (child of the request's server span,
 * passed in as `parent`) whose `traceparent` travels in the message headers, so the hub and the
 * aggregator continue the same trace.
 */
export function instrumentPublish(
  publish: (msg: EventMessage) => Promise<PublishReceipt>,
  opts: { telemetry: Telemetry; metrics: GatewayMetrics; counters: GatewayCounters; stream: string },
): (msg: EventMessage, parent?: Context) => Promise<PublishReceipt> {
  const { telemetry, metrics, counters, stream } = opts;
  const record = (msg: EventMessage, startedAt: number, receipt: PublishReceipt) => {
    metrics.recordPublish((performance.now() - startedAt) / 1000);
    if (!receipt.duplicate) counters.publishedBytes += msg.body.length;
    return receipt;
  };
  if (!telemetry.tracing) {
    return (msg) => {
      const startedAt = performance.now();
      return publish(msg).then((receipt) => record(msg, startedAt, receipt));
    };
  }
  const tracer = telemetry.tracer;
  // Per request context: the trace headers of an unsampled request, made once for all its events.
  const unsampledHeaders = new WeakMap<Context, Record<string, string> | undefined>();
  const traced = async (msg: EventMessage, parent: Context): Promise<PublishReceipt> => {
    const span = tracer.startSpan(`send ${stream}`, { kind: SpanKind.PRODUCER }, parent);
    // Attributes only for spans that are kept (most are not, under sampling).
    if (span.isRecording()) {
      span.setAttributes({
        [MESSAGING_ATTRS.system]: "nats",
        [MESSAGING_ATTRS.operationType]: "send",
        [MESSAGING_ATTRS.operationName]: "publish",
        [MESSAGING_ATTRS.destinationName]: msg.subject,
        [MESSAGING_ATTRS.messageId]: msg.eventKey,
        [MESSAGING_ATTRS.bodySize]: msg.body.length,
        "tributary.source": msg.source,
        "tributary.region": msg.region,
        "tributary.event_type": msg.eventType,
      });
    }
    // Unsampled traces propagate too (flag 00), so the aggregator makes the same decision.
    const headers = traceHeadersOf(trace.setSpan(parent, span));
    if (headers !== undefined)
      msg.extraHeaders = msg.extraHeaders === undefined ? headers : { ...msg.extraHeaders, ...headers };
    const startedAt = performance.now();
    try {
      const receipt = record(msg, startedAt, await publish(msg));
      if (span.isRecording())
        span.setAttributes({ "tributary.stream.seq": receipt.seq, "tributary.duplicate": receipt.duplicate });
      return receipt;
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  };
  // Not async: the unsampled path (most events, under sampling) adds no promise of its own.
  return (msg, parent = context.active()) => {
    const parentSpan = trace.getSpan(parent);
    if (parentSpan === undefined || parentSpan.isRecording()) return traced(msg, parent);
    // Not sampled: no publish span (it would not be kept), but the decision travels on in the
    // request's own traceparent (flag 00), so the aggregator and deliveries make the same one.
    let headers = unsampledHeaders.get(parent);
    if (headers === undefined && !unsampledHeaders.has(parent))
      unsampledHeaders.set(parent, (headers = traceHeadersOf(parent)));
    if (headers !== undefined)
      msg.extraHeaders = msg.extraHeaders === undefined ? headers : { ...msg.extraHeaders, ...headers };
    const startedAt = performance.now();
    return publish(msg).then((receipt) => record(msg, startedAt, receipt));
  };
}
