import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { emptyEnrichment, type EnrichedFields, type WarehouseRow } from "@tributary/schema";
import { columnsOfRows, concatColumns, DuckDbSink, pickColumns, rowOfColumns } from "../src/index.js";

function row(n: number, over: Partial<EnrichedFields> = {}, source = "demo"): WarehouseRow {
  return {
    event_key: `${source}:e${n}`,
    source,
    event_id: `e${n}`,
    event_type: n % 3 === 0 ? "install.tracked" : "link.clicked",
    schema_version: null,
    occurred_at: new Date(Date.UTC(2026, 10, 29, 12, n % 5, 7)),
    received_at: new Date(Date.UTC(2026, 10, 29, 12, n % 5, 9)),
    region: "us",
    region_seq: n,
    payload: JSON.stringify({ event: "link.clicked", data: { link_id: `l${n % 4}` } }),
    enriched: {
      ...emptyEnrichment(),
      link_id: `l${n % 4}`,
      campaign: n % 2 ? "spring" : null,
      geo_country: n % 2 ? "US" : "DE",
      device_type: "mobile",
      is_unique: n % 4 === 0,
      is_suspicious: n % 7 === 0,
      unique_rule: "per_link_24h",
      ...over,
    },
  };
}

describe("duckdb sink - enriched columns, rollups, queries", () => {
  let dir: string;
  let sink: DuckDbSink;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "tributary-duckdb-q-"));
    sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    await sink.migrate();
  });
  afterEach(async () => {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("rollups - equal count(*) after resends and overlapping batches, by every dimension", async () => {
    const all = Array.from({ length: 200 }, (_, i) => row(i));
    await sink.insertBatch(all.slice(0, 120));
    await sink.insertBatch(all.slice(60, 200)); // overlaps: 60 duplicates
    await sink.insertBatch(all.slice(0, 50)); // a replay: all duplicates
    await sink.insertBatch([...all.slice(190), ...all.slice(190)]); // duplicates inside one batch
    expect(await sink.countEvents()).toBe(200);
    const byMinute = await sink.analytics({ groupBy: "minute" });
    expect(byMinute.reduce((s, r) => s + r.events, 0)).toBe(200);
    expect(byMinute).toHaveLength(5);
    expect(byMinute[0]).toMatchObject({ key: "2026-11-29T12:00:00.000Z", events: 40 });
    const byCountry = await sink.analytics({ groupBy: "country" });
    expect(Object.fromEntries(byCountry.map((r) => [r.key, r.events]))).toEqual({ US: 100, DE: 100 });
    const byCampaign = await sink.analytics({ groupBy: "campaign" });
    expect(Object.fromEntries(byCampaign.map((r) => [r.key ?? "none", r.events]))).toEqual({ spring: 100, none: 100 });
    const unique = (await sink.analytics({ groupBy: "day" }))[0]!;
    expect(unique).toEqual({
      key: "2026-11-29T00:00:00.000Z",
      events: 200,
      unique: 50,
      suspicious: 29,
      unique_rules: ["per_link_24h"],
    });
    const filtered = await sink.analytics({ groupBy: "device", country: "US", type: "link.clicked" });
    expect(filtered[0]?.events).toBe(
      all.filter((r) => r.enriched!.geo_country === "US" && r.event_type === "link.clicked").length,
    );
  });

  it("rollups - folding appended increments keeps every sum and leaves one row per cell", async () => {
    await sink.close();
    sink = await DuckDbSink.open(join(dir, "w.duckdb"), { rollupFoldMinRows: 10 });
    await sink.migrate();
    const all = Array.from({ length: 200 }, (_, i) => row(i));
    for (let i = 0; i < 200; i += 20) await sink.insertBatch(all.slice(i, i + 20)); // folds on the way
    await sink.insertBatch(all.slice(0, 30)); // known keys: the staged path adds nothing
    const byDay = (await sink.analytics({ groupBy: "day" }))[0]!;
    expect(byDay).toEqual({
      key: "2026-11-29T00:00:00.000Z",
      events: 200,
      unique: 50,
      suspicious: 29,
      unique_rules: ["per_link_24h"],
    });
    await sink.close();
    const instance = await DuckDBInstance.create(join(dir, "w.duckdb"));
    const c = await instance.connect();
    const cells = await c.runAndReadAll(
      "SELECT count(*)::INTEGER AS rows, count(DISTINCT (minute, source, event_type, campaign, country, device, channel, platform, referrer_category, unique_rule, is_bot, is_suspicious))::INTEGER AS cells FROM events_rollup_minute",
    );
    const { rows, cells: distinct } = cells.getRowObjectsJS()[0] as { rows: number; cells: number };
    expect(rows).toBeLessThan(distinct * 2); // folded at least once since most rows came in
    c.closeSync();
    instance.closeSync();
    sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    await sink.migrate();
  });

  it("migrate - a rollup of an older shape (fewer dimensions, upserted under a primary key) is made anew from the rows", async () => {
    await sink.insertBatch(Array.from({ length: 20 }, (_, i) => row(i)));
    await sink.close();
    const path = join(dir, "w.duckdb");
    const instance = await DuckDBInstance.create(path);
    const c = await instance.connect();
    await c.run("DROP TABLE events_rollup_minute");
    await c.run(`CREATE TABLE events_rollup_minute (minute TIMESTAMPTZ NOT NULL, source VARCHAR NOT NULL,
      event_type VARCHAR NOT NULL, campaign VARCHAR NOT NULL, country VARCHAR NOT NULL, device VARCHAR NOT NULL,
      events BIGINT NOT NULL, unique_events BIGINT NOT NULL, suspicious_events BIGINT NOT NULL,
      PRIMARY KEY (minute, source, event_type, campaign, country, device))`);
    await c.run(
      `INSERT INTO events_rollup_minute VALUES ('2026-11-29 11:00:00+00', 'demo', 'link.clicked', '', 'US', 'mobile', 5, 1, 0)`,
    );
    c.closeSync();
    instance.closeSync();
    sink = await DuckDbSink.open(path);
    await sink.migrate();
    expect((await sink.analytics({ groupBy: "day" }))[0]).toMatchObject({ events: 20, unique: 5 });
    await sink.insertBatch([row(21)]);
    await sink.insertBatch([row(41)]); // the same cell as row 21: a keyed table would refuse the second append
    const byDay = (await sink.analytics({ groupBy: "day" }))[0]!;
    expect(byDay).toMatchObject({ key: "2026-11-29T00:00:00.000Z", events: 22 });
  });

  it("events - filters, pages newest first by load_seq, get by key", async () => {
    await sink.insertBatch(Array.from({ length: 50 }, (_, i) => row(i)));
    await sink.insertBatch(Array.from({ length: 10 }, (_, i) => row(i, {}, "other")));
    const seen: string[] = [];
    let after: number | undefined;
    for (;;) {
      const page = await sink.listEvents({ sources: ["demo"] }, { limit: 7, startingAfter: after });
      seen.push(...page.rows.map((r) => r.event_key));
      for (let i = 1; i < page.rows.length; i++)
        expect(page.rows[i]!.load_seq).toBeLessThan(page.rows[i - 1]!.load_seq);
      if (!page.hasMore) break;
      after = page.rows.at(-1)!.load_seq;
    }
    expect(seen).toHaveLength(50);
    expect(new Set(seen).size).toBe(50);
    const us = await sink.listEvents(
      { sources: ["demo", "other"], country: "US", isUnique: false, link: "l1" },
      { limit: 100 },
    );
    expect(us.rows.length).toBeGreaterThan(0);
    for (const r of us.rows) expect(r).toMatchObject({ geo_country: "US", is_unique: false, link_id: "l1" });
    expect((await sink.listEvents({ sources: [] }, { limit: 10 })).rows).toHaveLength(0);
    const ranged = await sink.listEvents(
      { occurredFrom: new Date(Date.UTC(2026, 10, 29, 12, 1)), occurredTo: new Date(Date.UTC(2026, 10, 29, 12, 2)) },
      { limit: 100 },
    );
    expect(ranged.rows).toHaveLength(12);
    const one = await sink.getEvent("demo:e3");
    expect(one).toMatchObject({
      event_key: "demo:e3",
      event_type: "install.tracked",
      geo_country: "US",
      payload: { data: { link_id: "l3" } },
    });
    expect(await sink.getEvent("demo:nope")).toBeUndefined();
    expect(await sink.freshness(["demo"])).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await sink.freshness(["nobody"])).toBeNull();
  });

  it("migrate - a file from before enrichment gains the columns, load sequence and rollups of its rows", async () => {
    await sink.close();
    const path = join(dir, "old.duckdb");
    const instance = await DuckDBInstance.create(path);
    const c = await instance.connect();
    await c.run(`CREATE TABLE events (event_key VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, event_id VARCHAR NOT NULL, event_type VARCHAR NOT NULL,
      schema_version VARCHAR, occurred_at TIMESTAMPTZ, received_at TIMESTAMPTZ NOT NULL, loaded_at TIMESTAMPTZ NOT NULL, region VARCHAR NOT NULL,
      region_seq UBIGINT NOT NULL, payload JSON NOT NULL)`);
    await c.run(
      `INSERT INTO events VALUES ('demo:old', 'demo', 'old', 'link.clicked', NULL, NULL, now(), now(), 'us', 1, '{}')`,
    );
    c.closeSync();
    instance.closeSync();
    sink = await DuckDbSink.open(path);
    await sink.migrate();
    await sink.insertBatch([row(1)]);
    const page = await sink.listEvents({}, { limit: 10 });
    expect(page.rows.map((r) => [r.event_key, r.load_seq])).toEqual([
      ["demo:e1", 2],
      ["demo:old", 1],
    ]);
    expect((await sink.analytics({ groupBy: "source" }))[0]).toMatchObject({ key: "demo", events: 2 });
  });
});

describe("duckdb sink - rows given column by column (insertColumns, data chunks)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tributary-duckdb-cols-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Every column of every row, as text, in key order. */
  async function dump(path: string): Promise<unknown[]> {
    const instance = await DuckDBInstance.create(path);
    const c = await instance.connect();
    const read = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjectsJS();
    const events = await read(
      "SELECT * EXCLUDE (loaded_at) REPLACE (occurred_at::VARCHAR AS occurred_at, received_at::VARCHAR AS received_at, payload::VARCHAR AS payload, campaign_meta::VARCHAR AS campaign_meta) FROM events ORDER BY event_key",
    );
    const rollup = await read(
      "SELECT minute::VARCHAR AS minute, source, event_type, campaign, country, device, sum(events)::INT AS e, sum(unique_events)::INT AS u, sum(suspicious_events)::INT AS s FROM events_rollup_minute GROUP BY ALL ORDER BY ALL",
    );
    c.closeSync();
    instance.closeSync();
    return JSON.parse(JSON.stringify([events, rollup], (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v)));
  }

  it("the same rows, NULLs and flags as insertBatch, over more than one chunk, with duplicates in a batch and known keys (the staged path)", async () => {
    const all = Array.from({ length: 5_000 }, (_, i) =>
      row(i, {
        is_unique: i % 5 === 0 ? null : i % 2 === 0,
        is_bot: i % 3 === 0 ? null : i % 3 === 1,
        suspicious_reason: i % 7 === 0 ? "burst" : null,
        campaign_meta: i % 11 === 0 ? '{"name":"ü ✓"}' : null,
        os_name: i % 13 === 0 ? "Ünïcødé 𝔘" : null,
      }),
    );
    all[3] = { ...all[3]!, occurred_at: null, schema_version: "1.0" };
    delete all[4]!.enriched;
    const batches = [all.slice(0, 3_000), [...all.slice(2_500, 5_000), ...all.slice(4_990)]];
    const paths = [join(dir, "rows.duckdb"), join(dir, "columns.duckdb")];
    for (const [k, path] of paths.entries()) {
      const sink = await DuckDbSink.open(path);
      await sink.migrate();
      for (const batch of batches) await (k === 0 ? sink.insertBatch(batch) : sink.insertColumns(columnsOfRows(batch)));
      await sink.close();
    }
    const [rows, columns] = [await dump(paths[0]!), await dump(paths[1]!)];
    expect(columns).toEqual(rows);
    const events = (rows as unknown[][])[0] as Array<Record<string, unknown>>;
    expect(events).toHaveLength(5_000);
    const third = events.find((e) => e.event_key === "demo:e3")!;
    expect([third.occurred_at, third.schema_version]).toEqual([null, "1.0"]);
    expect(events.find((e) => e.event_key === "demo:e4")!.link_id).toBeNull();
    expect(events.find((e) => e.event_key === "demo:e13")!.os_name).toBe("Ünïcødé 𝔘");
  });

  it("columns round-trip: rowOfColumns gives back the rows, pickColumns a subset in the order asked", () => {
    const rows = [row(1), { ...row(2), occurred_at: null }, row(3, { is_bot: true, is_unique: null })];
    const cols = columnsOfRows(rows);
    expect(rows.map((_, i) => rowOfColumns(cols, i))).toEqual(rows);
    const picked = pickColumns(cols, [2, 0]);
    expect([rowOfColumns(picked, 0), rowOfColumns(picked, 1)]).toEqual([rows[2], rows[0]]);
    expect(rowOfColumns(concatColumns([picked, cols]), 3)).toEqual(rows[1]);
  });
});
