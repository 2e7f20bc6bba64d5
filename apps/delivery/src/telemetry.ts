import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link } from "@opentelemetry/api";
import type { AttemptStartHook, DelivererOptions } from "@tributary/delivery";
import {
  spanContextOf,
  traceContextOfMessage,
  traceHeadersOf,
  type DeliveryMetrics,
  type Telemetry,
} from "@tributary/telemetry";

/**
 * The delivery's hooks for telemetry: a client span per HTTP attempt, **linked** to the event's
 * trace (the event's `traceparent` from the gateway) and passed on to the destination as the
 * request's own `traceparent`, so the destination's work joins the delivery's trace; and the attempt
 * latency histogram for every record.
 */
export function deliveryTelemetryHooks(
  telemetry: Telemetry,
  metrics: DeliveryMetrics,
): { onAttempt: NonNullable<DelivererOptions["onAttempt"]>; onAttemptStart?: AttemptStartHook } {
  const onAttempt: NonNullable<DelivererOptions["onAttempt"]> = (record) =>
    metrics.recordAttempt(record.destination, record.outcome, record.latency_ms / 1000);
  if (!telemetry.tracing) return { onAttempt };
  const tracer = telemetry.tracer;
  const onAttemptStart: AttemptStartHook = ({ destination, event, attempt, headers }) => {
    const eventContext = event.traceparent
      ? traceContextOfMessage({
          get: (name) =>
            name === "traceparent" ? event.traceparent! : name === "tracestate" ? (event.tracestate ?? "") : "",
        })
      : undefined;
    const linked = eventContext ? spanContextOf(eventContext) : undefined;
    const links: Link[] = linked ? [{ context: linked }] : [];
    const span = tracer.startSpan(`POST ${destination}`, {
      kind: SpanKind.CLIENT,
      links,
      attributes: {
        "http.request.method": "POST",
        "tributary.destination": destination,
        "tributary.delivery.attempt": attempt,
        "messaging.message.id": event.key,
        "tributary.source": event.source,
        "tributary.event_type": event.type,
      },
    });
    // The destination sees the delivery's span as its caller.
    const propagated = traceHeadersOf(trace.setSpan(ROOT_CONTEXT, span));
    if (propagated?.traceparent) headers.traceparent = propagated.traceparent;
    return (record) => {
      span.setAttributes({ "http.response.status_code": record.status, "tributary.delivery.outcome": record.outcome });
      if (record.outcome !== "delivered") span.setStatus({ code: SpanStatusCode.ERROR, message: record.error });
      span.end();
    };
  };
  return { onAttempt, onAttemptStart };
}
