import type { ClickHouseHttp } from "./clickhouse-http.js";
import { sqlIdentifier, sqlString } from "./clickhouse-schema.js";
import {
  deliveryHealthRow,
  uniqueBySeq,
  type DeliveryHealthRow,
  type DeliveryQuery,
  type DeliveryRow,
  type StoredDelivery,
} from "./deliveries.js";
import type { InsertResult } from "./sink.js";

/**
 * The delivery log in ClickHouse. One layout for every release: times as epoch milliseconds
 * (18.16 has no DateTime64), ReplacingMergeTree ordered by (destination, log_seq) so that a
 * record loaded twice collapses on merge and reads with FINAL see it once. Newer servers could
 * use DateTime64(3); this table is small next to `events` and gains nothing from it.
 */
export class ClickHouseDeliveries {
  readonly #table: string;
  constructor(
    private readonly http: ClickHouseHttp,
    database: string,
  ) {
    this.#table = `${sqlIdentifier(database)}.${sqlIdentifier("deliveries")}`;
  }

  async migrate(): Promise<void> {
    await this.http.query(
      `CREATE TABLE IF NOT EXISTS ${this.#table} (
        log_seq UInt64, destination String, event_key String, attempt UInt32, outcome String,
        status UInt16, latency_ms Float64, error String, attempted_at_ms Int64, loaded_at_ms Int64
      ) ENGINE = ReplacingMergeTree ORDER BY (destination, log_seq)`,
      { kind: "ddl" },
    );
  }

  /** Skips the records the table has already (a redelivered batch), so the counts are honest. */
  async insert(rows: readonly DeliveryRow[]): Promise<InsertResult> {
    if (rows.length === 0) return { inserted: 0, duplicates: 0 };
    const unique = uniqueBySeq(rows);
    const text = await this.http.queryWithTable(
      `SELECT DISTINCT log_seq FROM ${this.#table} WHERE log_seq IN (SELECT toUInt64(k) FROM batch_seqs) FORMAT JSONEachRow`,
      { name: "batch_seqs", column: "k", values: unique.map((r) => String(r.log_seq)) },
      {},
    );
    const existing = new Set(parse(text).map((r) => Number(r.log_seq)));
    const loadedAt = Date.now();
    const fresh = unique.filter((r) => !existing.has(r.log_seq));
    if (fresh.length === 0) return { inserted: 0, duplicates: rows.length };
    const body = fresh
      .map((r) =>
        JSON.stringify({
          log_seq: r.log_seq,
          destination: r.destination,
          event_key: r.event_key,
          attempt: r.attempt,
          outcome: r.outcome,
          status: r.status,
          latency_ms: r.latency_ms,
          error: r.error,
          attempted_at_ms: r.at.getTime(),
          loaded_at_ms: loadedAt,
        }),
      )
      .join("\n");
    await this.http.insert(`INSERT INTO ${this.#table} FORMAT JSONEachRow`, body + "\n", {});
    return { inserted: fresh.length, duplicates: rows.length - fresh.length };
  }

  async count(query: DeliveryQuery): Promise<number> {
    const text = await this.http.query(
      `SELECT count() AS n FROM ${this.#table} FINAL${where(query)} FORMAT JSONEachRow`,
      { kind: "read" },
    );
    return Number(parse(text)[0]?.n ?? 0);
  }

  async recent(limit: number, query: DeliveryQuery): Promise<StoredDelivery[]> {
    const text = await this.http.query(
      `SELECT log_seq, destination, event_key, attempt, outcome, status, latency_ms, error, attempted_at_ms
       FROM ${this.#table} FINAL${where(query)} ORDER BY attempted_at_ms DESC, log_seq DESC LIMIT ${Math.max(0, Math.floor(limit))} FORMAT JSONEachRow`,
      { kind: "read" },
    );
    return parse(text).map((row) => ({
      log_seq: Number(row.log_seq),
      destination: String(row.destination),
      event_key: String(row.event_key),
      attempt: Number(row.attempt),
      outcome: String(row.outcome),
      status: Number(row.status),
      latency_ms: Number(row.latency_ms),
      error: String(row.error),
      at: new Date(Number(row.attempted_at_ms)).toISOString(),
    }));
  }

  /** Latencies by nearest rank over the sorted array (1-based), as DuckDB's side computes them. */
  async health(since: Date, destination?: string): Promise<DeliveryHealthRow[]> {
    const only = destination !== undefined ? ` AND destination = ${sqlString(destination)}` : "";
    const text = await this.http.query(
      `SELECT destination, count() AS attempts, countIf(outcome = 'delivered') AS delivered,
              arraySort(groupArray(latency_ms))[toUInt64(greatest(1, ceil(0.5 * count())))] AS p50_ms,
              arraySort(groupArray(latency_ms))[toUInt64(greatest(1, ceil(0.95 * count())))] AS p95_ms
       FROM ${this.#table} FINAL WHERE attempted_at_ms >= ${since.getTime()}${only}
       GROUP BY destination ORDER BY destination FORMAT JSONEachRow`,
      { kind: "read" },
    );
    return parse(text).map(deliveryHealthRow);
  }
}

function where(query: DeliveryQuery): string {
  const parts: string[] = [];
  if (query.destination !== undefined) parts.push(`destination = ${sqlString(query.destination)}`);
  if (query.eventKey !== undefined) parts.push(`event_key = ${sqlString(query.eventKey)}`);
  if (query.outcome !== undefined) parts.push(`outcome = ${sqlString(query.outcome)}`);
  return parts.length ? ` WHERE ${parts.join(" AND ")}` : "";
}

function parse(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
