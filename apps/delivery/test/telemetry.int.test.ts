import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { expect, it } from "vitest";
import { connectNats, ensureStream, eventSubject, enrichedStreamConfig, publishEvent } from "@tributary/streams";
import { freePorts, startNatsServer, startOtlpReceiver, startService, waitFor } from "@tributary/testkit";

const EVENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

it("telemetry - a delivery span per attempt, linked to the event's trace and passed to the destination; per-destination metrics", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tributary-delivery-otel-"));
  const server = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
  const receiver = await startOtlpReceiver();
  const received: Array<{ id: string; traceparent: string }> = [];
  const dest = Fastify();
  dest.post("/in", async (request) => {
    received.push({
      id: String(request.headers["webhook-id"]),
      traceparent: String(request.headers.traceparent ?? ""),
    });
    return { ok: true };
  });
  const destUrl = `${await dest.listen({ host: "127.0.0.1", port: 0 })}/in`;
  const nc = await connectNats({ servers: [server.url], name: "test" });
  const [port] = await freePorts(1);
  let svc: Awaited<ReturnType<typeof startService>> | undefined;
  try {
    await ensureStream(await jetstreamManager(nc), { ...enrichedStreamConfig(), subjects: ["enriched.>", "events.>"] });
    const configPath = join(dir, "delivery.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        port,
        allowPrivate: ["127.0.0.0/8"],
        adminToken: { env: "ADMIN_TOKEN" }, // /metrics is the admin's: Prometheus sends the token
        destinations: [{ name: "tel", url: destUrl, start: "new", signing: { type: "none" } }],
      }),
    );
    svc = await startService({
      name: "delivery",
      entry: join(import.meta.dirname, "../dist/main.js"),
      env: {
        TRIBUTARY_CONFIG: configPath,
        TRIBUTARY_NATS_URL: server.url,
        TRIBUTARY_LOG_LEVEL: "warn",
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_METRICS_EXPORTER: "none",
        ADMIN_TOKEN: "metrics-token-0123456789",
      },
      readyUrl: `http://127.0.0.1:${port}/readyz`,
    });
    await publishEvent(jetstream(nc), {
      subject: eventSubject("us", "demo", "link.clicked"),
      body: new TextEncoder().encode('{"event":"link.clicked","data":{}}'),
      eventKey: "demo:traced",
      source: "demo",
      region: "us",
      eventType: "link.clicked",
      receivedAt: new Date(),
      extraHeaders: { traceparent: `00-${EVENT_TRACE}-00f067aa0ba902b7-01` },
    });
    const span = await waitFor(
      "the delivery span",
      () => receiver.spans.find((s) => s.name === "POST tel"),
      20_000,
      100,
    );
    expect(span.kind).toBe(3); // client
    expect(span.links).toEqual([{ traceId: EVENT_TRACE, spanId: "00f067aa0ba902b7" }]);
    expect(span.attributes).toMatchObject({
      "tributary.destination": "tel",
      "messaging.message.id": "demo:traced",
      "http.response.status_code": 200,
      "tributary.delivery.outcome": "delivered",
    });
    // The destination was called as part of the delivery's trace.
    expect(received).toEqual([{ id: "demo:traced", traceparent: `00-${span.traceId}-${span.spanId}-01` }]);

    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
    const metrics = await (
      await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: "Bearer metrics-token-0123456789" } })
    ).text();
    expect(metrics).toMatch(/tributary_delivery_events_total\{destination="tel",outcome="delivered"\} 1/);
    expect(metrics).toMatch(
      /tributary_delivery_attempt_duration_seconds_count\{destination="tel",outcome="delivered"\} 1/,
    );
    expect(metrics).toMatch(/tributary_delivery_breaker_state\{destination="tel"\} 0/);
  } finally {
    await svc?.stop();
    await nc.close();
    await dest.close();
    await receiver.close();
    await server.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
