/**
 * Finding the rows a warehouse will not take when its error does not say so. `warehouse_rejected`
 * names the data and is split at once (Loader); any other error — DuckDB's INTERNAL or out-of-memory
 * errors, a ClickHouse code outside its data errors, a bug — looks like an outage, and an outage must
 * never send rows to the DLQ. So such a batch is retried whole first, and only after
 * ISOLATE_AFTER_FAILURES failures in a row is it suspected: an isolation round then splits it in
 * halves down to single rows, each chunk tried once. A row that fails on its own while the
 * warehouse takes other inserts (of this round, or `alive()` says of others) is poison. A round in
 * which nothing goes in stops early: the warehouse is down, not a row, and the rows go back to
 * waiting for it, with the next round due after twice as many failures.
 */
export const ISOLATE_AFTER_FAILURES = 5;

export interface IsolationRound<T> {
  /** Rows that failed alone while the warehouse took others: for the DLQ, with the error. */
  poison: Array<{ item: T; error: unknown }>;
  /** Rows neither inserted nor shown to be poison (nothing went in): back to waiting. */
  undecided: T[];
}

/**
 * One isolation round over `items`: `insert` is called with chunks (halves, quarters… single rows)
 * and must commit and settle what it was given when it resolves. Bounded: when the first
 * 2·⌈log2 n⌉ + 2 inserts all fail (one poison row costs at most ⌈log2 n⌉ + 1 failures before a
 * success), the rest is left undecided without trying it.
 */
export async function isolateFailing<T>(
  items: readonly T[],
  insert: (chunk: readonly T[]) => Promise<void>,
  opts: { alive?: () => boolean } = {},
): Promise<IsolationRound<T>> {
  const budget = 2 * Math.ceil(Math.log2(Math.max(2, items.length))) + 2;
  let succeeded = false;
  let failures = 0;
  const failed: Array<{ item: T; error: unknown }> = [];
  const undecided: T[] = [];
  const visit = async (chunk: readonly T[]): Promise<void> => {
    if (!succeeded && failures >= budget) {
      undecided.push(...chunk);
      return;
    }
    try {
      await insert(chunk);
      succeeded = true;
    } catch (error) {
      failures++;
      if (chunk.length === 1) {
        failed.push({ item: chunk[0]!, error });
        return;
      }
      const middle = Math.ceil(chunk.length / 2);
      await visit(chunk.slice(0, middle));
      await visit(chunk.slice(middle));
    }
  };
  // The whole batch has just failed: start with its halves.
  if (items.length === 1) await visit(items);
  else {
    const middle = Math.ceil(items.length / 2);
    await visit(items.slice(0, middle));
    await visit(items.slice(middle));
  }
  if (succeeded || opts.alive?.()) return { poison: failed, undecided };
  return { poison: [], undecided: [...failed.map((f) => f.item), ...undecided] };
}

/** The reason a poison row of a round is dead-lettered with: `warehouse_failed: <code> <message>`, short. */
export function isolationReason(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? `${e.code} ` : "";
  const message = typeof e?.message === "string" ? e.message : String(error);
  return `warehouse_failed: ${code}${message}`.slice(0, 500);
}
