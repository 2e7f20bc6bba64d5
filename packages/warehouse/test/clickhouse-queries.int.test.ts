import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyEnrichment, type WarehouseRow } from "@tributary/schema";
import { startClickHouse, type ClickHouseTestServer } from "@tributary/testkit";
import { ClickHouseSink } from "../src/index.js";

function row(n: number, source = "demo"): WarehouseRow {
  return {
    event_key: `${source}:e${n}`,
    source,
    event_id: `e${n}`,
    event_type: "link.clicked",
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
      ip_anon: "203.0.113.0",
    },
  };
}

describe("clickhouse sink - enriched columns and queries (real server)", () => {
  let server: ClickHouseTestServer;
  let sink: ClickHouseSink;
  beforeAll(async () => {
    server = await startClickHouse();
    sink = await ClickHouseSink.open(server.url("q1"));
    await sink.migrate();
  });
  afterAll(async () => {
    await sink?.close();
    await server?.dispose();
  });

  it("clickhouse - analytics equal count() of distinct rows after resends; pages by load_seq; filters; scope", async () => {
    const all = Array.from({ length: 200 }, (_, i) => row(i));
    await sink.insertBatch(all.slice(0, 120));
    await sink.insertBatch(all.slice(60, 200));
    await sink.insertBatch(all.slice(0, 50));
    await sink.insertBatch(Array.from({ length: 10 }, (_, i) => row(i, "other")));
    expect(await sink.countEvents({ source: "demo" })).toBe(200);
    const byMinute = await sink.analytics({ groupBy: "minute", sources: ["demo"] });
    expect(byMinute.reduce((s, r) => s + r.events, 0)).toBe(200);
    expect(byMinute[0]).toMatchObject({ key: "2026-11-29T12:00:00.000Z", events: 40 });
    expect((await sink.analytics({ groupBy: "day", sources: ["demo"] }))[0]).toEqual({
      key: "2026-11-29T00:00:00.000Z",
      events: 200,
      unique: 50,
      suspicious: 29,
      unique_rules: [],
    });
    expect(
      Object.fromEntries(
        (await sink.analytics({ groupBy: "country", sources: ["demo"] })).map((r) => [r.key, r.events]),
      ),
    ).toEqual({ US: 100, DE: 100 });

    const seen: string[] = [];
    let after: number | undefined;
    for (;;) {
      const page = await sink.listEvents({ sources: ["demo"] }, { limit: 33, startingAfter: after });
      seen.push(...page.rows.map((r) => r.event_key));
      if (!page.hasMore) break;
      after = page.rows.at(-1)!.load_seq;
    }
    expect(new Set(seen).size).toBe(200);
    expect(seen).toHaveLength(200);
    const us = await sink.listEvents({ sources: ["demo"], country: "US", isUnique: false, link: "l1" }, { limit: 500 });
    expect(us.rows.length).toBeGreaterThan(0);
    for (const r of us.rows)
      expect(r).toMatchObject({ geo_country: "US", is_unique: false, link_id: "l1", ip_anon: "203.0.113.0" });
    expect(await sink.getEvent("demo:e3")).toMatchObject({
      event_key: "demo:e3",
      geo_country: "US",
      payload: { data: { link_id: "l3" } },
      is_suspicious: false,
    });
    expect(await sink.getEvent("demo:none")).toBeUndefined();
    expect(await sink.freshness(["demo"])).toMatch(/Z$/);
    expect(await sink.freshness(["nobody"])).toBeNull();
    expect((await sink.listEvents({ sources: [] }, { limit: 5 })).rows).toEqual([]);
  });
});
