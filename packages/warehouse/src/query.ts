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
  /** Ranges: from inclusive, to exclusive. */
  occurredFrom?: Date | undefined;
  occurredTo?: Date | undefined;
  receivedFrom?: Date | undefined;
  receivedTo?: Date | undefined;
}

/** A row with its enriched columns and its load sequence: the warehouse's commit order. */
export interface QueriedEvent extends StoredEvent, EnrichedFields {
  load_seq: number;
}

export interface EventListPage {
  /** Newest load first. */
  rows: QueriedEvent[];
  hasMore: boolean;
}

export type AnalyticsGroup = "minute" | "day" | "country" | "device" | "campaign" | "source" | "type";

export interface AnalyticsQuery {
  groupBy: AnalyticsGroup;
  sources?: readonly string[] | undefined;
  type?: string | undefined;
  campaign?: string | undefined;
  country?: string | undefined;
  device?: string | undefined;
  /** Event time (occurred_at, else received_at) range: from inclusive, to exclusive. */
  from?: Date | undefined;
  to?: Date | undefined;
  limit?: number | undefined;
}

export interface AnalyticsRow {
  /** The bucket (ISO minute/day) or the dimension's value; null for "unknown". */
  key: string | null;
  events: number;
  unique: number;
  suspicious: number;
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
  /** Counts from the per-minute rollup. */
  analytics(query: AnalyticsQuery): Promise<AnalyticsRow[]>;
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
