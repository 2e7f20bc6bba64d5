import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link } from "@opentelemetry/api";
import type { AttemptStartHook, DelivererOptions } from "@tributary/delivery";
import {
  createDeliveryMetrics,
  spanContextOf,
  traceContextOfMessage,
  traceHeadersOf,
  type DeliveryMetrics,
  type DestinationCounts,
  type Telemetry,
} from "@tributary/telemetry";
import type { DeliveryService } from "./service.js";

/** How often each destination's consumer position is read for the lag metrics. */
const LAG_READ_INTERVAL_MS = 5_000;

/**
 * The delivery metrics over the running deliverers (none while the service waits for its
 * streams), with each destination's backlog in the hub stream read in the background once
 * `readLags` is called: a scrape never waits on NATS.
 */
export function deliveryGauges(telemetry: Telemetry, service: () => DeliveryService | undefined) {
  const lags = new Map<string, { pending: number; ackPending: number }>();
  const metrics = createDeliveryMetrics(telemetry.meter, function* (): Iterable<DestinationCounts> {
    for (const [destination, { deliverer }] of service()?.deliverers ?? []) {
      const s = deliverer.snapshot();
      yield {
        destination,
        delivered: s.delivered,
        retried: s.retried,
        dlq: s.dlq,
        filtered: s.filtered,
        attempts: s.attempts,
        breakerOpens: s.breakerOpens,
        breakerState: s.breakerState,
        inFlight: s.inFlight,
        paused: s.paused,
        pauses: s.pauses,
        lag: lags.get(destination),
      };
    }
  });
  let timer: NodeJS.Timeout | undefined;
  return {
    metrics,
    readLags(): void {
      timer = setInterval(() => {
        for (const name of service()?.deliverers.keys() ?? []) {
          void service()
            ?.lag(name)
            .then((lag) => {
              if (lag) lags.set(name, lag);
            });
        }
      }, LAG_READ_INTERVAL_MS);
      timer.unref();
    },
    stop(): void {
      clearInterval(timer);
    },
  };
}

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
