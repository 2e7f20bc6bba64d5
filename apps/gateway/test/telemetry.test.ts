import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import type { EventMessage } from "@tributary/streams";
import { startTelemetry, type Telemetry } from "@tributary/telemetry";
import { signWebhook, sampleEvent } from "@tributary/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { buildGateway, resolveGatewayConfig, type RegionalStream } from "../src/app.js";

const SECRET = "telemetry-secret-0123456789abcdef";
const TRACE = "0af7651916cd43dd8448eb211c80319c";

/** The gateway with a publish that records each message and acknowledges it (no NATS needed here). */
function gateway(telemetry: Telemetry) {
  const published: EventMessage[] = [];
  const config = resolveGatewayConfig(
    {
      region: "us",
      logLevel: "silent",
      sources: { demo: { scheme: { type: "webhook-hmac-sha256" }, secrets: [{ id: "k", env: "S" }] } },
    },
    { S: SECRET },
  );
  const stream: RegionalStream = {
    publish: async (msg) => {
      published.push({ ...msg, extraHeaders: { ...msg.extraHeaders } });
      return { stream: "EVENTS_US", seq: published.length, duplicate: false };
    },
    readiness: () => ({ ready: true, fill: null }),
    full: false,
    retryAfterSeconds: () => 2,
    freshRetryAfterSeconds: async () => 2,
    streamState: () => undefined,
  };
  const { app } = buildGateway({ config, telemetry, stream: () => stream, logger: false });
  const send = (traceFlags: string, n = 1, extra: Record<string, string> = {}) => {
    const body = sampleEvent({ seed: `${traceFlags}-${n}` });
    return app.inject({
      method: "POST",
      url: "/v1/sources/demo/events",
      headers: {
        ...signWebhook({ secret: SECRET, body }),
        traceparent: `00-${TRACE}-b7ad6b7169203331-${traceFlags}`,
        ...extra,
      },
      payload: body,
    });
  };
  return { app, published, send };
}

/** Telemetry recording every finished span; `env` picks the sampler. */
function recording(env: Record<string, string> = {}) {
  const exporter = new InMemorySpanExporter();
  const telemetry = startTelemetry({
    serviceName: "g",
    serviceVersion: "0",
    env,
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  return { telemetry, exporter };
}

describe("gateway telemetry", () => {
  let telemetry: Telemetry | undefined;
  afterEach(async () => {
    await telemetry?.shutdown();
  });

  it("traces - a sampled request: server span ▸ publish span, whose traceparent the message carries", async () => {
    const recorded = recording();
    telemetry = recorded.telemetry;
    const { app, published, send } = gateway(telemetry);
    expect((await send("01")).statusCode).toBe(202);
    await app.close();
    const producer = recorded.exporter.getFinishedSpans().find((s) => s.kind === SpanKind.PRODUCER)!;
    const server = recorded.exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)!;
    expect(producer.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(published[0]!.extraHeaders!.traceparent).toBe(
      `00-${server.spanContext().traceId}-${producer.spanContext().spanId}-01`,
    );
  });

  it("L6 - a sender's traceparent and tracestate are not ours: a new trace, linked to the sender's span, and only ours travels on", async () => {
    const recorded = recording();
    telemetry = recorded.telemetry;
    const { app, published, send } = gateway(telemetry);
    expect((await send("01", 1, { tracestate: "vendor=sender-chosen" })).statusCode).toBe(202);
    await app.close();
    const server = recorded.exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)!;
    expect(server.spanContext().traceId).not.toBe(TRACE);
    expect(server.parentSpanContext).toBeUndefined();
    expect(server.links.map((l) => l.context)).toEqual([expect.objectContaining({ traceId: TRACE })]);
    expect(published[0]!.extraHeaders!.traceparent).not.toContain(TRACE);
    expect(published[0]!.extraHeaders!.tracestate).toBeUndefined();
  });

  it("L6 - a sender's sampled flag cannot force sampling: under a ratio sampler of 0 nothing is recorded, and the decision (flag 00) travels on", async () => {
    const recorded = recording({ OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" });
    telemetry = recorded.telemetry;
    const { app, published, send } = gateway(telemetry);
    expect((await send("01", 1)).statusCode).toBe(202);
    expect((await send("01", 2)).statusCode).toBe(202);
    await app.close();
    expect(recorded.exporter.getFinishedSpans()).toEqual([]);
    expect(published.map((m) => m.extraHeaders!.traceparent)).toEqual([
      expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/),
      expect.stringMatching(/-00$/),
    ]);
    expect(published[0]!.extraHeaders!.traceparent).not.toContain(TRACE);
  });
});
