import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { sampleEvent, signWebhook } from "@tributary/testkit";
import { SECRET, startGateway } from "./helpers.js";

/**
 * Offered load far above what the gateway may have in flight: a stream that fsyncs every write
 * (slow PubAcks), a publish limit of 8, and 96 senders without pauses for a few seconds. It is a
 * test of behaviour, not speed: nothing here asserts a rate.
 */
/** A full GC, so that heap figures show what is retained rather than garbage not yet collected. */
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
function retainedHeap(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

describe("gateway under overload", () => {
  it("overload - far above capacity: only 202 or 503 overloaded with Retry-After, no timeouts, bounded memory, every 202 stored", async () => {
    const gw = await startGateway({ admission: { maxInFlightPublishes: 8 } }, undefined, {
      jetstreamExtra: "sync_interval: always",
    });
    try {
      const statuses = new Map<string, number>();
      const accepted = new Map<string, number>(); // event key → stream seq
      const retryAfters = new Set<string>();
      let failures = 0;
      let maxInFlight = 0;
      const heapBefore = retainedHeap();
      let heapPeak = heapBefore;
      const deadline = Date.now() + 3000;

      const sender = async () => {
        while (Date.now() < deadline) {
          const body = sampleEvent();
          try {
            const res = await fetch(`${gw.url}/v1/sources/demo/events`, {
              method: "POST",
              headers: signWebhook({ secret: SECRET, body }),
              body,
              signal: AbortSignal.timeout(10_000),
            });
            const json = (await res.json()) as { event_key?: string; seq?: number; error?: { code: string } };
            const label = res.status === 202 ? "202" : `${res.status} ${json.error?.code ?? ""}`;
            statuses.set(label, (statuses.get(label) ?? 0) + 1);
            if (res.status === 202) accepted.set(json.event_key!, json.seq!);
            if (res.status === 503) retryAfters.add(res.headers.get("retry-after") ?? "missing");
          } catch {
            failures++;
          }
        }
      };
      const watcher = async () => {
        while (Date.now() < deadline) {
          const stats = (await (await fetch(`${gw.opsUrl}/v1/stats`)).json()) as { admission: { in_flight: number } };
          maxInFlight = Math.max(maxInFlight, stats.admission.in_flight);
          heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await Promise.all([...Array.from({ length: 96 }, sender), watcher()]);

      const summary = Object.fromEntries(statuses);
      expect(failures, JSON.stringify(summary)).toBe(0);
      expect(
        [...statuses.keys()].every((s) => s === "202" || s === "503 overloaded"),
        JSON.stringify(summary),
      ).toBe(true);
      expect(statuses.get("202") ?? 0).toBeGreaterThan(0);
      expect(statuses.get("503 overloaded") ?? 0).toBeGreaterThan(0);
      expect(
        [...retryAfters].every((v) => Number(v) >= 1),
        [...retryAfters].join(","),
      ).toBe(true);
      expect(maxInFlight).toBeLessThanOrEqual(8);
      // Memory stays bounded while refusing (garbage included), and nothing is retained afterwards.
      expect(heapPeak - heapBefore).toBeLessThan(256 * 1024 * 1024);
      expect(retainedHeap() - heapBefore).toBeLessThan(32 * 1024 * 1024);

      // Every 202 is in the stream, under its own sequence, and nothing else is.
      const jsm = await jetstreamManager(gw.observer);
      expect((await jsm.streams.info("EVENTS_US")).state.messages).toBe(accepted.size);
      for (const [key, seq] of accepted) {
        const stored = await jsm.streams.getMessage("EVENTS_US", { seq });
        expect(stored?.header.get("Nats-Msg-Id")).toBe(key);
      }
    } finally {
      await gw.close();
    }
  }, 60_000);
});
