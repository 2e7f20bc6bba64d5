import type { EnrichedFields } from "@tributary/schema";
import type { StoredEvent } from "./sink.js";

/** Filters of the events query; every one is optional and they combine with AND. */
export interface EventFilter {
  /** Only these sources (a token's scope); an empty list matches nothing. */
  sources?: readonly string[] | undefined;
  type?: string | undefined;
  link?: string | undefined;
  campaign?: string | undefined;
  country?: string | undefined;
  device?: string | undefined;
  isUnique?: boolean | undefined;
  isSuspicious?: boolean | undefined;
  /** false: leave out rows with is_bot = true (NULL counts as not a bot). Default: every row. */
  includeBots?: boolean | undefined;
  /** false: leave out rows with is_suspicious = true. Default: every row. */
  includeSuspicious?: boolean | undefined;
  /** direct, search, social, email, internal, other. */
  referrerCategory?: string | undefined;
  /** Ranges: from inclusive, to exclusive. */
  occurredFrom?: Date | undefined;
  occurredTo?: Date | undefined;
  receivedFrom?: Date | undefined;
  receivedTo?: Date | undefined;
}

/** A row with its enriched columns and its load sequence: the warehouse's commit order. */
export interface QueriedEvent extends StoredEvent, EnrichedFields {
  load_seq: number;
  /** ISO time it was erased (its payload, ip_anon and visitor_hash removed); null when it was not. */
  erased_at: string | null;
}

export interface EventListPage {
  /** Newest load first. */
  rows: QueriedEvent[];
  hasMore: boolean;
}

export type AnalyticsGroup =
  | "minute"
  | "day"
  | "country"
  | "device"
  | "campaign"
  | "source"
  | "type"
  | "link"
  | "channel"
  | "platform"
  | "referrer";

/** The filters every analytics view (and the revenue view) takes; they combine with AND. */
export interface AnalyticsFilter {
  sources?: readonly string[] | undefined;
  type?: string | undefined;
  campaign?: string | undefined;
  country?: string | undefined;
  device?: string | undefined;
  link?: string | undefined;
  channel?: string | undefined;
  platform?: string | undefined;
  referrerCategory?: string | undefined;
  /** false: leave out is_bot = true. Default true (every row). */
  includeBots?: boolean | undefined;
  /** false: leave out is_suspicious = true. Default true (every row). */
  includeSuspicious?: boolean | undefined;
  /**
   * Event time (occurred_at, else received_at) range, applied to its UTC minute: a minute counts
   * when from <= minute < to (an instant inside a minute takes or leaves that whole minute).
   */
  from?: Date | undefined;
  to?: Date | undefined;
}

export interface AnalyticsQuery extends AnalyticsFilter {
  groupBy: AnalyticsGroup;
  limit?: number | undefined;
}

export interface AnalyticsRow {
  /** The bucket (ISO minute/day) or the dimension's value; null for "unknown". */
  key: string | null;
  events: number;
  unique: number;
  suspicious: number;
  /** The rules (enrichment's unique_rule, e.g. per_link_24h) that decided the unique events counted here, sorted. */
  unique_rules: string[];
}

export interface RevenueQuery extends AnalyticsFilter {
  limit?: number | undefined;
}

/** Conversions (rows with a revenue) of one campaign in one currency. */
export interface RevenueRow {
  /** null: conversions without a campaign. */
  campaign: string | null;
  /** ISO 4217; null: amounts sent without a currency. */
  currency: string | null;
  conversions: number;
  /** The exact decimal sum as text (`1234.5`), never a binary float. */
  revenue: string;
}

/** What a rollup rebuild did, per table. */
export interface RollupRebuild {
  /** The minute rebuilt from (null: all time). */
  since: string | null;
  tables: Array<{ table: string; rows: number }>;
  ms: number;
}

/**
 * Recomputes the stored rollups from the rows (all time, or every bucket from `since`'s bucket on):
 * after a fix to how rollups are computed, or to check them. Loads wait while it runs.
 */
export interface RollupRebuilder {
  rebuildRollups(options?: { since?: Date | undefined }): Promise<RollupRebuild>;
}

export function isRollupRebuilder(sink: unknown): sink is RollupRebuilder {
  return typeof (sink as Partial<RollupRebuilder> | null)?.rebuildRollups === "function";
}

/**
 * The read side of the query API. Pages go by `load_seq`, a number the warehouse assigns at insert
 * in commit order: newest first, `startingAfter` = the last row's `load_seq`. A row committed after
 * a page was read always gets a higher number, so paging down never skips or repeats a row that
 * existed when paging began.
 */
export interface EventQueries {
  listEvents(filter: EventFilter, page: { limit: number; startingAfter?: number | undefined }): Promise<EventListPage>;
  getEvent(key: string): Promise<QueriedEvent | undefined>;
  /** Counts per bucket (DuckDB: from its rollups; ClickHouse: aggregated at query time). */
  analytics(query: AnalyticsQuery): Promise<AnalyticsRow[]>;
  /** Revenue per campaign and currency, summed exactly. */
  revenue(query: RevenueQuery): Promise<RevenueRow[]>;
  /** The newest loaded_at (ISO) among the sources, null when there are no rows. */
  freshness(sources?: readonly string[]): Promise<string | null>;
}

/** True when a sink also serves the query API's reads. */
export function isEventQueries(sink: object): sink is EventQueries {
  const s = sink as Partial<EventQueries>;
  return (
    typeof s.listEvents === "function" &&
    typeof s.getEvent === "function" &&
    typeof s.analytics === "function" &&
    typeof s.freshness === "function"
  );
}

/** The amounts enrichment writes (packages/enrich: up to 15 digits, 6 decimals): what revenue sums read. */
export const AMOUNT_PATTERN = "^-?[0-9]{1,15}(\\.[0-9]{1,6})?$";

/** An exact decimal's text without trailing zeros: `1234.500000` → `1234.5`. */
export function canonicalDecimal(text: string): string {
  const [whole, fraction = ""] = text.split(".");
  const f = fraction.replace(/0+$/, "");
  const out = f === "" ? whole! : `${whole}.${f}`;
  return out === "-0" ? "0" : out;
}
