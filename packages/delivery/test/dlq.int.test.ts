import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DELIVERY_DLQ_STREAM,
  deliveryDlqStreamConfig,
  ensureStream,
  listDeliveryDlq,
  replayDeliveryDlq,
} from "@tributary/streams";
import { replayDeliveryRange } from "../src/index.js";
import { Destination, Hub, until } from "./harness.js";

let hub: Hub;
const destinations: Destination[] = [];
beforeEach(async () => {
  hub = await Hub.start();
});
afterEach(async () => {
  await hub.close();
  for (const d of destinations.splice(0)) await d.close();
});

const index = (id: string) => Number(id.split("-").pop());

describe("delivery - DLQ and replay", () => {
  it("M12 - a rejected event whose DLQ write fails is not POSTed again: only the write is tried again, and it lands once the DLQ takes it", async () => {
    const dest = await Destination.start(() => ({ status: 400, body: "no such customer" }));
    destinations.push(dest);
    await hub.jsm.streams.delete(DELIVERY_DLQ_STREAM); // every DLQ write fails, as with a full DLQ
    const { deliverer } = await hub.deliver(Hub.config({ name: "full", url: dest.url }));
    const [key] = await hub.publish(1, { prefix: "full" });
    await until(() => deliverer.stats.dlqWriteFailures === 1, 10_000, "the failed DLQ write");
    expect(dest.received).toHaveLength(1);
    await ensureStream(hub.jsm, deliveryDlqStreamConfig()); // the DLQ has room again
    await until(() => deliverer.stats.dlq === 1, 15_000, "the entry written on the event's return");
    expect(dest.received).toHaveLength(1); // the destination was not asked again
    const [entry] = await listDeliveryDlq(hub.jsm, "full");
    expect(entry).toMatchObject({ eventKey: key, reason: "rejected: HTTP 400", status: 400 });
    expect(deliverer.stats).toMatchObject({ rejected: 1, attempts: 1, dlqAbandoned: 0 });
  });

  it("4xx goes to the DLQ at once with the response; exhausted attempts go there too; a DLQ replay delivers them with the same ids", async () => {
    let fixed = false;
    const dest = await Destination.start((req) => {
      if (fixed) return { status: 200 };
      const i = index(req.id);
      if (i % 10 === 0) return { status: 422, body: '{"error":"unknown customer"}' };
      if (i % 10 === 1) return { status: 500, body: "still broken" };
      return { status: 200 };
    });
    destinations.push(dest);
    const { deliverer } = await hub.deliver(
      Hub.config({ name: "crm", url: dest.url, retry: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 50 } }),
    );
    const keys = await hub.publish(100);

    await until(() => deliverer.stats.delivered + deliverer.stats.dlq === 100, 20_000, "every event settled");
    expect(deliverer.stats).toMatchObject({ delivered: 80, dlq: 20, rejected: 10, exhausted: 10 });
    await until(async () => (await hub.consumerState("crm")).ackPending === 0, 5_000, "acks");
    expect(await hub.consumerState("crm")).toMatchObject({ pending: 0, ackPending: 0 });

    const entries = await listDeliveryDlq(hub.jsm, "crm", { limit: 100 });
    expect(entries).toHaveLength(20);
    const rejected = entries.filter((e) => index(e.eventKey) % 10 === 0);
    expect(rejected).toHaveLength(10);
    for (const e of rejected)
      expect(e).toMatchObject({
        status: 422,
        attempts: 1,
        reason: "rejected: HTTP 422",
        response: '{"error":"unknown customer"}',
      });
    for (const e of entries.filter((e) => index(e.eventKey) % 10 === 1))
      expect(e).toMatchObject({
        status: 500,
        attempts: 3,
        reason: expect.stringMatching(/^attempts_exhausted: 3 attempts/),
        response: "still broken",
      });
    // Rejected events were tried once; exhausted ones exactly maxAttempts times.
    for (const e of entries) expect(dest.received.filter((r) => r.id === e.eventKey)).toHaveLength(e.attempts);

    fixed = true;
    expect(await replayDeliveryDlq(hub.js, hub.jsm, "crm")).toEqual({ replayed: 20, skipped: 0 });
    await until(() => deliverer.stats.delivered === 100, 20_000, "replayed entries delivered");
    expect(await hub.streamCount(DELIVERY_DLQ_STREAM)).toBe(0);
    expect([...dest.ids()].sort()).toEqual([...keys].sort());
    const replayedIds = new Set(entries.map((e) => e.eventKey));
    const lastOk = dest.received.filter((r) => replayedIds.has(r.id) && r.at > 0);
    expect(new Set(lastOk.map((r) => r.id)).size).toBe(20);
  });

  it("a time-range replay delivers that range again, to that destination only", async () => {
    const a = await Destination.start();
    const b = await Destination.start();
    destinations.push(a, b);
    await hub.deliver(Hub.config({ name: "a", url: a.url }));
    await hub.deliver(Hub.config({ name: "b", url: b.url, types: ["link.clicked"] }));
    await hub.publish(30, { prefix: "early" });
    await new Promise((r) => setTimeout(r, 50));
    const from = new Date();
    const middle = await hub.publish(20, { prefix: "middle" });
    await hub.publish(5, { prefix: "middle-install", type: "install.tracked" });
    const to = new Date();
    await new Promise((r) => setTimeout(r, 50));
    await hub.publish(30, { prefix: "late" });
    await until(() => a.received.length === 85 && b.received.length === 80, 20_000, "first deliveries");

    const result = await replayDeliveryRange(
      hub.js,
      hub.jsm,
      Hub.config({ name: "b", url: b.url, types: ["link.clicked"] }),
      { from, to },
    );
    expect(result).toMatchObject({ replayed: 20, truncated: false });
    await until(() => b.received.length === 100, 20_000, "the replayed range");
    const again = b.received
      .slice(80)
      .map((r) => r.id)
      .sort();
    expect(again).toEqual([...middle].sort());
    await new Promise((r) => setTimeout(r, 200));
    expect(a.received).toHaveLength(85); // A was not part of the replay
  });
});
