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

/** What a sink offers for the delivery log (DuckDB and ClickHouse do). */
export interface DeliveryLogStore {
  /** Creates the `deliveries` table; safe at every start. */
  migrateDeliveries(): Promise<void>;
  insertDeliveries(rows: readonly DeliveryRow[]): Promise<InsertResult>;
  countDeliveries(query?: DeliveryQuery): Promise<number>;
  /** Newest `at` first. */
  recentDeliveries(limit: number, query?: DeliveryQuery): Promise<StoredDelivery[]>;
}

export function hasDeliveryLog(sink: object): sink is DeliveryLogStore {
  return typeof (sink as Partial<DeliveryLogStore>).insertDeliveries === "function";
}

/** Keeps the first row of each log_seq (a batch can repeat a record after a redelivery). */
export function uniqueBySeq(rows: readonly DeliveryRow[]): DeliveryRow[] {
  const seen = new Set<number>();
  return rows.filter((r) => (seen.has(r.log_seq) ? false : (seen.add(r.log_seq), true)));
}
