import { enricherFromPortable, type Enricher, type PortableEnrichOptions } from "@tributary/enrich";
import { emptyColumns, pickColumns, setColumnsRow, type EventColumns } from "@tributary/warehouse/columns";
import { workerData } from "piscina";
import { decodeHeaders, unpackMessage, type PackedMessages } from "./packed.js";
import { mapMessage, type MappedMessage } from "./rows.js";

/** What the stateful enrichment step needs of each row, column by column (cheap to post back). */
export interface PendingColumns {
  uniqueKey: Array<string | null>;
  /** The first stateless suspicion rule that matched (the rule count when none did); -1: not judged. */
  firstHit: Int32Array;
  burstKey: Array<string | null>;
}

/** A packed batch mapped on a worker: its rows, and which message each is (or why a message is poison). */
export interface MappedPart {
  rows: EventColumns;
  /** For each message of the batch, its row in `rows`, or -1 when it is poison. */
  rowOf: Int32Array;
  poison: Array<[message: number, reason: string]>;
  /** null without enrichment. */
  pending: PendingColumns | null;
}

/** What the pool gives each worker. */
export interface MapWorkerData {
  enrich: PortableEnrichOptions | null;
  /** Rows take their enriched columns from the messages (the enrich stage's header), not from `enrich`. */
  enrichedMessages?: boolean;
}

const options = workerData as MapWorkerData | undefined;
const enricher: Enricher | undefined = options?.enrich ? enricherFromPortable(options.enrich) : undefined;

/** One message's row, or why it is poison; whatever happens, one message never fails its batch. */
function mapOne(packed: PackedMessages, i: number): MappedMessage {
  try {
    return mapMessage(unpackMessage(packed, i, decodeHeaders));
  } catch (err) {
    return { ok: false, reason: `unmappable: ${(err as Error).message}` };
  }
}

/**
 * The mapping worker's task (piscina): parse, validate and map each message, and run the
 * enrichment stage's stateless part (`prepare`): the same outcome per message as rowFromMessage,
 * less the verdicts only the loader's thread can settle.
 */
export function mapPacked(packed: PackedMessages): MappedPart {
  const rows = emptyColumns(packed.count, enricher !== undefined || options?.enrichedMessages === true);
  const rowOf = new Int32Array(packed.count).fill(-1);
  const poison: Array<[number, string]> = [];
  const pending: PendingColumns | null = enricher
    ? { uniqueKey: [], firstHit: new Int32Array(packed.count), burstKey: [] }
    : null;
  let n = 0;
  for (let i = 0; i < packed.count; i++) {
    const mapped = mapOne(packed, i);
    if (!mapped.ok) {
      poison.push([i, mapped.reason]);
      continue;
    }
    let row = mapped.row;
    if (enricher && pending) {
      try {
        const prepared = enricher.prepare(row, mapped.body);
        row = prepared.row;
        pending.uniqueKey[n] = prepared.pending.uniqueKey;
        pending.firstHit[n] = prepared.pending.suspicion?.firstHit ?? -1;
        pending.burstKey[n] = prepared.pending.suspicion?.burstKey ?? null;
      } catch (err) {
        // As rowFromMessage: a throw is a bug, and the DLQ keeps the event for a replay once fixed.
        poison.push([i, `enrich_failed: ${(err as Error).message}`]);
        continue;
      }
    }
    setColumnsRow(rows, n, row);
    rowOf[i] = n++;
  }
  if (n === packed.count) return { rows, rowOf, poison, pending };
  const kept = Array.from({ length: n }, (_, i) => i);
  return {
    rows: pickColumns(rows, kept),
    rowOf,
    poison,
    pending: pending && { ...pending, firstHit: pending.firstHit.slice(0, n) },
  };
}

export default mapPacked;
