// @duckdb/node-bindings (the C API under @duckdb/node-api, the same pinned version): a data
// chunk's fixed-width columns are copied in one call each (copy_data_to_vector), where the
// Appender's append calls and node-api's vectors take them one value at a time (a native call,
// and a BigInt or a value object, per value).
import { endianness } from "node:os";
import bindings, { type Vector } from "@duckdb/node-bindings";
import { DuckDBDataChunk, type DuckDBAppender, type DuckDBType } from "@duckdb/node-api";
import { ENRICHED_COLUMNS } from "@tributary/schema";
import { NULL_FLAG, type EventColumns } from "./duckdb-columns.js";

/** What the sink assigns at insert: one load time for the batch, and consecutive `load_seq` from `firstLoadSeq`. */
export interface LoadStamp {
  loadedAtMs: number;
  firstLoadSeq: number;
}

/** Fills rows [from, from + n) of the columns into a chunk's vector (positions 0 … n - 1). */
type ColumnFill = (vector: Vector, cols: EventColumns, from: number, n: number, stamp: LoadStamp) => void;

/** A validity mask (bit set = valid) built only once a NULL turns up; written to the vector at the end. */
class Nulls {
  #words: BigUint64Array | undefined;
  constructor(private readonly n: number) {}
  set(i: number): void {
    this.#words ??= new BigUint64Array(Math.ceil(this.n / 64)).fill(0xffffffffffffffffn);
    this.#words[i >> 6]! &= ~(1n << BigInt(i & 63));
  }
  all(): void {
    this.#words = new BigUint64Array(Math.ceil(this.n / 64));
  }
  write(vector: Vector): void {
    if (!this.#words) return;
    bindings.vector_ensure_validity_writable(vector);
    bindings.copy_data_to_vector_validity(vector, 0, this.#words.buffer as ArrayBuffer, 0, this.#words.byteLength);
  }
}

const copy = (vector: Vector, data: BigInt64Array | Uint8Array | Uint32Array) =>
  bindings.copy_data_to_vector(vector, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);

const LITTLE_ENDIAN = endianness() === "LE";
const TWO_32 = 2 ** 32;

/**
 * 64-bit integers (safe integers: timestamps in µs, sequences) written as two 32-bit halves, so a
 * column costs no BigInt per value (on a big-endian machine, BigInts).
 */
class Int64s {
  readonly words: Uint32Array;
  readonly #big: BigInt64Array | undefined;
  constructor(n: number) {
    this.words = new Uint32Array(n * 2);
    this.#big = LITTLE_ENDIAN ? undefined : new BigInt64Array(this.words.buffer);
  }
  set(i: number, value: number): void {
    if (this.#big) {
      this.#big[i] = BigInt(value);
      return;
    }
    const high = Math.floor(value / TWO_32);
    this.words[i * 2] = value - high * TWO_32;
    this.words[i * 2 + 1] = high; // two's complement: a negative high half wraps as Uint32
  }
}

/** The one value rows [from, from + n) all hold (null for all NULL), or undefined when they differ. */
function sameValue(
  values: ReadonlyArray<string | null> | undefined,
  from: number,
  n: number,
): string | null | undefined {
  const first = values?.[from] ?? null;
  for (let i = 1; i < n; i++) if ((values?.[from + i] ?? null) !== first) return undefined;
  return first;
}

/**
 * Text, one native call per value; a column holding one value in the whole chunk (a batch's
 * source, region and type, an enriched column with nothing derived) as a constant vector or all
 * NULL, in one call.
 */
function text(pick: (cols: EventColumns) => ReadonlyArray<string | null> | undefined): ColumnFill {
  return (vector, cols, from, n) => {
    const values = pick(cols);
    const nulls = new Nulls(n);
    const same = sameValue(values, from, n);
    if (same === null) nulls.all();
    else if (same !== undefined) bindings.vector_reference_value(vector, bindings.create_varchar(same));
    else
      for (let i = 0; i < n; i++) {
        const value = values?.[from + i] ?? null;
        if (value === null) nulls.set(i);
        else bindings.vector_assign_string_element(vector, i, value);
      }
    nulls.write(vector);
  };
}

/** Epoch milliseconds (NaN for NULL) as TIMESTAMPTZ microseconds. */
function timestamp(pick: (cols: EventColumns) => Float64Array): ColumnFill {
  return (vector, cols, from, n) => {
    const values = pick(cols);
    const micros = new Int64s(n);
    const nulls = new Nulls(n);
    for (let i = 0; i < n; i++) {
      const ms = values[from + i]!;
      if (Number.isNaN(ms)) nulls.set(i);
      else micros.set(i, Math.trunc(ms) * 1000);
    }
    copy(vector, micros.words);
    nulls.write(vector);
  };
}

function flag(name: "is_bot" | "is_unique" | "is_suspicious"): ColumnFill {
  return (vector, cols, from, n) => {
    const values = cols.enriched?.[name];
    const bytes = new Uint8Array(n);
    const nulls = new Nulls(n);
    for (let i = 0; i < n; i++) {
      const value = values ? values[from + i]! : NULL_FLAG;
      if (value === NULL_FLAG) nulls.set(i);
      else bytes[i] = value;
    }
    copy(vector, bytes);
    nulls.write(vector);
  };
}

const FILLS: Record<string, ColumnFill> = {
  event_key: text((c) => c.event_key),
  source: text((c) => c.source),
  event_id: text((c) => c.event_id),
  event_type: text((c) => c.event_type),
  schema_version: text((c) => c.schema_version),
  occurred_at: timestamp((c) => c.occurred_at),
  received_at: timestamp((c) => c.received_at),
  loaded_at: (vector, _c, _f, n, stamp) => copy(vector, new BigInt64Array(n).fill(BigInt(stamp.loadedAtMs) * 1000n)),
  region: text((c) => c.region),
  region_seq: (vector, cols, from, n) => {
    const seqs = new Int64s(n);
    for (let i = 0; i < n; i++) seqs.set(i, cols.region_seq[from + i]!);
    copy(vector, seqs.words);
  },
  payload: text((c) => c.payload),
  load_seq: (vector, _c, from, n, stamp) => {
    const seqs = new Int64s(n);
    for (let i = 0; i < n; i++) seqs.set(i, stamp.firstLoadSeq + from + i);
    copy(vector, seqs.words);
  },
  // Set by erasure only, never at load.
  erased_at: (vector, _c, _f, n) => {
    const nulls = new Nulls(n);
    nulls.all();
    nulls.write(vector);
  },
  ...Object.fromEntries(
    ENRICHED_COLUMNS.map(({ name, type }): [string, ColumnFill] => [
      name,
      type === "boolean"
        ? flag(name as "is_bot" | "is_unique" | "is_suspicious")
        : text((c) => (c.enriched as unknown as Record<string, Array<string | null>> | null)?.[name]),
    ]),
  ),
};

/**
 * Appends event columns to a table through its Appender as data chunks (2,048 rows each, DuckDB's
 * vector size), its columns in the table's own order: the Appender is positional, and a file
 * migrated by ALTER TABLE may order its columns differently from a new one, so the order is read
 * from the file once (at migrate) and the fills are lined up to it.
 */
export function eventChunkAppender(
  columnsInTableOrder: readonly string[],
): (appender: DuckDBAppender, cols: EventColumns, stamp: LoadStamp) => void {
  const fills = columnsInTableOrder.map((name) => {
    const fill = FILLS[name];
    if (!fill) throw new TypeError(`events.${name}: a column this sink does not know how to fill`);
    return fill;
  });
  const size = bindings.vector_size();
  return (appender, cols, stamp) => {
    const types: DuckDBType[] = fills.map((_, i) => appender.columnType(i));
    // One chunk, reset after each append: its text lives in native memory that V8 does not see,
    // so chunks left to the garbage collector piled up (hundreds of MiB while draining a backlog).
    const chunk = DuckDBDataChunk.create(types);
    try {
      for (let from = 0; from < cols.length; from += size) {
        const n = Math.min(size, cols.length - from);
        chunk.reset();
        chunk.rowCount = n;
        fills.forEach((fill, i) => fill(bindings.data_chunk_get_vector(chunk.chunk, i), cols, from, n, stamp));
        appender.appendDataChunk(chunk);
      }
    } finally {
      chunk.reset();
    }
  };
}
