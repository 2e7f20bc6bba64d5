// DuckDB's side of the data lifecycle (lifecycle.ts): retention by DELETE on a timer, erasure by
// anonymising rows in place. The statements run on the sink's writer connection, in its queue.
import { listValue, type DuckDBConnection, type DuckDBValue } from "@duckdb/node-api";
import { ROLLUPS } from "./duckdb-rollups.js";
import {
  cutoffOf,
  type ErasedEvent,
  type ErasureSelector,
  type RetentionPolicy,
  type RetentionSweep,
  type RowErasure,
  type TableLifecycle,
} from "./lifecycle.js";

const EVENTS = "events";
const DELIVERIES = "deliveries";

/** The column that marks an erased row; added to files made before erasure existed. */
export const ERASED_AT_DDL = `ALTER TABLE ${EVENTS} ADD COLUMN IF NOT EXISTS erased_at TIMESTAMPTZ`;

/**
 * What erasure clears: the body and the columns that could single a person out. The rest stays:
 * the key (the sender's id, not the person's), times, region and sequence (reconciliation), and
 * the dimensions the rollups count by (so rebuilding them from the rows changes nothing).
 */
const ANONYMISE = `payload = '{}'::JSON, ip_anon = NULL, visitor_hash = NULL`;

const iso = (column: string) => `strftime(${column} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ')`;

type Params = Record<string, DuckDBValue>;

function selectorSql(selector: ErasureSelector): { where: string; params: Params } {
  if ("keys" in selector)
    return { where: "event_key = ANY($keys::VARCHAR[])", params: { keys: listValue([...selector.keys]) } };
  if ("source" in selector) return { where: "source = $source", params: { source: selector.source } };
  return {
    where: "visitor_hash = ANY($hashes::VARCHAR[])",
    params: { hashes: listValue([...selector.visitorHashes]) },
  };
}

async function tableExists(connection: DuckDBConnection, table: string): Promise<boolean> {
  const rows = await connection.runAndReadAll(
    `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = $table AND schema_name = 'main'`,
    { table },
  );
  return Number(rows.getRowObjectsJS()[0]?.n ?? 0) > 0;
}

async function inTransaction<T>(connection: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  await connection.run("BEGIN TRANSACTION");
  try {
    const result = await work();
    await connection.run("COMMIT");
    return result;
  } catch (err) {
    await connection.run("ROLLBACK").catch(() => undefined);
    throw err;
  }
}

export const duckdbLifecycle = {
  /** Deletes what each table's retention has expired, in one transaction. */
  async enforce(connection: DuckDBConnection, policy: RetentionPolicy, now: Date): Promise<RetentionSweep> {
    const sweep: RetentionSweep = { events: 0, deliveries: 0, rollups: 0 };
    const events = cutoffOf(policy.events, now);
    const deliveries = cutoffOf(policy.deliveries, now);
    const rollups = cutoffOf(policy.rollups, now);
    const hasDeliveries = deliveries !== undefined && (await tableExists(connection, DELIVERIES));
    return inTransaction(connection, async () => {
      if (events)
        sweep.events = (
          await connection.run(`DELETE FROM ${EVENTS} WHERE received_at < $cutoff::TIMESTAMPTZ`, {
            cutoff: events.toISOString(),
          })
        ).rowsChanged;
      if (deliveries && hasDeliveries)
        sweep.deliveries = (
          await connection.run(`DELETE FROM ${DELIVERIES} WHERE attempted_at < $cutoff::TIMESTAMPTZ`, {
            cutoff: deliveries.toISOString(),
          })
        ).rowsChanged;
      if (rollups)
        for (const spec of ROLLUPS)
          sweep.rollups += (
            await connection.run(`DELETE FROM ${spec.table} WHERE ${spec.unit} < $cutoff::TIMESTAMPTZ`, {
              cutoff: rollups.toISOString(),
            })
          ).rowsChanged;
      return sweep;
    });
  },

  /** Each table's rows, oldest row and retention. */
  async describe(connection: DuckDBConnection, policy: RetentionPolicy): Promise<TableLifecycle[]> {
    const tables: Array<{ table: string; time: string; retention: number | undefined }> = [
      { table: EVENTS, time: "received_at", retention: policy.events },
      { table: DELIVERIES, time: "attempted_at", retention: policy.deliveries },
      ...ROLLUPS.map((spec) => ({ table: spec.table, time: spec.unit, retention: policy.rollups })),
    ];
    const out: TableLifecycle[] = [];
    for (const { table, time, retention } of tables) {
      if (!(await tableExists(connection, table))) continue;
      const rows = await connection.runAndReadAll(
        `SELECT count(*)::BIGINT AS n, ${iso(`min(${time})`)} AS oldest FROM ${table}`,
      );
      const row = rows.getRowObjectsJS()[0];
      out.push({
        table,
        rows: Number(row?.n ?? 0),
        oldest: row?.oldest == null ? null : String(row.oldest),
        retentionSeconds: retention ?? null,
        enforcedBy: retention === undefined ? null : "delete",
      });
    }
    return out;
  },

  /**
   * Anonymises the selected rows not yet erased and deletes their delivery log, in one
   * transaction; answers the events it erased (for a source, only their count).
   */
  async erase(connection: DuckDBConnection, selector: ErasureSelector, at: Date): Promise<RowErasure> {
    const { where, params } = selectorSql(selector);
    const hasDeliveries = await tableExists(connection, DELIVERIES);
    return inTransaction(connection, async () => {
      // Every selected event's log, also of rows erased before (an attempt logged since, a resend).
      const deliveries = hasDeliveries
        ? (
            await connection.run(
              `DELETE FROM ${DELIVERIES} WHERE event_key IN (SELECT event_key FROM ${EVENTS} WHERE ${where})`,
              params,
            )
          ).rowsChanged
        : 0;
      const pending = `${where} AND erased_at IS NULL`;
      const events = await duckdbLifecycle.targets(connection, selector);
      const rows = (
        await connection.run(`UPDATE ${EVENTS} SET ${ANONYMISE}, erased_at = $at::TIMESTAMPTZ WHERE ${pending}`, {
          ...params,
          at: at.toISOString(),
        })
      ).rowsChanged;
      return { rows, deliveries, events };
    });
  },

  /** The rows a key or visitor erasure would anonymise (not erased yet); none listed for a source. */
  async targets(connection: DuckDBConnection, selector: ErasureSelector): Promise<ErasedEvent[]> {
    if ("source" in selector) return [];
    const { where, params } = selectorSql(selector);
    const found = await connection.runAndReadAll(
      `SELECT event_key, source, event_type, region, region_seq::BIGINT AS region_seq, ${iso("received_at")} AS received_at
       FROM ${EVENTS} WHERE ${where} AND erased_at IS NULL ORDER BY received_at`,
      params,
    );
    return found.getRowObjectsJS().map((r) => ({
      event_key: String(r.event_key),
      source: String(r.source),
      event_type: String(r.event_type),
      region: String(r.region),
      region_seq: Number(r.region_seq),
      received_at: String(r.received_at),
    }));
  },

  async erasedRows(connection: DuckDBConnection, region: string): Promise<number> {
    const rows = await connection.runAndReadAll(
      `SELECT count(*)::BIGINT AS n FROM ${EVENTS} WHERE region = $region AND erased_at IS NOT NULL`,
      { region },
    );
    return Number(rows.getRowObjectsJS()[0]?.n ?? 0);
  },
};
