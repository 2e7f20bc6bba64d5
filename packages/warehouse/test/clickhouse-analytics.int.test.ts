import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClickHouse, type ClickHouseTestServer } from "@tributary/testkit";
import { ClickHouseSink, type AnalyticsQuery, type RevenueQuery } from "../src/index.js";
import { ANALYTICS_QUERIES, REVENUE_QUERIES, analyticsRow, byKey, revenueByKey } from "./analytics-fixture.js";

const lit = (v: string) => `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

describe("clickhouse - analytics views equal a direct aggregation of the rows (real server)", () => {
  let server: ClickHouseTestServer;
  let sink: ClickHouseSink;
  let eventMs: string;
  beforeAll(async () => {
    server = await startClickHouse();
    sink = await ClickHouseSink.open(server.url("views"));
    await sink.migrate();
    const { layout } = await sink.server();
    eventMs =
      layout === "datetime64"
        ? "ifNull(toUnixTimestamp64Milli(occurred_at), toUnixTimestamp64Milli(received_at))"
        : "ifNull(occurred_at_ms, received_at_ms)";
  });
  afterAll(async () => {
    await sink?.close();
    await server?.dispose();
  });

  async function sql(text: string): Promise<Array<Record<string, unknown>>> {
    const res = await fetch(
      `http://127.0.0.1:${server.httpPort}/?query=${encodeURIComponent(`${text} FORMAT JSONEachRow`)}`,
    );
    const body = await res.text();
    if (!res.ok) throw new Error(body);
    return body
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** The query over `events FINAL`, written out here independently of the sink. */
  function where(q: Omit<AnalyticsQuery, "groupBy">): string {
    const w = ["1"];
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
    if (q.includeBots === false) w.push("(is_bot IS NULL OR is_bot = 0)");
    if (q.includeSuspicious === false) w.push("(is_suspicious IS NULL OR is_suspicious = 0)");
    const minute = `intDiv(${eventMs}, 60000) * 60000`;
    if (q.from) w.push(`${minute} >= ${q.from.getTime()}`);
    if (q.to) w.push(`${minute} < ${q.to.getTime()}`);
    return w.join(" AND ");
  }

  async function direct(q: AnalyticsQuery) {
    const keys: Record<AnalyticsQuery["groupBy"], string> = {
      minute: `toString(intDiv(${eventMs}, 60000) * 60000)`,
      day: `toString(intDiv(${eventMs}, 86400000) * 86400000)`,
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
    const rows = await sql(`SELECT ${keys[q.groupBy]} AS key, count() AS events,
        sum(is_unique IS NOT NULL AND is_unique = 1) AS unique, sum(is_suspicious IS NOT NULL AND is_suspicious = 1) AS suspicious,
        groupUniqArrayIf(assumeNotNull(unique_rule), is_unique IS NOT NULL AND is_unique = 1 AND unique_rule IS NOT NULL) AS unique_rules
      FROM views.events FINAL WHERE ${where(q)} GROUP BY key`);
    const time = q.groupBy === "minute" || q.groupBy === "day";
    return byKey(
      rows.map((r) => ({
        key: r.key === null ? null : time ? new Date(Number(r.key)).toISOString() : String(r.key),
        events: Number(r.events),
        unique: Number(r.unique),
        suspicious: Number(r.suspicious),
        unique_rules: r.unique_rules as string[],
      })),
    );
  }

  async function directRevenue(q: RevenueQuery) {
    const rows =
      await sql(`SELECT campaign, currency, count() AS conversions, toString(sum(toDecimal128(assumeNotNull(revenue), 6))) AS total
      FROM views.events FINAL WHERE revenue IS NOT NULL AND ${where(q)} GROUP BY campaign, currency`);
    return revenueByKey(
      rows.map((r) => ({
        campaign: r.campaign as string | null,
        currency: r.currency as string | null,
        conversions: Number(r.conversions),
        revenue: String(r.total).replace(/\.?0+$/, ""),
      })),
    );
  }

  it("every view under every filter equals SELECT … GROUP BY over events FINAL, loading concurrently; rebuild has no stored rollup to change", async () => {
    const all = Array.from({ length: 3_000 }, (_, i) => analyticsRow(i));
    const producer = async (offset: number) => {
      for (let i = offset; i < all.length; i += 300) await sink.insertBatch(all.slice(Math.max(0, i - 80), i + 300));
    };
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const before = await sink.countEvents();
        const total = (await sink.analytics({ groupBy: "link", limit: 100_000 })).reduce((s, r) => s + r.events, 0);
        expect(total).toBeGreaterThanOrEqual(before);
        expect(total).toBeLessThanOrEqual(await sink.countEvents());
      }
    })();
    await Promise.all([producer(0), producer(150), sink.insertBatch(all.slice(0, 200))]);
    reading = false;
    await reader;
    expect(await sink.countEvents()).toBe(3_000);

    const answers = [];
    for (const q of ANALYTICS_QUERIES) {
      const answer = byKey(await sink.analytics(q));
      expect(answer, JSON.stringify(q)).toEqual(await direct(q));
      expect(Object.keys(answer).length, JSON.stringify(q)).toBeGreaterThan(0);
      answers.push(answer);
    }
    for (const q of REVENUE_QUERIES) {
      const answer = revenueByKey(await sink.revenue(q));
      expect(answer, JSON.stringify(q)).toEqual(await directRevenue(q));
      expect(Object.keys(answer).length).toBeGreaterThan(0);
    }

    expect(await sink.rebuildRollups({ since: new Date("2026-11-28T11:03:30Z") })).toMatchObject({
      since: "2026-11-28T11:03:00.000Z",
      tables: [],
    });
    for (const [i, q] of ANALYTICS_QUERIES.entries()) expect(byKey(await sink.analytics(q))).toEqual(answers[i]);
  });
});
