import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "@tributary/testkit";
import { Pipeline, sendWithResends } from "./pipeline.js";

describe("pipeline (one region, real processes)", () => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it("pipeline - 1,000 signed events with 10% sent twice become exactly 1,000 rows", async () => {
    pipeline = await Pipeline.start();
    await pipeline.startAggregator();
    const tally = await sendWithResends(pipeline.gatewayUrl, 1000);
    expect(tally.sent).toBe(1100);
    expect(tally.accepted.size, JSON.stringify([...tally.other])).toBe(1000);
    expect(tally.duplicates).toBe(100);
    expect(tally.other.size).toBe(0);

    await pipeline.waitForRows(1000);
    const rows = await pipeline.rowsFromFile();
    expect(rows).toHaveLength(1000);
    expect(new Set(rows.map((r) => r.event_key))).toEqual(tally.accepted);
    for (const row of rows) {
      expect(row.event_type).toBe("link.clicked");
      expect(row.region).toBe("us");
      expect(row.source).toBe("demo");
      expect(Date.parse(row.received_at)).toBeGreaterThan(0);
      expect(row.region_seq).toBeGreaterThan(0);
    }
  });

  it("pipeline - the aggregator killed with SIGKILL mid-stream and restarted: nothing lost, nothing doubled, what it had in flight back at once", async () => {
    // An ack wait far beyond the test's waits: the killed process's events in flight must come
    // back because the new one resets its consumers to their ack floor, not because it ran out.
    pipeline = await Pipeline.start({ aggregator: { ackWaitMs: 600_000 } });
    const p = pipeline;
    await p.startAggregator();
    const sending = sendWithResends(p.gatewayUrl, 3000, { concurrency: 8, seedPrefix: "kill" });

    // Kill it once it has loaded some rows but (with 3,000 to go) surely not all.
    await p.waitForRows(300);
    await p.aggregator!.kill();
    const loadedBeforeKill = (await p.rowsFromFile()).length;
    await p.startAggregator();

    const tally = await sending;
    expect(tally.accepted.size, JSON.stringify([...tally.other])).toBe(3000);
    expect(tally.other.size).toBe(0);
    expect(loadedBeforeKill).toBeLessThan(3000);

    await p.waitForRows(3000);
    const rows = await p.rowsFromFile();
    expect(rows).toHaveLength(3000);
    expect(new Set(rows.map((r) => r.event_key))).toEqual(tally.accepted);
  });
});

describe("pipeline poison", () => {
  it("poison - an event the gateway never saw goes to EVENTS_DLQ with its reason; the rest load", async () => {
    const { headers } = await import("@nats-io/nats-core");
    const { jetstream, jetstreamManager } = await import("@nats-io/jetstream");
    const { connectNats } = await import("@tributary/streams");
    const pipeline = await Pipeline.start();
    const nc = await connectNats({ servers: [pipeline.nats.url], name: "poisoner" });
    try {
      await pipeline.startAggregator();
      const h = headers();
      h.set("Nats-Msg-Id", "demo:poison-1");
      h.set("Tributary-Source", "demo");
      h.set("Tributary-Region", "us");
      h.set("Tributary-Received-At", new Date().toISOString());
      await jetstream(nc).publish("events.us.demo.link.clicked", new TextEncoder().encode("{not json"), { headers: h });
      const tally = await sendWithResends(pipeline.gatewayUrl, 50, { seedPrefix: "good" });
      await pipeline.waitForRows(50);

      const jsm = await jetstreamManager(nc);
      const dlq = await waitFor("the DLQ entry", async () =>
        (await jsm.streams.info("EVENTS_DLQ")).state.messages === 1 ? true : undefined,
      );
      expect(dlq).toBe(true);
      const entry = await jsm.streams.getMessage("EVENTS_DLQ", { seq: 1 });
      expect(entry?.header.get("Tributary-Dlq-Reason")).toMatch(/^invalid_json/);
      expect(entry?.header.get("Tributary-Original-Msg-Id")).toBe("demo:poison-1");
      expect(entry?.header.get("Tributary-Dlq-Origin")).toMatch(/^EVENTS_ENRICHED:\d+$/);
      expect(new TextDecoder().decode(entry?.data)).toBe("{not json");

      const rows = await pipeline.rowsFromFile();
      expect(new Set(rows.map((r) => r.event_key))).toEqual(tally.accepted);
    } finally {
      await nc.close();
      await pipeline.close();
    }
  });
});
