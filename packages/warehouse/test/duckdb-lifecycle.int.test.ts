import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DuckDbSink } from "../src/index.js";
import { DAY, delivery, NOW, row } from "./lifecycle-fixture.js";

describe("DuckDbSink lifecycle", () => {
  let dir: string;
  let sink: DuckDbSink;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "tributary-lifecycle-"));
    sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    await sink.migrate();
    await sink.migrateDeliveries();
    await sink.insertBatch(Array.from({ length: 10 }, (_, n) => row(n)));
    await sink.insertDeliveries([delivery(1, "links:e0", 0), delivery(2, "links:e8", 8), delivery(3, "links:e1", 1)]);
  });

  afterEach(async () => {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rollupTotal = async () => (await sink.analytics({ groupBy: "day" })).reduce((sum, r) => sum + r.events, 0);

  it("deletes rows past each table's retention and keeps the rollups' counts", async () => {
    sink.setRetention({ events: 5 * DAY, deliveries: 3 * DAY });
    const before = await rollupTotal();
    expect(before).toBe(10);

    const sweep = await sink.enforceRetention(NOW);

    expect(sweep).toEqual({ events: 5, deliveries: 1, rollups: 0 });
    expect((await sink.eventKeys()).sort()).toEqual(["links:e0", "links:e1", "links:e2", "links:e3", "links:e4"]);
    expect(await sink.countDeliveries()).toBe(2);
    // The daily rollup still counts what the rows no longer hold.
    expect(await rollupTotal()).toBe(10);
    const tables = await sink.lifecycle();
    const events = tables.find((t) => t.table === "events")!;
    expect(events).toMatchObject({ rows: 5, retentionSeconds: 5 * DAY, enforcedBy: "delete" });
    expect(Date.parse(events.oldest!)).toBeGreaterThanOrEqual(NOW.getTime() - 5 * DAY * 1000);
    expect(tables.find((t) => t.table === "events_rollup_minute")).toMatchObject({ retentionSeconds: null });
    // Nothing more to delete: a second pass changes nothing.
    expect(await sink.enforceRetention(NOW)).toEqual({ events: 0, deliveries: 0, rollups: 0 });
  });

  it("drops rollup buckets past the rollups' retention", async () => {
    sink.setRetention({ rollups: 3 * DAY });
    const sweep = await sink.enforceRetention(NOW);
    expect(sweep.rollups).toBeGreaterThan(0);
    expect(await sink.countEvents()).toBe(10);
    // Days before the cutoff's day are gone from the rollup: the rows of days 0–2 and part of 3 remain counted.
    expect(await rollupTotal()).toBeLessThan(10);
  });

  it("a full rebuild under events retention leaves the buckets before the retained rows as they were", async () => {
    sink.setRetention({ events: 5 * DAY });
    await sink.enforceRetention(NOW);
    const rebuilt = await sink.rebuildRollups();
    expect(rebuilt.since).not.toBeNull();
    expect(await rollupTotal()).toBe(10);
  });

  it("erases one visitor's rows: anonymised in place, their delivery log deleted, reported once", async () => {
    const result = await sink.eraseEvents({ visitorHashes: ["h_odd", "h_never_seen"] }, NOW);

    expect(result.rows).toBe(5);
    expect(result.deliveries).toBe(1); // links:e1's attempt
    expect(result.events.map((e) => e.event_key).sort()).toEqual([
      "links:e1",
      "links:e3",
      "links:e5",
      "links:e7",
      "links:e9",
    ]);
    expect(result.events[0]).toMatchObject({ source: "links", region: "us", event_type: "link.clicked" });
    const erased = await sink.getEvent("links:e1");
    expect(erased).toMatchObject({ payload: {}, ip_anon: null, visitor_hash: null, geo_country: "US" });
    expect(erased?.erased_at).toBe(NOW.toISOString());
    expect((await sink.getEvent("links:e2"))?.erased_at).toBeNull();
    const kept = await sink.getEvent("links:e2");
    expect(kept).toMatchObject({ payload: { ip: "203.0.113.0", n: 2 }, visitor_hash: "h_even" });
    expect(await sink.countEvents()).toBe(10);
    expect(await sink.erasedRows("us")).toBe(5);
    expect(await sink.countDeliveries()).toBe(2);
    // Counted once: erasing again touches nothing.
    expect(await sink.eraseEvents({ visitorHashes: ["h_odd"] }, NOW)).toEqual({ rows: 0, deliveries: 0, events: [] });
    // The rollups count erased rows as before, and rebuilding them from the rows gives the same.
    const live = await sink.analytics({ groupBy: "country" });
    await sink.rebuildRollups();
    expect(await sink.analytics({ groupBy: "country" })).toEqual(live);
  });

  it("erases by key and by source", async () => {
    await sink.insertBatch([row(0, "pay"), row(1, "pay")]);
    const byKey = await sink.eraseEvents({ keys: ["links:e4", "links:unknown"] }, NOW);
    expect(byKey.rows).toBe(1);
    expect(byKey.events.map((e) => e.event_key)).toEqual(["links:e4"]);

    const bySource = await sink.eraseEvents({ source: "pay" }, NOW);
    expect(bySource).toEqual({ rows: 2, deliveries: 0, events: [] });
    expect((await sink.getEvent("pay:e0"))?.payload).toEqual({});
    expect((await sink.getEvent("links:e0"))?.payload).toEqual({ ip: "203.0.113.0", n: 0 });
  });

  it("loads new rows after an erasure (the erased column is filled as NULL)", async () => {
    await sink.eraseEvents({ source: "links" }, NOW);
    const result = await sink.insertBatch([row(20), row(21)]);
    expect(result.inserted).toBe(2);
    expect((await sink.getEvent("links:e20"))?.visitor_hash).toBe("h_even");
    expect(await sink.erasedRows("us")).toBe(10);
  });
});
