import { SpanKind, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { describe, expect, it } from "vitest";
import { BatchTrace } from "../src/tracing.js";

const TRACE_A = "0af7651916cd43dd8448eb211c80319c";
const TRACE_B = "4bf92f3577b34da6a3ce929d0e0e4736";

function message(seq: number, traceparent: string | undefined) {
  const headers = new Map<string, string>([["Nats-Msg-Id", `demo:${seq}`]]);
  if (traceparent) headers.set("traceparent", traceparent);
  return {
    seq,
    subject: "events.us.demo.link.clicked",
    data: new Uint8Array(10),
    headers: { get: (name: string) => headers.get(name) ?? "" },
  };
}

describe("batch tracing", () => {
  it("tracing - a consumer span per event continues its producer's trace; the load span links each one", () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const tracer = provider.getTracer("test");
    const a = message(1, `00-${TRACE_A}-b7ad6b7169203331-01`);
    const b = message(2, `00-${TRACE_B}-00f067aa0ba902b7-01`);
    const untraced = message(3, undefined);
    const spans = new BatchTrace(tracer, [a, b, untraced], { stream: "EVENTS", consumer: "warehouse-loader" });
    spans.startLoad([a, b, untraced], "duckdb");
    spans.endLoad({ inserted: 3, duplicates: 0 });
    spans.endAll("loaded");

    const finished = exporter.getFinishedSpans();
    const consumers = finished.filter((s) => s.kind === SpanKind.CONSUMER);
    expect(consumers).toHaveLength(3);
    const ofA = consumers.find((s) => s.attributes["messaging.message.id"] === "demo:1")!;
    expect(ofA.spanContext().traceId).toBe(TRACE_A);
    expect(ofA.parentSpanContext?.spanId).toBe("b7ad6b7169203331");
    expect(ofA.attributes).toMatchObject({
      "messaging.destination.name": "events.us.demo.link.clicked",
      "messaging.consumer.group.name": "warehouse-loader",
      "tributary.outcome": "loaded",
    });
    const load = finished.find((s) => s.kind === SpanKind.CLIENT)!;
    expect(load.name).toBe("INSERT events");
    expect(load.links.map((l) => l.context.spanId).sort()).toEqual(consumers.map((s) => s.spanContext().spanId).sort());
    expect(load.attributes).toMatchObject({ "db.operation.batch.size": 3, "tributary.rows.inserted": 3 });
    expect(trace.isSpanContextValid(load.spanContext())).toBe(true);
  });

  it("tracing - a poison event's span ends as an error with its reason", () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const msg = message(7, `00-${TRACE_A}-b7ad6b7169203331-01`);
    const spans = new BatchTrace(provider.getTracer("test"), [msg], { stream: "EVENTS", consumer: "warehouse-loader" });
    spans.end(msg, "poison", "invalid_json: Unexpected token");
    const [span] = exporter.getFinishedSpans();
    expect(span!.status).toMatchObject({ code: 2, message: "invalid_json: Unexpected token" });
    expect(span!.attributes["tributary.outcome"]).toBe("poison");
  });
});
