import { defineErrors } from "@tributary/errors";
import type { WarehouseRow } from "@tributary/schema";

export interface InsertResult {
  /** Rows new to the warehouse. */
  inserted: number;
  /** Rows whose event key the warehouse already had (or that repeated inside the batch). */
  duplicates: number;
}

export interface EventPage {
  rows: StoredEvent[];
}

/** A row as read back, with the warehouse's own `loaded_at`. Timestamps are ISO strings. */
export interface StoredEvent {
  event_key: string;
  source: string;
  event_id: string;
  event_type: string;
  schema_version: string | null;
  occurred_at: string | null;
  received_at: string;
  loaded_at: string;
  region: string;
  region_seq: number;
  payload: unknown;
}

/**
 * What the aggregator needs from a warehouse. `insertBatch` must be idempotent by event key: a
 * batch delivered again after a crash inserts nothing twice ("once in effect").
 */
export interface WarehouseSink {
  readonly kind: string;
  /** Creates or migrates the schema; safe to call at every start. */
  migrate(): Promise<void>;
  insertBatch(rows: readonly WarehouseRow[]): Promise<InsertResult>;
  /** Throws when the warehouse cannot take writes. */
  health(): Promise<void>;
  close(): Promise<void>;
}

/** Read side used by the operator tools and the local query endpoint. */
export interface WarehouseReader {
  countEvents(filter?: { source?: string }): Promise<number>;
  /** Newest first. */
  recentEvents(limit: number): Promise<StoredEvent[]>;
  /** Every stored key (tests and reconciliation). */
  eventKeys(): Promise<string[]>;
}

export const WAREHOUSE_ERRORS = {
  warehouse_unavailable: {
    meaning:
      "The warehouse did not answer, or failed for a reason that is not the data (I/O, memory, a closed database).",
    fix: "Nothing to do for the data: the loader backs off, its breaker opens, and events wait in the hub stream. Bring the warehouse back.",
  },
  warehouse_rejected: {
    meaning: "The warehouse refused the data itself (a malformed payload, a value out of range).",
    fix: "The loader isolates the refused rows and moves them to the DLQ with the warehouse's reason; correct and replay them.",
  },
  warehouse_url_invalid: {
    meaning: "The warehouse URL cannot be used (unknown scheme, unknown option, a bad value).",
    fix: "Use duckdb:<path> or clickhouse://host:port/database with the options the README lists.",
  },
} as const;

export class WarehouseError extends defineErrors("WarehouseError", WAREHOUSE_ERRORS) {}

/** Keeps the first row of each key: a batch can hold the same event twice (cross-region retries). */
export function uniqueByKey(rows: readonly WarehouseRow[]): WarehouseRow[] {
  const seen = new Set<string>();
  const out: WarehouseRow[] = [];
  for (const row of rows) {
    if (seen.has(row.event_key)) continue;
    seen.add(row.event_key);
    out.push(row);
  }
  return out;
}
