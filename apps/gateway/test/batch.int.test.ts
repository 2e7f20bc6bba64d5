import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { sampleEvent, signWebhook } from "@tributary/testkit";
import { SECRET, startGateway, type GatewayUnderTest } from "./helpers.js";

interface BatchAnswer {
  status: number;
  headers: Headers;
  json: {
    status?: string;
    region?: string;
    stream?: string;
    accepted?: number;
    duplicates?: number;
    failed?: number;
    items?: Array<{ status: string; event_key?: string; seq?: number; code?: string; message?: string }>;
    error?: { code: string; message: string };
  };
}

async function postBatch(
  gw: GatewayUnderTest,
  body: string,
  contentType = "application/x-ndjson",
  headers?: Record<string, string>,
): Promise<BatchAnswer> {
  const res = await fetch(`${gw.url}/v1/sources/demo/batch`, {
    method: "POST",
    headers: headers ?? { ...signWebhook({ secret: SECRET, body }), "content-type": contentType },
    body,
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as BatchAnswer["json"] };
}

/** The key of an item without an event id: written here, not taken from the code under test. */
function hashKey(bytes: string): string {
  return `demo:sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** The key of an item with the deep-link envelope's event_id (the default scheme's id field). */
function idKey(bytes: string): string {
  return `demo:${(JSON.parse(bytes) as { event_id: string }).event_id}`;
}

/** A sample event without its event_id, so it is keyed by its bytes. */
function withoutId(body: string): string {
  const { event_id: _id, ...rest } = JSON.parse(body) as Record<string, unknown>;
  return JSON.stringify(rest);
}

describe("gateway batch", () => {
  let gw: GatewayUnderTest;
  beforeAll(async () => {
    gw = await startGateway({ batch: { maxItems: 50, maxBodyBytes: 64 * 1024 } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("batch - NDJSON: 202, each item its own message with its own key, stored verbatim", async () => {
    const events = Array.from({ length: 20 }, () => sampleEvent());
    const before = await gw.streamMessages();
    const res = await postBatch(gw, `${events.join("\n")}\n`);
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({
      status: "accepted",
      region: "us",
      stream: "EVENTS_US",
      accepted: 20,
      duplicates: 0,
      failed: 0,
    });
    expect(res.headers.get("tributary-region")).toBe("us");
    expect(res.headers.get("tributary-batch-accepted")).toBe("20");
    expect(await gw.streamMessages()).toBe(before + 20);
    const jsm = await jetstreamManager(gw.observer);
    for (const [i, item] of res.json.items!.entries()) {
      expect(item.status).toBe("accepted");
      expect(item.event_key).toBe(idKey(events[i]!));
      const stored = await jsm.streams.getMessage("EVENTS_US", { seq: item.seq! });
      expect(Buffer.from(stored!.data).toString()).toBe(events[i]);
      expect(stored!.header.get("Nats-Msg-Id")).toBe(item.event_key);
      expect(stored!.subject).toBe("events.us.demo.link.clicked");
    }
  });

  it("batch - JSON array: each element's own bytes are the message and, without an event id, the key", async () => {
    const events = Array.from({ length: 5 }, (_, i) =>
      withoutId(sampleEvent({ type: i % 2 ? "link.opened" : "link.clicked" })),
    );
    const res = await postBatch(gw, `[\n  ${events.join(",\n  ")}\n]`, "application/json");
    expect(res.status).toBe(202);
    const jsm = await jetstreamManager(gw.observer);
    for (const [i, item] of res.json.items!.entries()) {
      expect(item.event_key).toBe(hashKey(events[i]!));
      const stored = await jsm.streams.getMessage("EVENTS_US", { seq: item.seq! });
      expect(Buffer.from(stored!.data).toString()).toBe(events[i]);
      expect(stored!.subject).toBe(i % 2 ? "events.us.demo.link.opened" : "events.us.demo.link.clicked");
    }
  });

  it("batch - per-item results: bad items are refused with their code, the good ones stored (200 partial)", async () => {
    const good = [sampleEvent(), sampleEvent()];
    const lines = [
      good[0]!,
      '{"event":"link.clicked",',
      JSON.stringify({ event: "link.clicked", data: { link_id: 42 } }),
      good[1]!,
      `{"event":"x","data":${"[".repeat(40)}${"]".repeat(40)}}`,
    ];
    const before = await gw.streamMessages();
    const res = await postBatch(gw, lines.join("\n"));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: "partial", accepted: 2, duplicates: 0, failed: 3 });
    expect(res.json.items!.map((i) => (i.status === "error" ? i.code : i.status))).toEqual([
      "accepted",
      "invalid_json",
      "schema_violation",
      "accepted",
      "json_limits_exceeded",
    ]);
    expect(res.headers.get("retry-after")).toBeNull(); // nothing worth retrying unchanged
    expect(await gw.streamMessages()).toBe(before + 2);
  });

  it("batch - the same item again is a duplicate (200 complete), also within one batch", async () => {
    const event = sampleEvent();
    const first = await postBatch(gw, event);
    expect(first.status).toBe(202);
    const before = await gw.streamMessages();
    const other = sampleEvent();
    const again = await postBatch(gw, [event, other, other].join("\n"));
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ status: "complete", accepted: 1, duplicates: 2, failed: 0 });
    expect(again.json.items![0]).toMatchObject({
      status: "duplicate",
      event_key: first.json.items![0]!.event_key,
      seq: first.json.items![0]!.seq,
    });
    expect(again.json.items![2]).toMatchObject({ status: "duplicate", seq: again.json.items![1]!.seq });
    expect(await gw.streamMessages()).toBe(before + 1);
  });

  it("batch - refused whole, nothing stored: bad signature, too many items, too many bytes, not a batch, wrong type", async () => {
    const before = await gw.streamMessages();
    const events = [sampleEvent(), sampleEvent()].join("\n");
    const forged = await postBatch(gw, events, "application/x-ndjson", {
      ...signWebhook({ secret: "wrong-secret-0123456789", body: events }),
      "content-type": "application/x-ndjson",
    });
    expect([forged.status, forged.json.error?.code]).toEqual([401, "signature_mismatch"]);
    const tooMany = await postBatch(gw, Array.from({ length: 51 }, () => sampleEvent()).join("\n"));
    expect([tooMany.status, tooMany.json.error?.code]).toEqual([413, "batch_too_large"]);
    const tooBig = await postBatch(
      gw,
      Array.from({ length: 40 }, () => sampleEvent({ data: { filler: "x".repeat(2000) } })).join("\n"),
    );
    expect([tooBig.status, tooBig.json.error?.code]).toEqual([413, "batch_too_large"]);
    const notArray = await postBatch(gw, JSON.stringify({ event: "link.clicked" }), "application/json");
    expect([notArray.status, notArray.json.error?.code]).toEqual([400, "invalid_batch"]);
    const empty = await postBatch(gw, "\n\n");
    expect([empty.status, empty.json.error?.code]).toEqual([400, "invalid_batch"]);
    const text = await postBatch(gw, events, "text/plain");
    expect([text.status, text.json.error?.code]).toEqual([415, "unsupported_media_type"]);
    expect(await gw.streamMessages()).toBe(before);
  });

  it("batch - an item larger than the source's maxBodyBytes is that item's payload_too_large", async () => {
    const big = sampleEvent({ data: { filler: "x".repeat(5000) } });
    const res = await postBatch(gw, [sampleEvent(), big].join("\n"));
    expect(res.status).toBe(200);
    expect(res.json.items!.map((i) => i.code ?? i.status)).toEqual(["accepted", "payload_too_large"]);
  });

  it("batch - the single-event endpoint does not take NDJSON", async () => {
    const body = sampleEvent();
    const res = await fetch(`${gw.url}/v1/sources/demo/events`, {
      method: "POST",
      headers: { ...signWebhook({ secret: SECRET, body }), "content-type": "application/x-ndjson" },
      body,
    });
    expect(res.status).toBe(415);
  });
});

describe("gateway batch keys", () => {
  it("batch - with an idField, each item's key is its own field value", async () => {
    const gw = await startGateway({
      sources: {
        demo: {
          scheme: { type: "webhook-hmac-sha256" },
          secrets: [{ id: "current", env: "GW_TEST_SECRET" }],
          idField: "event_id",
          batch: true,
        },
      },
    });
    try {
      const run = Date.now().toString(36);
      const events = [1, 2, 3].map((n) =>
        JSON.stringify({
          event_id: `evt_${run}_${n}`,
          event: "link.clicked",
          timestamp: new Date().toISOString(),
          data: { link_id: `l${n}` },
        }),
      );
      const res = await postBatch(gw, events.join("\n"));
      expect(res.status).toBe(202);
      expect(res.json.items!.map((i) => i.event_key)).toEqual([1, 2, 3].map((n) => `demo:evt_${run}_${n}`));
    } finally {
      await gw.close();
    }
  });
});
