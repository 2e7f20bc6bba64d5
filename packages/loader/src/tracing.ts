import { SpanKind, SpanStatusCode, trace, TraceFlags, type Link, type Span, type Tracer } from "@opentelemetry/api";
import { MESSAGING_ATTRS, traceContextOfMessage } from "@tributary/telemetry";
import { eventKeyOf } from "@tributary/streams";
import type { StreamMessage } from "./rows.js";

/** What a span needs to know of a stream message (a JsMsg fits). */
type TracedMessage = StreamMessage;

/**
 * The spans of one batch: a consumer span per event, child of the producer span whose
 * `traceparent` the message carries (so each event's trace runs on from the gateway), and one load
 * span for the warehouse insert, linked to every event it loads — links, not one giant parent,
 * because a batch belongs to thousands of traces.
 */
export class BatchTrace<M extends TracedMessage> {
  readonly #tracer: Tracer;
  readonly #spans = new Map<M, Span>();
  #load: Span | undefined;

  constructor(tracer: Tracer, msgs: readonly M[], opts: { stream: string; consumer: string }) {
    this.#tracer = tracer;
    for (const msg of msgs) {
      const parent = traceContextOfMessage(msg.headers);
      const span = tracer.startSpan(
        `process ${opts.stream}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            [MESSAGING_ATTRS.system]: "nats",
            [MESSAGING_ATTRS.operationType]: "process",
            [MESSAGING_ATTRS.operationName]: "process",
            [MESSAGING_ATTRS.destinationName]: msg.subject,
            [MESSAGING_ATTRS.consumerGroup]: opts.consumer,
            [MESSAGING_ATTRS.messageId]: eventKeyOf(msg.headers) ?? "",
            [MESSAGING_ATTRS.bodySize]: msg.data.length,
            "tributary.stream.seq": msg.seq,
          },
        },
        parent,
      );
      this.#spans.set(msg, span);
    }
  }

  /** Starts the load span, linked to the consumer span of each event it inserts (sampled ones only). */
  startLoad(msgs: readonly M[], warehouse: string): void {
    const links: Link[] = [];
    for (const msg of msgs) {
      const sc = this.#spans.get(msg)?.spanContext();
      if (sc && trace.isSpanContextValid(sc) && (sc.traceFlags & TraceFlags.SAMPLED) !== 0) links.push({ context: sc });
    }
    this.#load = this.#tracer.startSpan("INSERT events", {
      kind: SpanKind.CLIENT,
      links,
      attributes: {
        [MESSAGING_ATTRS.dbSystem]: warehouse,
        [MESSAGING_ATTRS.dbOperation]: "INSERT",
        [MESSAGING_ATTRS.dbCollection]: "events",
        [MESSAGING_ATTRS.dbBatchSize]: msgs.length,
      },
    });
  }

  endLoad(result: { inserted: number; duplicates: number } | { error: unknown }): void {
    const span = this.#load;
    if (!span) return;
    if ("error" in result) {
      span.recordException(result.error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (result.error as Error)?.message });
    } else {
      span.setAttribute("tributary.rows.inserted", result.inserted);
      span.setAttribute("tributary.rows.duplicates", result.duplicates);
    }
    span.end();
  }

  /** Ends an event's consumer span with what became of it. */
  end(msg: M, outcome: "loaded" | "duplicate" | "poison" | "redelivered", reason?: string): void {
    const span = this.#spans.get(msg);
    if (!span) return;
    span.setAttribute("tributary.outcome", outcome);
    if (outcome === "poison" || outcome === "redelivered")
      span.setStatus({ code: SpanStatusCode.ERROR, ...(reason ? { message: reason } : {}) });
    span.end();
    this.#spans.delete(msg);
  }

  /** Ends what is still open (e.g. after an unexpected error). */
  endAll(outcome: "loaded" | "redelivered"): void {
    for (const msg of [...this.#spans.keys()]) this.end(msg, outcome);
  }
}
