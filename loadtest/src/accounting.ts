import { openWarehouse } from "@tributary/warehouse";
import type { LocalSystem } from "./system.js";
import type { Timeline } from "./stats.js";

/** What the driver knows about the keys it sent. */
export interface Ledger {
  /** Every key a request carried (refused ones too: a timed-out publish may still be stored). */
  attempted: Set<string>;
  /** Keys a gateway acknowledged (202, 200 duplicate, or an accepted/duplicate batch item). */
  acknowledged: Set<string>;
  /** Keys still refused after every retry. */
  failed: Set<string>;
}

export interface Accounting {
  acknowledgedKeys: number;
  rows: number;
  /** Acknowledged keys with no row: lost events. */
  missing: number;
  missingSample: string[];
  /** Keys with more than one row as read (a unique key makes this 0 unless the warehouse broke it). */
  doubledKeys: number;
  /** Driver events (data.lt.seq) stored in more than one row, whatever their keys. */
  doubledEvents: number;
  /** ClickHouse only: keys with more than one physical copy before FINAL (null for DuckDB, whose primary key forbids it). */
  physicalCopies: number | null;
  /** Rows of keys that were attempted but never acknowledged (allowed: a lost PubAck after the store). */
  storedAfterRefusal: number;
  /** Rows whose key was never sent: invented rows. */
  unexpected: number;
}

interface RowLite {
  key: string;
  receivedMs: number;
  loadedMs: number;
  seq: number | undefined;
}

function seqOf(payload: unknown): number | undefined {
  const lt = (payload as { data?: { lt?: { seq?: unknown } } } | null)?.data?.lt;
  return typeof lt?.seq === "number" ? lt.seq : undefined;
}

async function readRows(system: LocalSystem): Promise<{ rows: RowLite[]; physicalCopies: number | null }> {
  // DuckDB is one process's file: the aggregator (drained by now) lets go of it first.
  if (system.warehouse === "duckdb") await system.topology.aggregator.stop();
  const sink = await openWarehouse(system.warehouseUrl);
  try {
    const count = await sink.countEvents();
    const stored = await sink.recentEvents(count + 1_000);
    const rows = stored.map((r) => ({
      key: r.event_key,
      receivedMs: Date.parse(r.received_at),
      loadedMs: Date.parse(r.loaded_at),
      seq: seqOf(r.payload),
    }));
    let physicalCopies: number | null = null;
    if (system.clickhouse) {
      // Without FINAL: every copy ReplacingMergeTree still holds, not only what reads show.
      const res = await fetch(`http://127.0.0.1:${system.clickhouse.httpPort}/`, {
        method: "POST",
        body: "SELECT count() AS n FROM (SELECT event_key FROM tributary.events GROUP BY event_key HAVING count() > 1) FORMAT JSONEachRow",
      });
      physicalCopies = Number((JSON.parse((await res.text()).trim() || "{}") as { n?: string | number }).n ?? 0);
    }
    return { rows, physicalCopies };
  } finally {
    await sink.close();
  }
}

/** Reads every warehouse row once the run has drained and compares it with the ledger; e2e latency goes into the timeline. */
export async function account(system: LocalSystem, ledger: Ledger, timeline: Timeline): Promise<Accounting> {
  const { rows, physicalCopies } = await readRows(system);
  const perKey = new Map<string, number>();
  const perSeq = new Map<number, number>();
  for (const row of rows) {
    perKey.set(row.key, (perKey.get(row.key) ?? 0) + 1);
    if (row.seq !== undefined) perSeq.set(row.seq, (perSeq.get(row.seq) ?? 0) + 1);
    timeline.loaded(row.receivedMs, row.loadedMs - row.receivedMs);
  }
  const missing = [...ledger.acknowledged].filter((k) => !perKey.has(k));
  let storedAfterRefusal = 0;
  let unexpected = 0;
  for (const key of perKey.keys()) {
    if (ledger.acknowledged.has(key)) continue;
    if (ledger.attempted.has(key)) storedAfterRefusal++;
    else unexpected++;
  }
  return {
    acknowledgedKeys: ledger.acknowledged.size,
    rows: rows.length,
    missing: missing.length,
    missingSample: missing.slice(0, 10),
    doubledKeys: [...perKey.values()].filter((n) => n > 1).length,
    doubledEvents: [...perSeq.values()].filter((n) => n > 1).length,
    physicalCopies,
    storedAfterRefusal,
    unexpected,
  };
}
