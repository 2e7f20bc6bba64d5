import type { JsMsg } from "@nats-io/jetstream";
import type { WarehouseRow } from "@tributary/schema";
import { columnsOfRows, concatColumns, type EventColumns } from "@tributary/warehouse";
import type { RowOutcome, StreamMessage } from "./rows.js";

/** A batch of messages mapped: the rows of those that mapped, in message order, and why the others are poison. */
export interface MappedBatch {
  rows: EventColumns;
  /** For each message of the batch, its row in `rows`, or -1 when it is poison. */
  rowOf: Int32Array;
  /** The poison messages' reasons, by position in the batch. */
  poison: ReadonlyMap<number, string>;
}

/**
 * Maps whole batches, in the order `map` is called (the stateful enrichment verdicts depend on
 * it): `MappingPool` (worker threads), or `mapEach` over a `toRow` function on the loader's thread.
 */
export interface BatchMapper {
  map(msgs: readonly JsMsg[]): Promise<MappedBatch>;
}

/** The batch mapped on this thread, one message at a time. */
export function mapEach(msgs: readonly StreamMessage[], toRow: (msg: StreamMessage) => RowOutcome): MappedBatch {
  const rows: WarehouseRow[] = [];
  const rowOf = new Int32Array(msgs.length).fill(-1);
  const poison = new Map<number, string>();
  msgs.forEach((msg, i) => {
    const outcome = toRow(msg);
    if (outcome.ok) rowOf[i] = rows.push(outcome.row) - 1;
    else poison.set(i, outcome.reason);
  });
  return { rows: columnsOfRows(rows), rowOf, poison };
}

/** Batches mapped one after another, as one (their messages in the same order). */
export function joinMapped(parts: readonly MappedBatch[]): MappedBatch {
  if (parts.length === 1) return parts[0]!;
  const rowOf = new Int32Array(parts.reduce((n, p) => n + p.rowOf.length, 0));
  const poison = new Map<number, string>();
  let messages = 0;
  let rows = 0;
  for (const part of parts) {
    part.rowOf.forEach((row, i) => (rowOf[messages + i] = row < 0 ? -1 : rows + row));
    for (const [i, reason] of part.poison) poison.set(messages + i, reason);
    messages += part.rowOf.length;
    rows += part.rows.length;
  }
  return { rows: concatColumns(parts.map((p) => p.rows)), rowOf, poison };
}
