import type { EnrichedFields } from "./enriched.js";
import type { NormalizedEvent } from "./validate.js";

/** A logical column type, for each sink to map to its engine's own (DuckDB, ClickHouse, …). */
export type WarehouseColumnType =
  | "string" // UTF-8 text
  | "timestamp" // an instant, UTC, millisecond precision
  | "int64" // a signed 64-bit integer
  | "json"; // JSON text, stored as the engine's JSON type where it has one

export interface WarehouseColumn {
  readonly name: string;
  readonly type: WarehouseColumnType;
  readonly nullable: boolean;
  /** The dedupe key of last resort: the warehouse refuses a second row with the same value. */
  readonly unique: boolean;
  /** Who fills it: the row mapping, or the warehouse itself at insert time. */
  readonly setBy: "row" | "warehouse";
}

/** The events table, in column order. Every sink creates and loads it from this one list. */
export const WAREHOUSE_COLUMNS = [
  { name: "event_key", type: "string", nullable: false, unique: true, setBy: "row" },
  { name: "source", type: "string", nullable: false, unique: false, setBy: "row" },
  { name: "event_id", type: "string", nullable: false, unique: false, setBy: "row" },
  { name: "event_type", type: "string", nullable: false, unique: false, setBy: "row" },
  { name: "schema_version", type: "string", nullable: true, unique: false, setBy: "row" },
  { name: "occurred_at", type: "timestamp", nullable: true, unique: false, setBy: "row" },
  { name: "received_at", type: "timestamp", nullable: false, unique: false, setBy: "row" },
  { name: "loaded_at", type: "timestamp", nullable: false, unique: false, setBy: "warehouse" },
  { name: "region", type: "string", nullable: false, unique: false, setBy: "row" },
  { name: "region_seq", type: "int64", nullable: false, unique: false, setBy: "row" },
  { name: "payload", type: "json", nullable: false, unique: false, setBy: "row" },
] as const satisfies readonly WarehouseColumn[];

export type WarehouseColumnName = (typeof WAREHOUSE_COLUMNS)[number]["name"];

/** One events row as a sink receives it; `loaded_at` is the warehouse's own. */
export interface WarehouseRow {
  event_key: string;
  source: string;
  /** The event id inside the key: the provider's delivery id, or the SHA-256 of the raw body. */
  event_id: string;
  event_type: string;
  schema_version: string | null;
  occurred_at: Date | null;
  received_at: Date;
  region: string;
  /** The event's sequence number in its regional stream. */
  region_seq: number;
  /** The body as received (decoded text, BOM removed); re-serialised only when a redaction rule changed it. */
  payload: string;
  /** Set by the enrichment stage; absent rows load with NULL enriched columns. */
  enriched?: EnrichedFields;
}

export interface WarehouseRowMeta {
  eventKey: string;
  eventId: string;
  source: string;
  region: string;
  regionSeq: number;
  receivedAt: Date;
  payloadJson: string;
}

/**
 * Maps an accepted event and its delivery facts to a row. Throws TypeError on facts that can only
 * come from a bug upstream (an empty key, an invalid date, a sequence that is not a count),
 * because loading such a row would break dedupe or ordering silently.
 */
export function toWarehouseRow(event: NormalizedEvent, meta: WarehouseRowMeta): WarehouseRow {
  if (meta.eventKey === "") throw new TypeError("toWarehouseRow: eventKey must not be empty");
  if (Number.isNaN(meta.receivedAt.getTime())) throw new TypeError("toWarehouseRow: receivedAt is an invalid Date");
  if (!Number.isSafeInteger(meta.regionSeq) || meta.regionSeq < 0) {
    throw new TypeError(`toWarehouseRow: regionSeq must be a non-negative integer, got ${meta.regionSeq}`);
  }
  return {
    event_key: meta.eventKey,
    source: meta.source,
    event_id: meta.eventId,
    event_type: event.eventType,
    schema_version: event.schemaVersion,
    occurred_at: event.occurredAt === null ? null : new Date(event.occurredAt),
    // A copy: rows sit in batches while the caller may reuse its Date.
    received_at: new Date(meta.receivedAt.getTime()),
    region: meta.region,
    region_seq: meta.regionSeq,
    payload: meta.payloadJson,
  };
}
