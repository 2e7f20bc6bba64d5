import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { sampleEvent, signWebhook } from "@tributary/testkit";
import { OLD_SECRET, SECRET, startGateway, type GatewayUnderTest } from "./helpers.js";

async function post(gw: GatewayUnderTest, body: string | Buffer, headers: Record<string, string>, source = "demo") {
  const res = await fetch(`${gw.url}/v1/sources/${source}/events`, { method: "POST", headers, body });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> };
}

describe("gateway ingest", () => {
  let gw: GatewayUnderTest;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("ingest - a signed event is 202 only with the stream's sequence, and stored verbatim", async () => {
    const body = sampleEvent();
    const res = await post(gw, body, signWebhook({ secret: SECRET, body }));
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ status: "accepted", region: "us", stream: "EVENTS_US" });
    expect(res.json.event_key).toBe(`demo:${(JSON.parse(body) as { event_id: string }).event_id}`);
    expect(res.headers.get("tributary-event-key")).toBe(res.json.event_key);
    const stored = await (await jetstreamManager(gw.observer)).streams.getMessage("EVENTS_US", { seq: res.json.seq });
    expect(Buffer.from(stored!.data).toString()).toBe(body);
    expect(stored!.subject).toBe("events.us.demo.link.clicked");
    expect(stored!.header.get("Nats-Msg-Id")).toBe(res.json.event_key);
  });

  it("ingest - the same event again is 200 duplicate and stores nothing new", async () => {
    const body = sampleEvent();
    const first = await post(gw, body, signWebhook({ secret: SECRET, body }));
    const before = await gw.streamMessages();
    // A sender retry re-signs with a new timestamp; the body, and so the key, is the same.
    const again = await post(
      gw,
      body,
      signWebhook({ secret: SECRET, body, timestamp: Math.floor(Date.now() / 1000) + 1 }),
    );
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ status: "duplicate", event_key: first.json.event_key, seq: first.json.seq });
    expect(await gw.streamMessages()).toBe(before);
  });

  it("ingest - the body's event_id is the event key, else the body's hash; the unsigned x-webhook-id never is", async () => {
    const body = sampleEvent({ seed: "evt_123" });
    const res = await post(gw, body, signWebhook({ secret: SECRET, body, deliveryId: "dlv_ignored" }));
    expect(res.json.event_key).toBe("demo:evt_123");
    const { event_id: _id, ...rest } = JSON.parse(sampleEvent()) as Record<string, unknown>;
    const anonymous = JSON.stringify(rest);
    const hashed = await post(gw, anonymous, signWebhook({ secret: SECRET, body: anonymous, deliveryId: "dlv_x" }));
    expect(hashed.json.event_key).toBe(`demo:sha256:${createHash("sha256").update(anonymous).digest("hex")}`);
  });

  it("ingest - a rotated-out secret still verifies while it is listed, and is counted", async () => {
    const body = sampleEvent();
    expect((await post(gw, body, signWebhook({ secret: OLD_SECRET, body }))).status).toBe(202);
    const stats = (await (await fetch(`${gw.opsUrl}/v1/stats`)).json()) as any;
    expect(stats.secrets.demo.previous.count).toBeGreaterThanOrEqual(1);
  });

  it("ingest - unknown event types are accepted and counted", async () => {
    const body = JSON.stringify({ event: "order.refunded", timestamp: new Date().toISOString(), data: { id: 1 } });
    expect((await post(gw, body, signWebhook({ secret: SECRET, body }))).status).toBe(202);
    const stats = (await (await fetch(`${gw.opsUrl}/v1/stats`)).json()) as any;
    expect(stats.unknown_event_types.demo).toBeGreaterThanOrEqual(1);
  });

  describe("refusals store nothing", () => {
    const cases: Array<
      [string, () => { body: string | Buffer; headers: Record<string, string>; source?: string }, number, string]
    > = [
      [
        "bad signature",
        () => {
          const body = sampleEvent();
          return { body, headers: signWebhook({ secret: "wrong-secret-0123456789", body }) };
        },
        401,
        "signature_mismatch",
      ],
      [
        "missing signature",
        () => {
          const body = sampleEvent();
          const headers = signWebhook({ secret: SECRET, body });
          delete headers["x-webhook-signature"];
          return { body, headers };
        },
        401,
        "signature_missing",
      ],
      [
        "stale timestamp",
        () => {
          const body = sampleEvent();
          return {
            body,
            headers: signWebhook({ secret: SECRET, body, timestamp: Math.floor(Date.now() / 1000) - 301 }),
          };
        },
        401,
        "timestamp_out_of_tolerance",
      ],
      [
        "a body changed after signing",
        () => {
          const body = sampleEvent();
          return { body: body.replace("ios", "web"), headers: signWebhook({ secret: SECRET, body }) };
        },
        401,
        "signature_mismatch",
      ],
      [
        "unknown source",
        () => {
          const body = sampleEvent();
          return { body, headers: signWebhook({ secret: SECRET, body }), source: "nobody" };
        },
        404,
        "unknown_source",
      ],
      [
        "invalid JSON",
        () => {
          const body = '{"event":"link.clicked",';
          return { body, headers: signWebhook({ secret: SECRET, body }) };
        },
        400,
        "invalid_json",
      ],
      [
        "schema violation",
        () => {
          const body = JSON.stringify({ event: "link.clicked", data: { link_id: 42 } });
          return { body, headers: signWebhook({ secret: SECRET, body }) };
        },
        422,
        "schema_violation",
      ],
      [
        "oversize body",
        () => {
          const body = sampleEvent({ data: { filler: "x".repeat(5000) } });
          return { body, headers: signWebhook({ secret: SECRET, body }) };
        },
        413,
        "payload_too_large",
      ],
      [
        "wrong content type",
        () => {
          const body = sampleEvent();
          return { body, headers: { ...signWebhook({ secret: SECRET, body }), "content-type": "text/plain" } };
        },
        415,
        "unsupported_media_type",
      ],
    ];
    for (const [name, make, status, code] of cases) {
      it(`refusal - ${name} is ${status} ${code}`, async () => {
        const before = await gw.streamMessages();
        const { body, headers, source } = make();
        const res = await post(gw, body, headers, source);
        expect(res.status).toBe(status);
        expect(res.json.error.code).toBe(code);
        expect(typeof res.json.error.message).toBe("string");
        expect(await gw.streamMessages()).toBe(before);
      });
    }
  });

  it("routes - unknown paths get a JSON 404 with a code", async () => {
    const res = await fetch(`${gw.url}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe("route_not_found");
  });

  it("health - healthz and readyz answer while NATS is up", async () => {
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
  });
});

describe("gateway without its NATS", () => {
  it("outage - 503 buffer_unavailable with Retry-After, never 202, and readyz false; recovers by itself", async () => {
    const gw = await startGateway();
    try {
      await gw.observer.close();
      await gw.nats.kill();
      const body = sampleEvent();
      const started = Date.now();
      const res = await post(gw, body, signWebhook({ secret: SECRET, body }));
      expect(res.status).toBe(503);
      expect(res.json.error.code).toBe("buffer_unavailable");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
      const notReady = await fetch(`${gw.opsUrl}/readyz`); // the reason is for operators
      expect(notReady.status).toBe(503);
      expect(((await notReady.json()) as { reason: string }).reason).toBe("nats_disconnected");

      await gw.nats.restart();
      let status = 0;
      for (let i = 0; i < 100 && status !== 202; i++) {
        const again = sampleEvent();
        status = (await post(gw, again, signWebhook({ secret: SECRET, body: again }))).status;
        if (status !== 202) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(202);
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    } finally {
      await gw.app.close();
      await gw.publisher.close();
      await gw.nats.cleanup();
    }
  });
});

describe("gateway rate limits", () => {
  it("rate limit - a source over its limit gets 429 rate_limited with Retry-After and nothing stored; others are not affected", async () => {
    const gw = await startGateway({
      sources: {
        demo: {
          scheme: { type: "webhook-hmac-sha256" },
          secrets: [{ id: "current", env: "GW_TEST_SECRET" }],
          rateLimit: { max: 5, windowSeconds: 60 },
        },
        free: { scheme: { type: "webhook-hmac-sha256" }, secrets: [{ id: "current", env: "GW_TEST_SECRET" }] },
      },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const body = sampleEvent();
        statuses.push((await post(gw, body, signWebhook({ secret: SECRET, body }))).status);
      }
      expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
      const before = await gw.streamMessages();
      const body = sampleEvent();
      const limited = await post(gw, body, signWebhook({ secret: SECRET, body }));
      expect(limited.json.error.code).toBe("rate_limited");
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await gw.streamMessages()).toBe(before);
      for (let i = 0; i < 8; i++) {
        const other = sampleEvent();
        expect((await post(gw, other, signWebhook({ secret: SECRET, body: other }), "free")).status).toBe(202);
      }
    } finally {
      await gw.close();
    }
  });

  it("limits - a body nested too deep is 400 json_limits_exceeded and stores nothing", async () => {
    const gw = await startGateway();
    try {
      const before = await gw.streamMessages();
      const body = `{"event":"link.clicked","data":${'{"a":'.repeat(40)}1${"}".repeat(40)}}`;
      const res = await post(gw, body, signWebhook({ secret: SECRET, body }));
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("json_limits_exceeded");
      expect(await gw.streamMessages()).toBe(before);
    } finally {
      await gw.close();
    }
  });
});
