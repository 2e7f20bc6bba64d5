/**
 * What reconciliation needs of a warehouse: the region sequences it holds, as ranges rather than
 * rows (1M rows come back as a handful of ranges), the sequences held more than once, and which of
 * a set of event keys it has.
 */
export interface ReconcileReader {
  /** Contiguous runs of `region_seq` held for a region, ascending: `[first, last]` inclusive. */
  seqRanges(region: string): Promise<Array<[number, number]>>;
  /** Sequences of a region held by more than one row, with their keys. */
  seqDoubles(region: string, limit: number): Promise<Array<{ seq: number; keys: string[] }>>;
  /** Which of these keys have a row. */
  existingKeys(keys: readonly string[]): Promise<Set<string>>;
}

export function isReconcileReader(value: unknown): value is ReconcileReader {
  const v = value as Partial<ReconcileReader> | null;
  return (
    typeof v?.seqRanges === "function" && typeof v.seqDoubles === "function" && typeof v.existingKeys === "function"
  );
}

/** Ranges from ascending, distinct sequence numbers (for engines without window functions). */
export function rangesOf(sortedSeqs: Iterable<number>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let current: [number, number] | undefined;
  for (const seq of sortedSeqs) {
    if (current && seq === current[1] + 1) current[1] = seq;
    else if (!current || seq > current[1]) out.push((current = [seq, seq]));
  }
  return out;
}

/**
 * DuckDB: the "gaps and islands" query. Within a run of consecutive sequences, `seq - row_number()`
 * is constant, so grouping by it yields the runs in one pass over the region's rows.
 */
export const DUCKDB_SEQ_RANGES = `
  SELECT min(region_seq)::BIGINT AS first, max(region_seq)::BIGINT AS last
  FROM (SELECT region_seq, region_seq - row_number() OVER (ORDER BY region_seq) AS island
        FROM (SELECT DISTINCT region_seq FROM events WHERE region = $region))
  GROUP BY island ORDER BY first`;

export const DUCKDB_SEQ_DOUBLES = `
  SELECT region_seq::BIGINT AS seq, list(event_key ORDER BY event_key) AS keys
  FROM events WHERE region = $region
  GROUP BY region_seq HAVING count(*) > 1 ORDER BY region_seq LIMIT $limit`;
