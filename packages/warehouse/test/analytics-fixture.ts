// Rows and queries shared by the analytics tests of both sinks: every dimension a view groups or
// filters by varies, some rows lack it (NULL), and event times spread over three UTC days.
import { emptyEnrichment, type WarehouseRow } from "@tributary/schema";
import type { AnalyticsGroup, AnalyticsQuery, AnalyticsRow, RevenueRow } from "../src/index.js";

const REFERRERS = ["search", "social", "email", "direct", "internal", "other", null];

export function analyticsRow(n: number, source = "demo"): WarehouseRow {
  const revenue = n % 5 === 0 ? `${n % 100}.${n % 7}9` : null;
  const isUnique = n % 3 === 0 ? null : n % 2 === 0;
  return {
    event_key: `${source}:e${n}`,
    source,
    event_id: `e${n}`,
    event_type: revenue ? "conversion.tracked" : "link.clicked",
    schema_version: null,
    occurred_at: n % 17 === 0 ? null : new Date(Date.UTC(2026, 10, 27 + (n % 3), 10 + (n % 5), n % 7, 7)),
    received_at: new Date(Date.UTC(2026, 10, 27 + (n % 3), 11, n % 11, 9)),
    region: "us",
    region_seq: n,
    payload: JSON.stringify({ event: "link.clicked", data: { n } }),
    enriched: {
      ...emptyEnrichment(),
      link_id: n % 10 === 9 ? null : `l${n % 10}`,
      campaign: n % 4 === 0 ? null : `c${n % 3}`,
      geo_country: ["US", "DE", "FR"][n % 3]!,
      device_type: ["mobile", "desktop", "bot", "tablet"][n % 4]!,
      is_bot: n % 11 === 0 ? null : n % 4 === 2,
      is_suspicious: n % 13 === 0,
      referrer_category: REFERRERS[n % 7]!,
      channel: ["email", "social", null][n % 3]!,
      platform: ["ios", "android", "web", null][n % 4]!,
      is_unique: isUnique,
      unique_rule: isUnique === null ? null : n % 1000 < 500 ? "per_link_24h" : "per_link_1h",
      revenue,
      currency: revenue ? (n % 2 ? "USD" : "EUR") : null,
    },
  };
}

const GROUPS: AnalyticsGroup[] = [
  "minute",
  "day",
  "country",
  "device",
  "campaign",
  "source",
  "type",
  "link",
  "channel",
  "platform",
  "referrer",
];

const FILTERS: Array<Omit<AnalyticsQuery, "groupBy">> = [
  {},
  { includeBots: false },
  { includeSuspicious: false, referrerCategory: "social" },
  // Whole days: the per-link daily rollup answers; a range inside a day: the rows do.
  { link: "l3", from: new Date("2026-11-28T00:00:00Z"), to: new Date("2026-11-29T00:00:00Z") },
  { link: "l3", from: new Date("2026-11-28T10:30:00Z") },
  { campaign: "c1", includeBots: false, from: new Date("2026-11-27T11:00:00Z"), to: new Date("2026-11-29T12:00:00Z") },
  { channel: "email", platform: "ios", includeSuspicious: false },
  { sources: ["demo"], type: "link.clicked", country: "US", device: "mobile" },
];

/** Every view under every filter set, to compare with a direct aggregation of the rows. */
export const ANALYTICS_QUERIES: AnalyticsQuery[] = GROUPS.flatMap((groupBy) =>
  FILTERS.map((f) => ({ ...f, groupBy, limit: 100_000 })),
);

export const REVENUE_QUERIES = [
  {},
  { includeBots: false, includeSuspicious: false },
  { campaign: "c2", from: new Date("2026-11-28T00:00:00Z") },
];

/** An answer as a map from key, for comparison regardless of order. */
export const byKey = (rows: readonly AnalyticsRow[]) =>
  Object.fromEntries(rows.map((r) => [String(r.key), { ...r, unique_rules: [...r.unique_rules].sort() }]));

export const revenueByKey = (rows: readonly RevenueRow[]) =>
  Object.fromEntries(rows.map((r) => [`${r.campaign}/${r.currency}`, r]));
