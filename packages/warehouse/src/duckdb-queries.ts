import { ENRICHED_COLUMNS } from "@tributary/schema";
import type { AnalyticsQuery, AnalyticsRow, EventFilter, EventListPage, EventQueries, QueriedEvent } from "./query.js";

export const LOAD_SEQ_DDL = "CREATE SEQUENCE IF NOT EXISTS events_load_seq START 1";

const duckType = (type: string) => (type === "boolean" ? "BOOLEAN" : "VARCHAR");

/** The enriched columns as DDL (staging keeps JSON as text, like the payload). */
export function duckDbEnrichedDdl(separator: string): string {
  return ENRICHED_COLUMNS.map((c) => `${separator}${c.name} ${duckType(c.type)}`).join("");
}

/**
 * Per-minute counts by source, type, campaign, country and device; NULL dimensions are '' (the
 * grouping treats them as one value). Minutes are of event time: occurred_at, else received_at.
 * Each batch appends its own increments, so one cell can have several rows: readers sum them
 * (every analytics query does), and `compactRollup` folds them into one row per cell now and then.
 * Appending, not upserting, keeps a batch's cost independent of how many cells it touches.
 */
export const DUCKDB_ROLLUP_DDL = `
CREATE TABLE IF NOT EXISTS events_rollup_minute (
  minute     TIMESTAMPTZ NOT NULL,
  source     VARCHAR NOT NULL,
  event_type VARCHAR NOT NULL,
  campaign   VARCHAR NOT NULL,
  country    VARCHAR NOT NULL,
  device     VARCHAR NOT NULL,
  events     BIGINT NOT NULL,
  unique_events     BIGINT NOT NULL,
  suspicious_events BIGINT NOT NULL
)`;

export const ROLLUP_COLUMNS =
  "minute, source, event_type, campaign, country, device, events, unique_events, suspicious_events";

const SUMMED_ROLLUP = `SELECT minute, source, event_type, campaign, country, device,
  sum(events)::BIGINT AS events, sum(unique_events)::BIGINT AS unique_events, sum(suspicious_events)::BIGINT AS suspicious_events
FROM events_rollup_minute GROUP BY ALL`;

/**
 * Statements that fold the rollup to one row per cell (in one transaction): also how a file whose
 * rollup table still has the old primary key (it was upserted) moves to the keyless table.
 */
export const COMPACT_ROLLUP = [
  `CREATE OR REPLACE TEMP TABLE events_rollup_compacted AS ${SUMMED_ROLLUP}`,
  "DROP TABLE events_rollup_minute",
  DUCKDB_ROLLUP_DDL,
  `INSERT INTO events_rollup_minute (${ROLLUP_COLUMNS}) SELECT ${ROLLUP_COLUMNS} FROM events_rollup_compacted`,
  "DROP TABLE events_rollup_compacted",
];

/** Adds the rows loaded above `highWater` to the rollup (run in the batch's own transaction). */
export function rollupStatement(highWater: number): string {
  return `
INSERT INTO events_rollup_minute (${ROLLUP_COLUMNS})
SELECT date_trunc('minute', coalesce(occurred_at, received_at)) AS minute, source, event_type,
       coalesce(campaign, '') AS campaign, coalesce(geo_country, '') AS country, coalesce(device_type, '') AS device,
       count(*) AS events, count(*) FILTER (WHERE is_unique) AS unique_events, count(*) FILTER (WHERE is_suspicious) AS suspicious_events
FROM events WHERE load_seq > ${Math.trunc(highWater)}
GROUP BY ALL`;
}

const iso = (column: string) => `strftime(${column} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ')`;

const SELECT_EVENT = `SELECT event_key, source, event_id, event_type, schema_version,
  ${iso("occurred_at")} AS occurred_at, ${iso("received_at")} AS received_at, ${iso("loaded_at")} AS loaded_at,
  region, region_seq::BIGINT AS region_seq, payload::VARCHAR AS payload,
  ${ENRICHED_COLUMNS.map((c) => (c.type === "json" ? `${c.name}::VARCHAR AS ${c.name}` : c.name)).join(", ")},
  load_seq::BIGINT AS load_seq
FROM events`;

type Params = Record<string, string | number | boolean>;
export type RunQuery = (sql: string, params: Params) => Promise<Array<Record<string, unknown>>>;

class Where {
  readonly clauses: string[] = [];
  readonly params: Params = {};
  #n = 0;
  add(sqlWithParam: (p: string) => string, value: string | number | boolean | Date | undefined): void {
    if (value === undefined) return;
    const name = `p${this.#n++}`;
    this.params[name] = value instanceof Date ? value.toISOString() : value;
    this.clauses.push(sqlWithParam(`$${name}`));
  }
  inList(column: string, values: readonly string[] | undefined): void {
    if (values === undefined) return;
    if (values.length === 0) {
      this.clauses.push("FALSE");
      return;
    }
    const names = values.map((v) => {
      const name = `p${this.#n++}`;
      this.params[name] = v;
      return `$${name}`;
    });
    this.clauses.push(`${column} IN (${names.join(", ")})`);
  }
  sql(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(" AND ")}` : "";
  }
}

function toEvent(row: Record<string, unknown>): QueriedEvent {
  return {
    ...(row as unknown as QueriedEvent),
    region_seq: Number(row.region_seq),
    load_seq: Number(row.load_seq),
    payload: JSON.parse(String(row.payload)) as unknown,
    campaign_meta: row.campaign_meta === null ? null : String(row.campaign_meta),
  };
}

// Grouped on the raw value, formatted after grouping (formatting a million rollup rows first costs ~10x).
const GROUP_SQL: Record<AnalyticsQuery["groupBy"], string> = {
  minute: "minute",
  day: "date_trunc('day', minute)",
  country: "country",
  device: "device",
  campaign: "campaign",
  source: "source",
  type: "event_type",
};

/** The query API's reads on DuckDB (SQL text with named parameters; values never spliced in). */
export class DuckDbQueries implements EventQueries {
  constructor(private readonly run: RunQuery) {}

  async listEvents(
    filter: EventFilter,
    page: { limit: number; startingAfter?: number | undefined },
  ): Promise<EventListPage> {
    const w = new Where();
    w.inList("source", filter.sources);
    w.add((p) => `event_type = ${p}`, filter.type);
    w.add((p) => `link_id = ${p}`, filter.link);
    w.add((p) => `campaign = ${p}`, filter.campaign);
    w.add((p) => `geo_country = ${p}`, filter.country);
    w.add((p) => `device_type = ${p}`, filter.device);
    w.add((p) => `is_unique = ${p}`, filter.isUnique);
    w.add((p) => `is_suspicious = ${p}`, filter.isSuspicious);
    w.add((p) => `occurred_at >= ${p}::TIMESTAMPTZ`, filter.occurredFrom);
    w.add((p) => `occurred_at < ${p}::TIMESTAMPTZ`, filter.occurredTo);
    w.add((p) => `received_at >= ${p}::TIMESTAMPTZ`, filter.receivedFrom);
    w.add((p) => `received_at < ${p}::TIMESTAMPTZ`, filter.receivedTo);
    w.add((p) => `load_seq < ${p}`, page.startingAfter);
    const limit = Math.max(1, Math.trunc(page.limit));
    // Two steps: the top-N runs over the narrow filter columns only, then the page's rows are read
    // whole (DuckDB would otherwise carry every candidate's payload through the sort).
    const rows = await this.run(
      `${SELECT_EVENT} WHERE load_seq IN (SELECT load_seq FROM events ${w.sql()} ORDER BY load_seq DESC LIMIT ${limit + 1}) ORDER BY load_seq DESC`,
      w.params,
    );
    return { rows: rows.slice(0, limit).map(toEvent), hasMore: rows.length > limit };
  }

  async getEvent(key: string): Promise<QueriedEvent | undefined> {
    const rows = await this.run(`${SELECT_EVENT} WHERE event_key = $key`, { key });
    return rows[0] ? toEvent(rows[0]) : undefined;
  }

  async analytics(query: AnalyticsQuery): Promise<AnalyticsRow[]> {
    const w = new Where();
    w.inList("source", query.sources);
    w.add((p) => `event_type = ${p}`, query.type);
    w.add((p) => `campaign = ${p}`, query.campaign);
    w.add((p) => `country = ${p}`, query.country);
    w.add((p) => `device = ${p}`, query.device);
    w.add((p) => `minute >= ${p}::TIMESTAMPTZ`, query.from);
    w.add((p) => `minute < ${p}::TIMESTAMPTZ`, query.to);
    const key = GROUP_SQL[query.groupBy];
    const timeSeries = query.groupBy === "minute" || query.groupBy === "day";
    const order = timeSeries ? "key" : "events DESC, key";
    const limit = Math.max(1, Math.trunc(query.limit ?? 1000));
    const rows = await this.run(
      `SELECT ${timeSeries ? iso("k") : "k"} AS key, events, uniq, suspicious FROM (
         SELECT ${key} AS k, sum(events)::BIGINT AS events, sum(unique_events)::BIGINT AS uniq, sum(suspicious_events)::BIGINT AS suspicious
         FROM events_rollup_minute ${w.sql()} GROUP BY k ORDER BY ${order.replace("key", "k")} LIMIT ${limit}
       ) ORDER BY ${order.replace("key", "k")}`,
      w.params,
    );
    return rows.map((r) => ({
      key: r.key === "" || r.key === null ? null : String(r.key),
      events: Number(r.events),
      unique: Number(r.uniq),
      suspicious: Number(r.suspicious),
    }));
  }

  async freshness(sources?: readonly string[]): Promise<string | null> {
    const w = new Where();
    w.inList("source", sources);
    const rows = await this.run(`SELECT ${iso("max(loaded_at)")} AS newest FROM events ${w.sql()}`, w.params);
    const newest = rows[0]?.newest;
    return newest === null || newest === undefined ? null : String(newest);
  }
}
