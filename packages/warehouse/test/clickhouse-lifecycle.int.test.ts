import { startClickHouse, type ClickHouseTestServer } from "@tributary/testkit";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CLICKHOUSE_EXTRA_COLUMNS } from "../src/clickhouse-queries.js";
import { clickHouseTableDdl } from "../src/clickhouse-schema.js";
import { ClickHouseSink, rebuildFloor, WarehouseError } from "../src/index.js";
import { DAY, delivery, NOW, row } from "./lifecycle-fixture.js";

// The fixture duckdb-lifecycle.int.test.ts loads (lifecycle-fixture.ts), on the real server (18.16 here: no TTL, so
// retention runs as DELETE mutations; the TTL statements are unit-tested).
describe("ClickHouseSink lifecycle (real server)", () => {
  let server: ClickHouseTestServer;
  let sink: ClickHouseSink;
  let database: string;
  let dbCounter = 0;

  /** Plain SQL straight to the server, past the sink (no FINAL unless asked: what is on disk). */
  async function sql(query: string): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/`, { method: "POST", body: query });
    const text = await res.text();
    if (!res.ok) throw new Error(`${res.status} ${text}`);
    return text.trim();
  }

  beforeAll(async () => {
    server = await startClickHouse();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  beforeEach(async () => {
    database = `life${++dbCounter}`;
    sink = await ClickHouseSink.open(server.url(database));
    await sink.migrate();
    await sink.migrateDeliveries();
    await sink.insertBatch(Array.from({ length: 10 }, (_, n) => row(n)));
    await sink.insertDeliveries([delivery(1, "links:e0", 0), delivery(2, "links:e8", 8), delivery(3, "links:e1", 1)]);
  });

  afterEach(async () => {
    await sink?.close();
  });

  const dayTotal = async () => (await sink.analytics({ groupBy: "day" })).reduce((sum, r) => sum + r.events, 0);

  it("18.16 has no TTL: retention is enforced by deletes, and the tables carry no TTL clause", async () => {
    const info = await sink.server();
    expect(info.features).toMatchObject({ ttl: false, removeTtl: false });
    sink.setRetention({ events: 5 * DAY, deliveries: 3 * DAY });
    await sink.migrate();
    await sink.migrateDeliveries();
    expect(await sql(`SHOW CREATE TABLE ${database}.events`)).not.toContain("TTL");
    expect(await sql(`SHOW CREATE TABLE ${database}.deliveries`)).not.toContain("TTL");
    const tables = await sink.lifecycle();
    expect(tables.map((t) => t.table)).toEqual(["events", "deliveries"]);
    expect(tables[0]).toEqual({
      table: "events",
      rows: 10,
      oldest: new Date(NOW.getTime() - 9 * DAY * 1000 - 60_000).toISOString(),
      retentionSeconds: 5 * DAY,
      enforcedBy: "delete",
    });
    expect(tables[1]).toMatchObject({ rows: 3, retentionSeconds: 3 * DAY, enforcedBy: "delete" });
  });

  it("deletes rows past each table's retention, from disk, and waits until they are gone", async () => {
    sink.setRetention({ events: 5 * DAY, deliveries: 3 * DAY });
    expect(await dayTotal()).toBe(10);

    const sweep = await sink.enforceRetention(NOW);

    expect(sweep).toEqual({ events: 5, deliveries: 1, rollups: 0 });
    expect((await sink.eventKeys()).sort()).toEqual(["links:e0", "links:e1", "links:e2", "links:e3", "links:e4"]);
    expect(await sql(`SELECT count() FROM ${database}.events`)).toBe("5"); // without FINAL: gone, not hidden
    expect(await sink.countDeliveries()).toBe(2);
    // No stored rollups on ClickHouse: the analytics are aggregated from the rows that remain.
    expect(await dayTotal()).toBe(5);
    const events = (await sink.lifecycle()).find((t) => t.table === "events")!;
    expect(events).toMatchObject({ rows: 5, retentionSeconds: 5 * DAY, enforcedBy: "delete" });
    expect(Date.parse(events.oldest!)).toBeGreaterThanOrEqual(NOW.getTime() - 5 * DAY * 1000);
    // Nothing more to delete: a second pass changes nothing (and submits no mutation).
    const mutations = await sql(`SELECT count() FROM system.mutations WHERE database = '${database}'`);
    expect(await sink.enforceRetention(NOW)).toEqual({ events: 0, deliveries: 0, rollups: 0 });
    expect(await sql(`SELECT count() FROM system.mutations WHERE database = '${database}'`)).toBe(mutations);
  });

  it("a rollups retention has nothing to drop (no stored rollups); a rebuild's since is clamped as on DuckDB", async () => {
    sink.setRetention({ rollups: 3 * DAY });
    expect(await sink.enforceRetention(NOW)).toEqual({ events: 0, deliveries: 0, rollups: 0 });
    expect(await sink.countEvents()).toBe(10);
    expect((await sink.rebuildRollups()).since).toBeNull();

    sink.setRetention({ events: 5 * DAY });
    const floor = rebuildFloor(sink.eventsRetainedSince(new Date()))!;
    const rebuilt = await sink.rebuildRollups();
    expect(rebuilt).toMatchObject({ since: floor.toISOString(), tables: [] });
    const later = new Date(floor.getTime() + DAY * 1000 + 90_000);
    expect((await sink.rebuildRollups({ since: later })).since).toBe(
      new Date(Math.floor(later.getTime() / 60_000) * 60_000).toISOString(),
    );
  });

  it("erases one visitor's rows: anonymised in place, their delivery log deleted, reported once", async () => {
    const live = await sink.analytics({ groupBy: "country" });
    const targets = await sink.erasureTargets({ visitorHashes: ["h_odd", "h_never_seen"] });
    const result = await sink.eraseEvents({ visitorHashes: ["h_odd", "h_never_seen"] }, NOW);
    // What the preview listed is what was erased.
    expect(result.events).toEqual(targets);

    expect(result.rows).toBe(5);
    expect(result.deliveries).toBe(1); // links:e1's attempt
    expect(result.events.map((e) => e.event_key).sort()).toEqual([
      "links:e1",
      "links:e3",
      "links:e5",
      "links:e7",
      "links:e9",
    ]);
    // Oldest receipt first, as DuckDB lists them.
    expect(result.events[0]).toMatchObject({
      event_key: "links:e9",
      source: "links",
      region: "us",
      region_seq: 10,
      event_type: "link.clicked",
      received_at: row(9).received_at.toISOString(),
    });
    const erased = await sink.getEvent("links:e1");
    expect(erased).toMatchObject({ payload: {}, ip_anon: null, visitor_hash: null, geo_country: "US" });
    // Whole seconds on 18.16's layout (no milliseconds kept for it).
    expect(Math.abs(Date.parse(erased!.erased_at!) - NOW.getTime())).toBeLessThan(1000);
    const kept = await sink.getEvent("links:e2");
    expect(kept?.erased_at).toBeNull();
    expect(kept).toMatchObject({ payload: { ip: "203.0.113.0", n: 2 }, visitor_hash: "h_even" });
    expect(await sink.countEvents()).toBe(10);
    expect(await sink.erasedRows("us")).toBe(5);
    expect(await sink.erasedRows("eu")).toBe(0);
    expect(await sink.countDeliveries()).toBe(2);
    expect(await sql(`SELECT toUnixTimestamp(erased_at) FROM ${database}.events WHERE event_key = 'links:e1'`)).toBe(
      String(NOW.getTime() / 1000),
    );
    // Counted once: erasing again touches nothing.
    expect(await sink.erasureTargets({ keys: ["links:e1", "links:e2"] })).toMatchObject([{ event_key: "links:e2" }]);
    expect(await sink.eraseEvents({ visitorHashes: ["h_odd"] }, NOW)).toEqual({ rows: 0, deliveries: 0, events: [] });
    expect(await sink.erasureTargets({ source: "links" })).toEqual([]);
    // The analytics count erased rows as before: erasure keeps the dimensions.
    expect(await sink.analytics({ groupBy: "country" })).toEqual(live);
  });

  it("erases by key and by source", async () => {
    await sink.insertBatch([row(0, "pay"), row(1, "pay")]);
    await sink.insertDeliveries([delivery(4, "pay:e0", 0), delivery(5, "pay:e0", 0)]);
    const byKey = await sink.eraseEvents({ keys: ["links:e4", "links:unknown"] }, NOW);
    expect(byKey.rows).toBe(1);
    expect(byKey.events.map((e) => e.event_key)).toEqual(["links:e4"]);

    const bySource = await sink.eraseEvents({ source: "pay" }, NOW);
    expect(bySource).toEqual({ rows: 2, deliveries: 2, events: [] });
    expect((await sink.getEvent("pay:e0"))?.payload).toEqual({});
    expect((await sink.getEvent("links:e0"))?.payload).toEqual({ ip: "203.0.113.0", n: 0 });
    expect(await sink.eraseEvents({ source: "pay" }, NOW)).toEqual({ rows: 0, deliveries: 0, events: [] });
    // A key erased before: its row is not counted again, a log entry written since is deleted.
    await sink.insertDeliveries([delivery(6, "links:e4", 0)]);
    expect(await sink.eraseEvents({ keys: ["links:e4"] }, NOW)).toEqual({ rows: 0, deliveries: 1, events: [] });
    expect(await sink.eraseEvents({ keys: [] }, NOW)).toEqual({ rows: 0, deliveries: 0, events: [] });
  });

  it("erases every stored copy of a key, merged or not, and counts the event once", async () => {
    // What a racing writer can leave behind: a second copy of the key in another part.
    await sql(`INSERT INTO ${database}.events SELECT * FROM ${database}.events WHERE event_key = 'links:e6'`);
    expect(await sql(`SELECT count() FROM ${database}.events WHERE event_key = 'links:e6'`)).toBe("2");

    const result = await sink.eraseEvents({ keys: ["links:e6"] }, NOW);

    expect(result.rows).toBe(1);
    expect(
      await sql(
        `SELECT count(), countIf(payload = '{}' AND ip_anon IS NULL AND visitor_hash IS NULL AND erased_at IS NOT NULL) FROM ${database}.events WHERE event_key = 'links:e6'`,
      ),
    ).toBe("2\t2");
  });

  it("erases large key lists in bounded statements", async () => {
    const keys = [...Array.from({ length: 1_000 }, (_, i) => `links:absent-${"x".repeat(200)}-${i}`), "links:e7"];
    const result = await sink.eraseEvents({ keys }, NOW);
    expect(result).toMatchObject({ rows: 1, deliveries: 0 });
    expect(result.events.map((e) => e.event_key)).toEqual(["links:e7"]);
  });

  it("loads new rows after an erasure (erased_at is NULL for them)", async () => {
    await sink.eraseEvents({ source: "links" }, NOW);
    const result = await sink.insertBatch([row(20), row(21)]);
    expect(result.inserted).toBe(2);
    expect((await sink.getEvent("links:e20"))?.visitor_hash).toBe("h_even");
    expect(await sink.erasedRows("us")).toBe(10);
    // An erased event sent again is a duplicate: its payload does not come back.
    expect(await sink.insertBatch([row(3)])).toEqual({ inserted: 0, duplicates: 1 });
    expect((await sink.getEvent("links:e3"))?.payload).toEqual({});
  });

  it("a mutation that never finishes fails the call as warehouse_unavailable after mutation_timeout_ms", async () => {
    const impatient = await ClickHouseSink.open(`${server.url(database)}?mutation_timeout_ms=300`);
    try {
      // A mutation the server keeps retrying: every later one on the table waits behind it.
      await sql(`ALTER TABLE ${database}.deliveries UPDATE error = toString(throwIf(log_seq > 0)) WHERE 1`);
      const err = await impatient.eraseEvents({ keys: ["links:e0"] }, NOW).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WarehouseError);
      expect(err).toMatchObject({ code: "warehouse_unavailable", message: expect.stringMatching(/system\.mutations/) });
    } finally {
      await impatient.close();
    }
  });

  it("migrate adds visitor_hash and erased_at to a table made before them", async () => {
    const old = `${database}_old`;
    await sql(`CREATE DATABASE ${old}`);
    await sql(clickHouseTableDdl(`${old}.events`, "epoch-ms"));
    for (const c of CLICKHOUSE_EXTRA_COLUMNS.filter((c) => c.name !== "visitor_hash"))
      await sql(`ALTER TABLE ${old}.events ADD COLUMN ${c.name} ${c.type}`);
    const oldSink = await ClickHouseSink.open(server.url(old));
    try {
      await oldSink.migrate();
      const columns = await sql(
        `SELECT name, type FROM system.columns WHERE database = '${old}' AND table = 'events' AND name IN ('visitor_hash', 'erased_at') ORDER BY name FORMAT TabSeparatedRaw`,
      );
      expect(columns).toBe("erased_at\tNullable(DateTime('UTC'))\nvisitor_hash\tNullable(String)");
      expect(await oldSink.insertBatch([row(1)])).toEqual({ inserted: 1, duplicates: 0 });
      expect(await oldSink.eraseEvents({ visitorHashes: ["h_odd"] }, NOW)).toMatchObject({ rows: 1 });
      expect(await oldSink.erasedRows("us")).toBe(1);
    } finally {
      await oldSink.close();
    }
  });
});
