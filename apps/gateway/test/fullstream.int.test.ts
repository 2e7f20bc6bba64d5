import { describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { sampleEvent, signWebhook } from "@tributary/testkit";
import { DEMO_SOURCE, SECRET, startGateway } from "./helpers.js";

describe("gateway with a full stream", () => {
  it("full stream - 503 buffer_full with a computed Retry-After, readyz false, nothing lost or evicted", async () => {
    // A tiny stream (about twenty events) whose oldest event ages out after a minute.
    const gw = await startGateway({
      stream: { maxBytes: 8192, maxAgeSeconds: 60, duplicateWindowSeconds: 30 },
      // A signed request is accepted for 2 × the tolerance: the 30 s window must cover it.
      sources: { demo: { ...DEMO_SOURCE, toleranceSeconds: 15 } },
      admission: { streamCheckIntervalMs: 200 },
    });
    try {
      const accepted = new Map<string, number>(); // event key → stream seq
      const refusals: Array<{ code: string; retryAfter: number }> = [];
      for (let i = 0; i < 40; i++) {
        const body = sampleEvent();
        const res = await fetch(`${gw.url}/v1/sources/demo/events`, {
          method: "POST",
          headers: signWebhook({ secret: SECRET, body }),
          body,
        });
        const json = (await res.json()) as { event_key?: string; seq?: number; error?: { code: string } };
        if (res.status === 202) {
          // Once full, never accepted again in this test: nothing ages out within it.
          expect(refusals).toHaveLength(0);
          accepted.set(json.event_key!, json.seq!);
        } else {
          expect(res.status).toBe(503);
          refusals.push({ code: json.error!.code, retryAfter: Number(res.headers.get("retry-after")) });
        }
      }
      expect(accepted.size).toBeGreaterThan(5);
      expect(refusals.length).toBeGreaterThan(5);
      expect(refusals.every((r) => r.code === "buffer_full")).toBe(true);
      // Nothing drains, so the wait is until the oldest event reaches max_age (60 s), not a constant.
      for (const { retryAfter } of refusals) {
        expect(retryAfter).toBeGreaterThan(30);
        expect(retryAfter).toBeLessThanOrEqual(60);
      }

      // A batch into the full stream is refused whole, before anything is published.
      const batch = [sampleEvent(), sampleEvent()].join("\n");
      const batchRes = await fetch(`${gw.url}/v1/sources/demo/batch`, {
        method: "POST",
        headers: { ...signWebhook({ secret: SECRET, body: batch }), "content-type": "application/x-ndjson" },
        body: batch,
      });
      expect(batchRes.status).toBe(503);
      expect(((await batchRes.json()) as { error: { code: string } }).error.code).toBe("buffer_full");
      expect(Number(batchRes.headers.get("retry-after"))).toBeGreaterThan(30);

      expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
      const ready = await fetch(`${gw.opsUrl}/readyz`); // the reason is for operators
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reason: string }).reason).toMatch(/^stream_(full|nearly_full)$/);

      // Nothing lost, nothing evicted: the stream holds exactly the accepted events, from seq 1.
      const jsm = await jetstreamManager(gw.observer);
      const info = await jsm.streams.info("EVENTS_US");
      expect(info.state.messages).toBe(accepted.size);
      expect(info.state.first_seq).toBe(1);
      for (const [key, seq] of accepted) {
        const stored = await jsm.streams.getMessage("EVENTS_US", { seq });
        expect(stored?.header.get("Nats-Msg-Id")).toBe(key);
      }
    } finally {
      await gw.close();
    }
  });

  it("full stream - a batch that fills the stream: the items that fit are stored, the rest are buffer_full (200 partial, Retry-After)", async () => {
    const gw = await startGateway({
      stream: { maxBytes: 8192, maxAgeSeconds: 60, duplicateWindowSeconds: 30 },
      sources: { demo: { ...DEMO_SOURCE, toleranceSeconds: 15 } },
    });
    try {
      const events = Array.from({ length: 40 }, () => sampleEvent());
      const body = events.join("\n");
      const res = await fetch(`${gw.url}/v1/sources/demo/batch`, {
        method: "POST",
        headers: { ...signWebhook({ secret: SECRET, body }), "content-type": "application/x-ndjson" },
        body,
      });
      expect(res.status).toBe(200);
      const json = (await res.json()) as {
        status: string;
        accepted: number;
        failed: number;
        items: Array<{ status: string; code?: string; seq?: number }>;
      };
      expect(json.status).toBe("partial");
      expect(json.accepted).toBeGreaterThan(5);
      expect(json.failed).toBe(40 - json.accepted);
      // Publishes are pipelined in order, so what fits is a prefix of the batch.
      expect(json.items.map((i) => i.code ?? i.status)).toEqual([
        ...Array<string>(json.accepted).fill("accepted"),
        ...Array<string>(json.failed).fill("buffer_full"),
      ]);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(30);
      const info = await (await jetstreamManager(gw.observer)).streams.info("EVENTS_US");
      expect(info.state.messages).toBe(json.accepted);
      expect(info.state.first_seq).toBe(1);
    } finally {
      await gw.close();
    }
  });
});
