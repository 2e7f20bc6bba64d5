import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import type { EventMessage } from "@tributary/streams";
import { startTelemetry, type Telemetry } from "@tributary/telemetry";
import { signWebhook, sampleEvent } from "@tributary/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { buildApp, resolveGatewayConfig, type RegionalStream } from "../src/app.js";

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
  const app = buildApp({ config, telemetry, stream: () => stream, logger: false });
  const send = (traceFlags: string, n = 1) => {
    const body = sampleEvent({ seed: `${traceFlags}-${n}` });
    return app.inject({
      method: "POST",
      url: "/v1/sources/demo/events",
      headers: { ...signWebhook({ secret: SECRET, body }), traceparent: `00-${TRACE}-b7ad6b7169203331-${traceFlags}` },
      payload: body,
    });
  };
  return { app, published, send };
}

describe("gateway telemetry", () => {
  let telemetry: Telemetry | undefined;
  afterEach(async () => {
    await telemetry?.shutdown();
  });

  it("traces - a sampled request: server span ▸ publish span, whose traceparent the message carries", async () => {
    const exporter = new InMemorySpanExporter();
    telemetry = startTelemetry({
      serviceName: "g",
      serviceVersion: "0",
      env: {},
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const { app, published, send } = gateway(telemetry);
    expect((await send("01")).statusCode).toBe(202);
    await app.close();
    const producer = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.PRODUCER)!;
    const server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)!;
    expect(producer.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(published[0]!.extraHeaders!.traceparent).toBe(`00-${TRACE}-${producer.spanContext().spanId}-01`);
  });

  it("traces - an unsampled request records no span, and its decision travels on in the message (flag 00)", async () => {
    const exporter = new InMemorySpanExporter();
    telemetry = startTelemetry({
      serviceName: "g",
      serviceVersion: "0",
      env: {},
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const { app, published, send } = gateway(telemetry);
    expect((await send("00", 1)).statusCode).toBe(202);
    expect((await send("00", 2)).statusCode).toBe(202);
    await app.close();
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(published.map((m) => m.extraHeaders!.traceparent)).toEqual([
      expect.stringMatching(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`)),
      expect.stringMatching(/-00$/),
    ]);
  });
});
