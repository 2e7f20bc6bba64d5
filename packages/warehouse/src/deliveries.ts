import type { InsertResult } from "./sink.js";

/**
 * The delivery log in the warehouse: one row per delivery attempt to an HTTP
 * destination, as the delivery process recorded it on the `DELIVERIES` stream. `log_seq` is the
 * record's sequence in that stream: unique, so a batch loaded twice (redelivery after a crash)
 * inserts nothing twice. The tables name the time column `attempted_at` (`at` is an SQL keyword).
 */
export interface DeliveryRow {
  log_seq: number;
  destination: string;
  event_key: string;
  attempt: number;
  /** delivered | retry | dlq */
  outcome: string;
  /** HTTP status; 0 when there was no answer or no request. */
  status: number;
  latency_ms: number;
  error: string;
  at: Date;
}

/** A row as read back; `at` as an ISO string. */
export interface StoredDelivery extends Omit<DeliveryRow, "at"> {
  at: string;
}

export interface DeliveryQuery {
  destination?: string;
  eventKey?: string;
  outcome?: string;
}

/**
 * One destination's attempts over a time window (`deliveryHealth`): how many, how many were
 * delivered, and the latency percentiles by nearest rank (p95: the smallest latency that 95 % of
 * the attempts did not exceed), so both engines answer the same number for the same rows.
 */
export interface DeliveryHealthRow {
  destination: string;
  attempts: number;
  delivered: number;
  p50_ms: number;
  p95_ms: number;
}

/** What a sink offers for the delivery log (DuckDB and ClickHouse do). */
export interface DeliveryLogStore {
  /** Creates the `deliveries` table; safe at every start. */
  migrateDeliveries(): Promise<void>;
  insertDeliveries(rows: readonly DeliveryRow[]): Promise<InsertResult>;
  countDeliveries(query?: DeliveryQuery): Promise<number>;
  /** Newest `at` first. */
  recentDeliveries(limit: number, query?: DeliveryQuery): Promise<StoredDelivery[]>;
  /** Per destination (or only `destination`), the attempts made at or after `since`; destinations without any are left out. */
  deliveryHealth(since: Date, destination?: string): Promise<DeliveryHealthRow[]>;
}

export function hasDeliveryLog(sink: object): sink is DeliveryLogStore {
  return typeof (sink as Partial<DeliveryLogStore>).insertDeliveries === "function";
}

/** Keeps the first row of each log_seq (a batch can repeat a record after a redelivery). */
export function uniqueBySeq(rows: readonly DeliveryRow[]): DeliveryRow[] {
  const seen = new Set<number>();
  return rows.filter((r) => (seen.has(r.log_seq) ? false : (seen.add(r.log_seq), true)));
}

/** The health rows as both engines answer them (numbers may come back as text or bigint). */
export function deliveryHealthRow(row: Record<string, unknown>): DeliveryHealthRow {
  return {
    destination: String(row.destination),
    attempts: Number(row.attempts),
    delivered: Number(row.delivered),
    p50_ms: Number(row.p50_ms),
    p95_ms: Number(row.p95_ms),
  };
}
