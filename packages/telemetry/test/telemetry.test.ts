import { SpanKind, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import {
  createAggregatorMetrics,
  instrumentFastify,
  startTelemetry,
  traceContextOfMessage,
  traceHeadersOf,
  withContext,
  type Telemetry,
} from "../src/index.js";

const PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

describe("telemetry", () => {
  let telemetry: Telemetry | undefined;
  afterEach(async () => {
    await telemetry?.shutdown();
    telemetry = undefined;
  });

  it("tracing - off without an endpoint or processor: spans are no-ops and nothing is propagated", async () => {
    telemetry = startTelemetry({ serviceName: "t", serviceVersion: "0", env: {} });
    expect(telemetry.tracing).toBe(false);
    const span = telemetry.tracer.startSpan("x");
    expect(span.isRecording()).toBe(false);
    expect(traceHeadersOf(trace.setSpan(traceContextOfMessage(undefined), span))).toBeUndefined();
  });

  it("http - a server span per traced request, continuing the caller's traceparent, with HTTP attributes", async () => {
    const exporter = new InMemorySpanExporter();
    telemetry = startTelemetry({
      serviceName: "t",
      serviceVersion: "0",
      env: {},
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    expect(telemetry.tracing).toBe(true);
    const app = Fastify();
    instrumentFastify(app, telemetry, { tracedPrefix: "/v1/" });
    let injected: Record<string, string> | undefined;
    app.post("/v1/things/:id", async (request, reply) =>
      withContext(request.otelContext, () => {
        const child = telemetry!.tracer.startSpan("send");
        injected = traceHeadersOf(trace.setSpan(request.otelContext!, child));
        child.end();
        return reply.code(202).send({ ok: true });
      }),
    );
    app.get("/healthz", async () => ({ ok: true }));
    await app.inject({ method: "POST", url: "/v1/things/7?x=1", headers: { traceparent: PARENT }, payload: {} });
    await app.inject({ method: "GET", url: "/healthz" });
    await app.close();

    const spans = exporter.getFinishedSpans();
    const server = spans.find((s) => s.kind === SpanKind.SERVER)!;
    expect(spans.filter((s) => s.kind === SpanKind.SERVER)).toHaveLength(1); // no span for /healthz
    expect(server.name).toBe("POST /v1/things/:id");
    expect(server.spanContext().traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(server.parentSpanContext?.spanId).toBe("b7ad6b7169203331");
    expect(server.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/v1/things/:id",
      "url.path": "/v1/things/7",
      "http.response.status_code": 202,
    });
    // What goes into a NATS message continues the same trace; the consumer reads it back.
    expect(injected?.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    const extracted = trace.getSpanContext(traceContextOfMessage({ get: (name) => injected?.[name] ?? "" }));
    expect(extracted?.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
  });

  it("L6 - an untrusted edge (callerTrace: link) starts its own trace: the caller's traceparent is a link without its tracestate, and cannot force sampling", async () => {
    const traced = async (env: Record<string, string>) => {
      const exporter = new InMemorySpanExporter();
      telemetry = startTelemetry({
        serviceName: "t",
        serviceVersion: "0",
        env,
        spanProcessors: [new SimpleSpanProcessor({ exporter })],
      });
      const app = Fastify();
      instrumentFastify(app, telemetry, { tracedPrefix: "/v1/", callerTrace: "link" });
      let injected: Record<string, string> | undefined;
      app.post("/v1/things", async (request, reply) => {
        injected = traceHeadersOf(request.otelContext!);
        return reply.code(202).send({ ok: true });
      });
      await app.inject({
        method: "POST",
        url: "/v1/things",
        headers: { traceparent: PARENT, tracestate: "vendor=attacker-chosen" },
        payload: {},
      });
      await app.close();
      const spans = exporter.getFinishedSpans(); // before the shutdown, which empties the exporter
      await telemetry.shutdown();
      telemetry = undefined;
      return { spans, injected };
    };

    // Always sampled here: a root span of a trace of its own, linked to the caller's span.
    const { spans, injected } = await traced({});
    const server = spans.find((s) => s.kind === SpanKind.SERVER)!;
    expect(server.spanContext().traceId).not.toBe("0af7651916cd43dd8448eb211c80319c");
    expect(server.parentSpanContext).toBeUndefined();
    expect(server.links).toHaveLength(1);
    expect(server.links[0]!.context).toMatchObject({
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
    });
    expect(server.links[0]!.context.traceState).toBeUndefined();
    // What travels on (NATS headers) is our trace, and no tracestate at all.
    expect(injected?.traceparent).toContain(server.spanContext().traceId);
    expect(injected?.tracestate).toBeUndefined();

    // Under a ratio sampler the caller's sampled flag decides nothing: ratio 0 records nothing.
    const sampled = await traced({ OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" });
    expect(sampled.spans).toEqual([]);
    expect(sampled.injected?.traceparent).toMatch(/-00$/);
  });

  it("metrics - /metrics serves the Prometheus format; latency histograms reach hours, not +Inf", async () => {
    telemetry = startTelemetry({ serviceName: "t", serviceVersion: "0", env: {} });
    const metrics = createAggregatorMetrics(telemetry.meter, () => ({
      loader: { loaded: 3, poison: 1, recentDuplicates: 2, warehouseDuplicates: 0, insertFailures: 0, healthy: true },
      hub: {
        consumers: [{ name: "warehouse-loader", pending: 5, ackPending: 1 }],
        stream: { messages: 9, bytes: 900, maxBytes: 10_000 },
        sources: [{ region: "us", lag: 0, lastActiveSeconds: 0.5 }],
        dlqMessages: 1,
      },
    }));
    const now = Date.now();
    metrics.recordLoad({
      events: 3,
      flushSeconds: 0.02,
      committedAtMs: now,
      rows: [
        { region: "us", source: "demo", receivedAtMs: now - 40, occurredAtMs: now - 100 },
        { region: "us", source: "demo", receivedAtMs: now - 3 * 3600_000, occurredAtMs: null }, // after a 3-hour outage
        { region: "eu", source: "demo", receivedAtMs: now - 10, occurredAtMs: null },
      ],
    });
    const app = Fastify();
    instrumentFastify(app, telemetry);
    const res = await app.inject({ method: "GET", url: "/metrics" });
    await app.close();
    expect(res.statusCode).toBe(200);
    const text = res.body;
    expect(text).toMatch(/tributary_e2e_latency_seconds_count\{region="us",source="demo"\} 2/);
    expect(text).toMatch(/tributary_e2e_latency_seconds_bucket\{region="us",source="demo",le="14400"\} 2/);
    expect(text).toMatch(/tributary_e2e_latency_seconds_bucket\{region="us",source="demo",le="7200"\} 1/);
    expect(text).toMatch(/tributary_loader_events_total\{outcome="loaded"\} 3/);
    expect(text).toMatch(/tributary_duplicates_dropped_total\{depth="aggregator"\} 2/);
    expect(text).toMatch(/tributary_hub_consumer_pending_messages\{consumer="warehouse-loader"\} 5/);
    expect(text).toMatch(/tributary_dlq_messages 1/);
  });
});
