import { DuckDBTimestampTZValue, type DuckDBConnection } from "@duckdb/node-api";
import {
  deliveryHealthRow,
  uniqueBySeq,
  type DeliveryHealthRow,
  type DeliveryQuery,
  type DeliveryRow,
  type StoredDelivery,
} from "./deliveries.js";
import { WarehouseError, type InsertResult } from "./sink.js";

const TABLE = "deliveries";
const STAGING = "deliveries_staging";

const CREATE = `
CREATE TABLE IF NOT EXISTS ${TABLE} (
  log_seq     UBIGINT PRIMARY KEY,
  destination VARCHAR NOT NULL,
  event_key   VARCHAR NOT NULL,
  attempt     INTEGER NOT NULL,
  outcome     VARCHAR NOT NULL,
  status      INTEGER NOT NULL,
  latency_ms  DOUBLE NOT NULL,
  error       VARCHAR NOT NULL,
  attempted_at TIMESTAMPTZ NOT NULL,
  loaded_at   TIMESTAMPTZ NOT NULL
)`;
const CREATE_STAGING = `
CREATE TEMP TABLE IF NOT EXISTS ${STAGING} (
  log_seq UBIGINT, destination VARCHAR, event_key VARCHAR, attempt INTEGER, outcome VARCHAR,
  status INTEGER, latency_ms DOUBLE, error VARCHAR, attempted_at TIMESTAMPTZ
)`;
const MOVE = `INSERT INTO ${TABLE} SELECT *, now() AS loaded_at FROM ${STAGING} ON CONFLICT DO NOTHING`;

function where(query: DeliveryQuery): { sql: string; params: Record<string, string> } {
  const parts: string[] = [];
  const params: Record<string, string> = {};
  if (query.destination !== undefined) {
    parts.push("destination = $destination");
    params.destination = query.destination;
  }
  if (query.eventKey !== undefined) {
    parts.push("event_key = $event_key");
    params.event_key = query.eventKey;
  }
  if (query.outcome !== undefined) {
    parts.push("outcome = $outcome");
    params.outcome = query.outcome;
  }
  return { sql: parts.length ? ` WHERE ${parts.join(" AND ")}` : "", params };
}

/** DuckDB statements of the delivery log, on the sink's own connection (one writer process). */
export const duckdbDeliveries = {
  async migrate(connection: DuckDBConnection): Promise<void> {
    await connection.run(CREATE);
    await connection.run(CREATE_STAGING);
  },

  /** Staging + ON CONFLICT DO NOTHING, as for events: an appender fails whole on one duplicate key. */
  async insert(connection: DuckDBConnection, rows: readonly DeliveryRow[]): Promise<InsertResult> {
    if (rows.length === 0) return { inserted: 0, duplicates: 0 };
    const unique = uniqueBySeq(rows);
    try {
      await connection.run("BEGIN TRANSACTION");
      await connection.run(`DELETE FROM ${STAGING}`);
      const appender = await connection.createAppender(STAGING, "main", "temp");
      try {
        for (const r of unique) {
          appender.appendUBigInt(BigInt(r.log_seq));
          appender.appendVarchar(r.destination);
          appender.appendVarchar(r.event_key);
          appender.appendInteger(r.attempt);
          appender.appendVarchar(r.outcome);
          appender.appendInteger(r.status);
          appender.appendDouble(r.latency_ms);
          appender.appendVarchar(r.error);
          appender.appendTimestampTZ(new DuckDBTimestampTZValue(BigInt(r.at.getTime()) * 1000n));
          appender.endRow();
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      const moved = await connection.run(MOVE);
      await connection.run("COMMIT");
      return { inserted: moved.rowsChanged, duplicates: rows.length - moved.rowsChanged };
    } catch (err) {
      await connection.run("ROLLBACK").catch(() => undefined);
      throw new WarehouseError(
        "warehouse_unavailable",
        `DuckDB delivery-log insert failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  },

  async count(connection: DuckDBConnection, query: DeliveryQuery): Promise<number> {
    const w = where(query);
    const result = await connection.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM ${TABLE}${w.sql}`, w.params);
    return Number(result.getRowObjectsJS()[0]?.n ?? 0);
  },

  async recent(connection: DuckDBConnection, limit: number, query: DeliveryQuery): Promise<StoredDelivery[]> {
    const w = where(query);
    const result = await connection.runAndReadAll(
      `SELECT log_seq::BIGINT AS log_seq, destination, event_key, attempt, outcome, status, latency_ms, error,
              strftime(attempted_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS attempted_at
       FROM ${TABLE}${w.sql} ORDER BY attempted_at DESC, log_seq DESC LIMIT ${Math.max(0, Math.floor(limit))}`,
      w.params,
    );
    return result.getRowObjectsJS().map((row) => ({
      log_seq: Number(row.log_seq),
      destination: String(row.destination),
      event_key: String(row.event_key),
      attempt: Number(row.attempt),
      outcome: String(row.outcome),
      status: Number(row.status),
      latency_ms: Number(row.latency_ms),
      error: String(row.error),
      at: String(row.attempted_at),
    }));
  },
  /** Latencies by nearest rank over the sorted list (1-based), as ClickHouse's side computes them. */
  async health(connection: DuckDBConnection, since: Date, destination?: string): Promise<DeliveryHealthRow[]> {
    const params: Record<string, string> = { since: since.toISOString() };
    if (destination !== undefined) params.destination = destination;
    const result = await connection.runAndReadAll(
      `SELECT destination, count(*)::BIGINT AS attempts,
              count(*) FILTER (WHERE outcome = 'delivered')::BIGINT AS delivered,
              list_sort(list(latency_ms))[greatest(1, ceil(0.5 * count(*)))::BIGINT] AS p50_ms,
              list_sort(list(latency_ms))[greatest(1, ceil(0.95 * count(*)))::BIGINT] AS p95_ms
       FROM ${TABLE}
       WHERE attempted_at >= $since::TIMESTAMPTZ${destination !== undefined ? " AND destination = $destination" : ""}
       GROUP BY destination ORDER BY destination`,
      params,
    );
    return result.getRowObjectsJS().map(deliveryHealthRow);
  },
};
