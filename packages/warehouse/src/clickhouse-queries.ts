import { ENRICHED_COLUMNS, type EnrichedFields } from "@tributary/schema";
import { sqlString, type ClickHouseLayout } from "./clickhouse-schema.js";
import type {
  AnalyticsFilter,
  AnalyticsQuery,
  AnalyticsRow,
  EventFilter,
  EventListPage,
  EventQueries,
  QueriedEvent,
  RevenueQuery,
  RevenueRow,
} from "./query.js";
import { AMOUNT_PATTERN, canonicalDecimal } from "./query.js";

/** Columns the events table gains for enrichment and paging, added by migrate() when missing. */
export const CLICKHOUSE_EXTRA_COLUMNS: ReadonlyArray<{ name: string; type: string }> = [
  ...ENRICHED_COLUMNS.map((c) => ({
    name: c.name,
    type: c.type === "boolean" ? "Nullable(UInt8)" : "Nullable(String)",
  })),
  { name: "load_seq", type: "UInt64" },
];

export const CLICKHOUSE_EXTRA_NAMES = CLICKHOUSE_EXTRA_COLUMNS.map((c) => c.name);

const j = JSON.stringify;

/** The JSONEachRow fields of the enriched columns and the load sequence (every one is sent: 18.16 fills omitted ones with zeros). */
export function encodeExtra(enriched: EnrichedFields | undefined, loadSeq: number): string {
  let out = "";
  for (const c of ENRICHED_COLUMNS) {
    const v = enriched?.[c.name] ?? null;
    out += `,"${c.name}":${v === null ? "null" : typeof v === "boolean" ? (v ? 1 : 0) : j(v)}`;
  }
  return `${out},"load_seq":${loadSeq}`;
}

/** Millisecond expressions of the layout's instants. */
function times(layout: ClickHouseLayout): { occurred: string; received: string; loaded: string; erased: string } {
  return layout === "datetime64"
    ? {
        occurred: "toUnixTimestamp64Milli(occurred_at)",
        received: "toUnixTimestamp64Milli(received_at)",
        loaded: "toUnixTimestamp64Milli(loaded_at)",
        erased: "toUnixTimestamp64Milli(erased_at)",
      }
    : // erased_at is whole seconds there (nothing reads its milliseconds).
      {
        occurred: "occurred_at_ms",
        received: "received_at_ms",
        loaded: "loaded_at_ms",
        erased: "toUnixTimestamp(erased_at) * 1000",
      };
}

/** The enriched columns of a JSONEachRow row, typed as the schema declares them. */
function enrichedOf(r: Record<string, unknown>): EnrichedFields {
  const out: Record<string, string | boolean | null> = {};
  for (const c of ENRICHED_COLUMNS) out[c.name] = c.type === "boolean" ? bool(r[c.name]) : str(r[c.name]);
  return out as unknown as EnrichedFields;
}

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(Number(v)).toISOString());
const bool = (v: unknown) => (v === null || v === undefined ? null : Number(v) === 1);
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const eventMs = (t: ReturnType<typeof times>) => `ifNull(${t.occurred}, ${t.received})`;

type Run = (sql: string) => Promise<Array<Record<string, unknown>>>;

/**
 * The query API's reads on ClickHouse. Every read of rows uses FINAL (one row per key however
 * many copies are unmerged); analytics aggregate the deduplicated rows at query time, so they
 * always equal count() over the distinct rows — a materialized view would count every inserted
 * copy (it sees blocks, not the ReplacingMergeTree's merge result) and could drift above it.
 * 18.16 has no query parameters: values are inlined as escaped literals (sqlString).
 */
export class ClickHouseQueries implements EventQueries {
  constructor(
    private readonly run: Run,
    private readonly table: string,
    private readonly layout: () => Promise<ClickHouseLayout>,
  ) {}

  #where(filter: EventFilter, t: ReturnType<typeof times>): string[] {
    const w: string[] = [];
    if (filter.sources !== undefined)
      w.push(filter.sources.length ? `source IN (${filter.sources.map(sqlString).join(", ")})` : "0");
    const eq = (column: string, v: string | undefined) => v !== undefined && w.push(`${column} = ${sqlString(v)}`);
    eq("event_type", filter.type);
    eq("link_id", filter.link);
    eq("campaign", filter.campaign);
    eq("geo_country", filter.country);
    eq("device_type", filter.device);
    if (filter.isUnique !== undefined) w.push(`ifNull(is_unique, 0) = ${filter.isUnique ? 1 : 0}`);
    if (filter.isSuspicious !== undefined) w.push(`ifNull(is_suspicious, 0) = ${filter.isSuspicious ? 1 : 0}`);
    if (filter.includeBots === false) w.push("ifNull(is_bot, 0) = 0");
    if (filter.includeSuspicious === false) w.push("ifNull(is_suspicious, 0) = 0");
    eq("referrer_category", filter.referrerCategory);
    const ms = (column: string, op: string, d: Date | undefined) =>
      d !== undefined && w.push(`${column} ${op} ${d.getTime()}`);
    ms(t.occurred, ">=", filter.occurredFrom);
    ms(t.occurred, "<", filter.occurredTo);
    ms(t.received, ">=", filter.receivedFrom);
    ms(t.received, "<", filter.receivedTo);
    return w;
  }

  async #select(where: string[], tail: string): Promise<QueriedEvent[]> {
    const t = times(await this.layout());
    const rows = await this.run(
      `SELECT event_key, source, event_id, event_type, schema_version, ${t.occurred} AS occurred_ms, ${t.received} AS received_ms,
              ${t.loaded} AS loaded_ms, region, region_seq, payload, ${CLICKHOUSE_EXTRA_NAMES.join(", ")},
              ${t.erased} AS erased_ms
       FROM ${this.table} FINAL ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ${tail} FORMAT JSONEachRow`,
    );
    return rows.map((r) => ({
      event_key: String(r.event_key),
      source: String(r.source),
      event_id: String(r.event_id),
      event_type: String(r.event_type),
      schema_version: str(r.schema_version),
      occurred_at: iso(r.occurred_ms),
      received_at: iso(r.received_ms)!,
      loaded_at: iso(r.loaded_ms)!,
      region: String(r.region),
      region_seq: Number(r.region_seq),
      payload: parsePayload(String(r.payload)),
      ...enrichedOf(r),
      load_seq: Number(r.load_seq),
      erased_at: iso(r.erased_ms),
    }));
  }

  async listEvents(
    filter: EventFilter,
    page: { limit: number; startingAfter?: number | undefined },
  ): Promise<EventListPage> {
    const t = times(await this.layout());
    const where = this.#where(filter, t);
    if (page.startingAfter !== undefined) where.push(`load_seq < ${Math.trunc(page.startingAfter)}`);
    const limit = Math.max(1, Math.trunc(page.limit));
    const rows = await this.#select(where, `ORDER BY load_seq DESC LIMIT ${limit + 1}`);
    return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
  }

  async getEvent(key: string): Promise<QueriedEvent | undefined> {
    return (await this.#select([`event_key = ${sqlString(key)}`], "LIMIT 1"))[0];
  }

  /** The analytics filters as conditions on `events FINAL`; the range applies to the minute of event time (as on DuckDB). */
  #analyticsWhere(filter: AnalyticsFilter, t: ReturnType<typeof times>): string[] {
    const where = this.#where(
      {
        sources: filter.sources,
        type: filter.type,
        campaign: filter.campaign,
        country: filter.country,
        device: filter.device,
        link: filter.link,
        includeBots: filter.includeBots,
        includeSuspicious: filter.includeSuspicious,
        referrerCategory: filter.referrerCategory,
      },
      t,
    );
    if (filter.channel !== undefined) where.push(`channel = ${sqlString(filter.channel)}`);
    if (filter.platform !== undefined) where.push(`platform = ${sqlString(filter.platform)}`);
    const minute = `intDiv(${eventMs(t)}, 60000) * 60000`;
    if (filter.from !== undefined) where.push(`${minute} >= ${filter.from.getTime()}`);
    if (filter.to !== undefined) where.push(`${minute} < ${filter.to.getTime()}`);
    return where;
  }

  async analytics(query: AnalyticsQuery): Promise<AnalyticsRow[]> {
    const t = times(await this.layout());
    const where = this.#analyticsWhere(query, t);
    const keys: Record<AnalyticsQuery["groupBy"], string> = {
      minute: `intDiv(${eventMs(t)}, 60000) * 60000`,
      day: `intDiv(${eventMs(t)}, 86400000) * 86400000`,
      country: "ifNull(geo_country, '')",
      device: "ifNull(device_type, '')",
      campaign: "ifNull(campaign, '')",
      source: "source",
      type: "event_type",
      link: "ifNull(link_id, '')",
      channel: "ifNull(channel, '')",
      platform: "ifNull(platform, '')",
      referrer: "ifNull(referrer_category, '')",
    };
    const timeSeries = query.groupBy === "minute" || query.groupBy === "day";
    const limit = Math.max(1, Math.trunc(query.limit ?? 1000));
    const rows = await this.run(
      `SELECT ${keys[query.groupBy]} AS key, count() AS events, countIf(ifNull(is_unique, 0) = 1) AS uniq, countIf(ifNull(is_suspicious, 0) = 1) AS suspicious,
              groupUniqArrayIf(ifNull(unique_rule, ''), ifNull(is_unique, 0) = 1 AND ifNull(unique_rule, '') != '') AS rules
       FROM ${this.table} FINAL ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       GROUP BY key ORDER BY ${timeSeries ? "key" : "events DESC, key"} LIMIT ${limit} FORMAT JSONEachRow`,
    );
    return rows.map((r) => ({
      key: timeSeries ? iso(r.key) : r.key === "" ? null : String(r.key),
      events: Number(r.events),
      unique: Number(r.uniq),
      suspicious: Number(r.suspicious),
      unique_rules: ((r.rules as unknown[] | null) ?? []).map(String).sort(),
    }));
  }

  /**
   * Conversions per campaign and currency: Decimal128(6) sums (exact for every amount enrichment
   * accepts), sent back as text. Rows whose revenue is not such an amount are left out (18.16 has
   * no toDecimal128OrNull).
   */
  async revenue(query: RevenueQuery): Promise<RevenueRow[]> {
    const t = times(await this.layout());
    const where = this.#analyticsWhere(query, t);
    where.push("revenue IS NOT NULL", `match(revenue, ${sqlString(AMOUNT_PATTERN)})`);
    const limit = Math.max(1, Math.trunc(query.limit ?? 1000));
    const rows = await this.run(
      `SELECT ifNull(campaign, '') AS campaign_key, ifNull(currency, '') AS currency_key, count() AS conversions,
              toString(sum(toDecimal128(assumeNotNull(revenue), 6))) AS total
       FROM ${this.table} FINAL WHERE ${where.join(" AND ")}
       GROUP BY campaign_key, currency_key
       ORDER BY campaign_key = '', campaign_key, currency_key = '', currency_key LIMIT ${limit} FORMAT JSONEachRow`,
    );
    return rows.map((r) => ({
      campaign: r.campaign_key === "" ? null : String(r.campaign_key),
      currency: r.currency_key === "" ? null : String(r.currency_key),
      conversions: Number(r.conversions),
      revenue: canonicalDecimal(String(r.total)),
    }));
  }

  async freshness(sources?: readonly string[]): Promise<string | null> {
    const t = times(await this.layout());
    const where = this.#where({ sources }, t);
    const rows = await this.run(
      `SELECT count() AS n, max(${t.loaded}) AS newest FROM ${this.table} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} FORMAT JSONEachRow`,
    );
    return Number(rows[0]?.n ?? 0) === 0 ? null : iso(rows[0]?.newest);
  }
}
