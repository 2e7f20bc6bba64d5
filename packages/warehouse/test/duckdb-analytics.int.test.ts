import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DuckDbSink, type AnalyticsQuery, type RevenueQuery } from "../src/index.js";
import { ANALYTICS_QUERIES, REVENUE_QUERIES, analyticsRow, byKey, revenueByKey } from "./analytics-fixture.js";

const t = "coalesce(occurred_at, received_at)";
const isoOf = (sql: string) => `strftime(${sql} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ')`;
const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;

/** The query as a direct aggregation over the rows, written out here independently of the sink. */
function directWhere(q: Omit<AnalyticsQuery, "groupBy">): string {
  const w = ["TRUE"];
  if (q.sources) w.push(`source IN (${q.sources.map(lit).join(", ")})`);
  const eq: Array<[string, string | undefined]> = [
    ["event_type", q.type],
    ["campaign", q.campaign],
    ["geo_country", q.country],
    ["device_type", q.device],
    ["link_id", q.link],
    ["channel", q.channel],
    ["platform", q.platform],
    ["referrer_category", q.referrerCategory],
  ];
  for (const [column, v] of eq) if (v !== undefined) w.push(`${column} = ${lit(v)}`);
  if (q.includeBots === false) w.push("is_bot IS NOT TRUE");
  if (q.includeSuspicious === false) w.push("is_suspicious IS NOT TRUE");
  if (q.from) w.push(`date_trunc('minute', ${t}) >= '${q.from.toISOString()}'::TIMESTAMPTZ`);
  if (q.to) w.push(`date_trunc('minute', ${t}) < '${q.to.toISOString()}'::TIMESTAMPTZ`);
  return w.join(" AND ");
}

const KEY: Record<AnalyticsQuery["groupBy"], string> = {
  minute: isoOf(`date_trunc('minute', ${t})`),
  day: isoOf(`date_trunc('day', ${t})`),
  country: "geo_country",
  device: "device_type",
  campaign: "campaign",
  source: "source",
  type: "event_type",
  link: "link_id",
  channel: "channel",
  platform: "platform",
  referrer: "referrer_category",
};

async function direct(c: DuckDBConnection, q: AnalyticsQuery) {
  const rows = (
    await c.runAndReadAll(`SELECT ${KEY[q.groupBy]} AS key, count(*)::INT AS events,
      count(*) FILTER (WHERE is_unique)::INT AS "unique", count(*) FILTER (WHERE is_suspicious)::INT AS suspicious,
      coalesce(list(DISTINCT unique_rule) FILTER (WHERE is_unique AND unique_rule IS NOT NULL), []) AS unique_rules
      FROM events WHERE ${directWhere(q)} GROUP BY 1`)
  ).getRowObjectsJS();
  return byKey(
    rows.map((r) => ({ ...r, key: r.key as string | null, unique_rules: r.unique_rules as string[] }) as never),
  );
}

async function directRevenue(c: DuckDBConnection, q: RevenueQuery) {
  const rows = (
    await c.runAndReadAll(`SELECT campaign, currency, count(*)::INT AS conversions,
      rtrim(rtrim(sum(revenue::DECIMAL(38, 6))::VARCHAR, '0'), '.') AS revenue
      FROM events WHERE revenue IS NOT NULL AND ${directWhere(q)} GROUP BY ALL`)
  ).getRowObjectsJS();
  return revenueByKey(rows as never);
}

/** Each rollup summed per cell (folded or not, it reads the same), and the same cells made from the rows. */
async function rollupsAndRows(c: DuckDBConnection) {
  const read = async (sql: string) =>
    JSON.stringify((await c.runAndReadAll(sql)).getRowObjectsJS(), (_k, v: unknown) =>
      typeof v === "bigint" ? Number(v) : v,
    );
  const minuteDims = `source, event_type, campaign, country, device, channel, platform, referrer_category, unique_rule, is_bot, is_suspicious`;
  const rowDims = (time: string, link: boolean) =>
    `date_trunc('${time}', ${t})::VARCHAR AS ${time}, source, event_type, coalesce(campaign, '') AS campaign, ${
      link
        ? "coalesce(link_id, '') AS link_id"
        : "coalesce(geo_country, '') AS country, coalesce(device_type, '') AS device, coalesce(channel, '') AS channel, coalesce(platform, '') AS platform"
    }, coalesce(referrer_category, '') AS referrer_category, coalesce(unique_rule, '') AS unique_rule, coalesce(is_bot, false) AS is_bot, coalesce(is_suspicious, false) AS is_suspicious`;
  const counts = `count(*)::INT AS events, count(*) FILTER (WHERE is_unique)::INT AS u, count(*) FILTER (WHERE is_suspicious)::INT AS s`;
  const summed = `sum(events)::INT AS events, sum(unique_events)::INT AS u, sum(suspicious_events)::INT AS s`;
  const linkDims = `source, event_type, campaign, link_id, referrer_category, unique_rule, is_bot, is_suspicious`;
  return {
    minute: await read(
      `SELECT minute::VARCHAR AS minute, ${minuteDims}, ${summed} FROM events_rollup_minute GROUP BY ALL ORDER BY ALL`,
    ),
    minuteRows: await read(`SELECT ${rowDims("minute", false)}, ${counts} FROM events GROUP BY ALL ORDER BY ALL`),
    linkDay: await read(
      `SELECT day::VARCHAR AS day, ${linkDims}, ${summed} FROM events_rollup_link_day GROUP BY ALL ORDER BY ALL`,
    ),
    linkDayRows: await read(`SELECT ${rowDims("day", true)}, ${counts} FROM events GROUP BY ALL ORDER BY ALL`),
  };
}

describe("duckdb - analytics views equal a direct aggregation of the rows; rollups rebuild to the same", () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tributary-duckdb-analytics-"));
    path = join(dir, "w.duckdb");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Opens the file without the sink (one process may hold it once at a time). */
  async function raw<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const instance = await DuckDBInstance.create(path);
    const c = await instance.connect();
    try {
      await c.run("SET TimeZone = 'UTC'");
      return await fn(c);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  }

  /** Loads rows [from, to) in overlapping batches from two producers (resends included), asking analytics meanwhile. */
  async function loadConcurrently(sink: DuckDbSink, from: number, to: number): Promise<void> {
    const all = Array.from({ length: to - from }, (_, i) => analyticsRow(from + i));
    const producer = async (offset: number) => {
      for (let i = offset; i < all.length; i += 150) await sink.insertBatch(all.slice(Math.max(0, i - 40), i + 150));
    };
    let reading = true;
    const reader = (async () => {
      // Rollups commit with their rows: a view read between two counts lies between them.
      while (reading) {
        for (const groupBy of ["day", "link", "channel"] as const) {
          const before = await sink.countEvents();
          const total = (await sink.analytics({ groupBy, limit: 100_000 })).reduce((s, r) => s + r.events, 0);
          const after = await sink.countEvents();
          expect(total).toBeGreaterThanOrEqual(before);
          expect(total).toBeLessThanOrEqual(after);
        }
      }
    })();
    await Promise.all([producer(0), producer(75), sink.insertBatch(all.slice(0, 100))]);
    reading = false;
    await reader;
  }

  it("every view under every filter (rollup, daily link rollup or rows) equals SELECT … GROUP BY; revenue sums exactly; rebuild keeps the rollups", async () => {
    let sink = await DuckDbSink.open(path, { rollupFoldMinRows: 200 });
    await sink.migrate();
    await loadConcurrently(sink, 0, 3_000);
    expect(await sink.countEvents()).toBe(3_000);
    await sink.close();

    const expected = await raw(async (c) => ({
      views: await Promise.all(ANALYTICS_QUERIES.map((q) => direct(c, q))),
      revenue: await Promise.all(REVENUE_QUERIES.map((q) => directRevenue(c, q))),
      tables: await rollupsAndRows(c),
    }));
    expect(expected.tables.minute).toBe(expected.tables.minuteRows);
    expect(expected.tables.linkDay).toBe(expected.tables.linkDayRows);
    expect(expected.views.filter((v) => Object.keys(v).length === 0)).toEqual([]); // every filter matches rows
    expect(expected.revenue.filter((v) => Object.keys(v).length === 0)).toEqual([]);

    sink = await DuckDbSink.open(path);
    await sink.migrate();
    for (const [i, q] of ANALYTICS_QUERIES.entries())
      expect(byKey(await sink.analytics(q)), JSON.stringify(q)).toEqual(expected.views[i]);
    for (const [i, q] of REVENUE_QUERIES.entries())
      expect(revenueByKey(await sink.revenue(q)), JSON.stringify(q)).toEqual(expected.revenue[i]);
    const some = expected.views[ANALYTICS_QUERIES.findIndex((q) => q.groupBy === "day")]!;
    expect(Object.values(some).flatMap((r) => r.unique_rules)).toContain("per_link_1h");

    // A rebuild of everything with nothing loading: the same tables.
    const rebuilt = await sink.rebuildRollups();
    expect(rebuilt.tables.map((x) => x.table)).toEqual(["events_rollup_minute", "events_rollup_link_day"]);
    expect(rebuilt.since).toBeNull();
    await sink.close();
    const after = await raw(rollupsAndRows);
    expect(after).toEqual(expected.tables);

    // A rebuild from a minute on while producers load more: still the rows' counts, view by view.
    sink = await DuckDbSink.open(path, { rollupFoldMinRows: 200 });
    await sink.migrate();
    const since = new Date("2026-11-28T11:03:30Z");
    const [partial] = await Promise.all([sink.rebuildRollups({ since }), loadConcurrently(sink, 2_500, 4_000)]);
    expect(partial.since).toBe("2026-11-28T11:03:00.000Z");
    const answers = [];
    for (const q of ANALYTICS_QUERIES) answers.push(await sink.analytics(q));
    await sink.close();
    const final = await raw(async (c) => ({
      tables: await rollupsAndRows(c),
      views: await Promise.all(ANALYTICS_QUERIES.map((q) => direct(c, q))),
    }));
    expect(final.tables.minute).toBe(final.tables.minuteRows);
    expect(final.tables.linkDay).toBe(final.tables.linkDayRows);
    for (const [i, a] of answers.entries())
      expect(byKey(a), JSON.stringify(ANALYTICS_QUERIES[i])).toEqual(final.views[i]);
  });

  it("a rollup that drifted from the rows (a bug since fixed) is put right by a rebuild from the minute it went wrong", async () => {
    let sink = await DuckDbSink.open(path);
    await sink.migrate();
    await sink.insertBatch(Array.from({ length: 600 }, (_, i) => analyticsRow(i)));
    await sink.close();
    await raw(async (c) => {
      await c.run("UPDATE events_rollup_minute SET events = events + 5 WHERE minute >= '2026-11-29 12:00:00+00'");
      await c.run("DELETE FROM events_rollup_link_day WHERE day >= '2026-11-29 00:00:00+00'");
    });
    sink = await DuckDbSink.open(path);
    await sink.migrate();
    const total = async () => (await sink.analytics({ groupBy: "day" })).reduce((s, r) => s + r.events, 0);
    expect(await total()).not.toBe(600);
    await sink.rebuildRollups({ since: new Date("2026-11-29T09:00:00Z") });
    expect(await total()).toBe(600);
    expect((await sink.analytics({ groupBy: "link", limit: 100 })).reduce((s, r) => s + r.events, 0)).toBe(600);
    await sink.close();
    const tables = await raw(rollupsAndRows);
    expect(tables.minute).toBe(tables.minuteRows);
    expect(tables.linkDay).toBe(tables.linkDayRows);
  });
});
