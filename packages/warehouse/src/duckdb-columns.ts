import { ENRICHED_COLUMNS, type EnrichedFields, type WarehouseRow } from "@tributary/schema";

type FlagName = "is_bot" | "is_unique" | "is_suspicious";
type TextName = Exclude<keyof EnrichedFields, FlagName>;

/** A flag column's NULL (its true and false are 1 and 0). */
export const NULL_FLAG = -1;

/** The enriched columns of a batch: text as values (null for NULL), booleans as 1, 0 or NULL_FLAG. */
export type EnrichedColumns = { [K in TextName]: Array<string | null> } & { [K in FlagName]: Int8Array };

/**
 * A batch of events rows held column by column: what the loader's mapping workers hand back (its
 * typed arrays travel as transferred buffers, its strings as one array per column, far cheaper to
 * receive than as many row objects) and what `DuckDbSink.insertColumns` writes as data chunks.
 * Timestamps are epoch milliseconds, NaN for NULL.
 */
export interface EventColumns {
  readonly length: number;
  readonly event_key: string[];
  readonly source: string[];
  readonly event_id: string[];
  readonly event_type: string[];
  readonly schema_version: Array<string | null>;
  readonly occurred_at: Float64Array;
  readonly received_at: Float64Array;
  readonly region: string[];
  readonly region_seq: Float64Array;
  readonly payload: string[];
  /** null when no row of the batch was enriched (every enriched column NULL). */
  readonly enriched: EnrichedColumns | null;
}

const FLAGS: ReadonlySet<string> = new Set<FlagName>(["is_bot", "is_unique", "is_suspicious"]);

function emptyEnriched(length: number): EnrichedColumns {
  const out: Record<string, Array<string | null> | Int8Array> = {};
  for (const { name } of ENRICHED_COLUMNS)
    out[name] = FLAGS.has(name) ? new Int8Array(length).fill(NULL_FLAG) : new Array<string | null>(length).fill(null);
  return out as EnrichedColumns;
}

/** Columns for `length` rows, to be filled with setColumnsRow. */
export function emptyColumns(length: number, enriched: boolean): EventColumns {
  return {
    length,
    event_key: new Array<string>(length),
    source: new Array<string>(length),
    event_id: new Array<string>(length),
    event_type: new Array<string>(length),
    schema_version: new Array<string | null>(length),
    occurred_at: new Float64Array(length),
    received_at: new Float64Array(length),
    region: new Array<string>(length),
    region_seq: new Float64Array(length),
    payload: new Array<string>(length),
    enriched: enriched ? emptyEnriched(length) : null,
  };
}

/** Writes a row into position `i` (its enriched fields only if the columns have them). */
export function setColumnsRow(cols: EventColumns, i: number, row: WarehouseRow): void {
  cols.event_key[i] = row.event_key;
  cols.source[i] = row.source;
  cols.event_id[i] = row.event_id;
  cols.event_type[i] = row.event_type;
  cols.schema_version[i] = row.schema_version;
  cols.occurred_at[i] = row.occurred_at === null ? NaN : row.occurred_at.getTime();
  cols.received_at[i] = row.received_at.getTime();
  cols.region[i] = row.region;
  cols.region_seq[i] = row.region_seq;
  cols.payload[i] = row.payload;
  const e = row.enriched;
  if (!cols.enriched || !e) return;
  const out = cols.enriched as unknown as Record<string, Array<string | null> | Int8Array>;
  for (const { name } of ENRICHED_COLUMNS) {
    const value = e[name];
    if (FLAGS.has(name)) (out[name] as Int8Array)[i] = value === null ? NULL_FLAG : value ? 1 : 0;
    else (out[name] as Array<string | null>)[i] = value as string | null;
  }
}

/** Rows as columns (the enriched columns when any row has them). */
export function columnsOfRows(rows: readonly WarehouseRow[]): EventColumns {
  const cols = emptyColumns(
    rows.length,
    rows.some((r) => r.enriched !== undefined),
  );
  rows.forEach((row, i) => setColumnsRow(cols, i, row));
  return cols;
}

/** Row `i` as a WarehouseRow (for sinks that take rows, and for tests). */
export function rowOfColumns(cols: EventColumns, i: number): WarehouseRow {
  const occurred = cols.occurred_at[i]!;
  const row: WarehouseRow = {
    event_key: cols.event_key[i]!,
    source: cols.source[i]!,
    event_id: cols.event_id[i]!,
    event_type: cols.event_type[i]!,
    schema_version: cols.schema_version[i] ?? null,
    occurred_at: Number.isNaN(occurred) ? null : new Date(occurred),
    received_at: new Date(cols.received_at[i]!),
    region: cols.region[i]!,
    region_seq: cols.region_seq[i]!,
    payload: cols.payload[i]!,
  };
  if (cols.enriched) {
    const e: Record<string, string | boolean | null> = {};
    const src = cols.enriched as unknown as Record<string, Array<string | null> | Int8Array>;
    for (const { name } of ENRICHED_COLUMNS) {
      const value = src[name]![i];
      e[name] = FLAGS.has(name) ? (value === NULL_FLAG ? null : value === 1) : ((value as string | null) ?? null);
    }
    row.enriched = e as unknown as EnrichedFields;
  }
  return row;
}

/** The rows at `indexes`, in that order, as columns of their own. */
export function pickColumns(cols: EventColumns, indexes: readonly number[]): EventColumns {
  const pickText = <T>(values: readonly T[]): T[] => indexes.map((i) => values[i]!);
  const pickNum = (values: Float64Array) => Float64Array.from(indexes, (i) => values[i]!);
  let enriched: EnrichedColumns | null = null;
  if (cols.enriched) {
    const out: Record<string, Array<string | null> | Int8Array> = {};
    const src = cols.enriched as unknown as Record<string, Array<string | null> | Int8Array>;
    for (const { name } of ENRICHED_COLUMNS) {
      const values = src[name]!;
      out[name] =
        values instanceof Int8Array
          ? Int8Array.from(indexes, (i) => values[i]!)
          : pickText(values as Array<string | null>);
    }
    enriched = out as EnrichedColumns;
  }
  return {
    length: indexes.length,
    event_key: pickText(cols.event_key),
    source: pickText(cols.source),
    event_id: pickText(cols.event_id),
    event_type: pickText(cols.event_type),
    schema_version: pickText(cols.schema_version),
    occurred_at: pickNum(cols.occurred_at),
    received_at: pickNum(cols.received_at),
    region: pickText(cols.region),
    region_seq: pickNum(cols.region_seq),
    payload: pickText(cols.payload),
    enriched,
  };
}

/** The positions of each key's first row: a batch may hold one event twice (a redelivery beside its original). */
export function firstOfEachKey(cols: EventColumns): number[] | undefined {
  const seen = new Set<string>();
  const keep: number[] = [];
  for (let i = 0; i < cols.length; i++) {
    const key = cols.event_key[i]!;
    if (seen.has(key)) continue;
    seen.add(key);
    keep.push(i);
  }
  return keep.length === cols.length ? undefined : keep;
}

/** Columns one after another, as one batch. */
export function concatColumns(parts: readonly EventColumns[]): EventColumns {
  if (parts.length === 1) return parts[0]!;
  const length = parts.reduce((n, p) => n + p.length, 0);
  const text = <T>(pick: (c: EventColumns) => T[]): T[] => parts.flatMap(pick);
  const num = (pick: (c: EventColumns) => Float64Array) => {
    const out = new Float64Array(length);
    let at = 0;
    for (const part of parts) {
      out.set(pick(part), at);
      at += part.length;
    }
    return out;
  };
  let enriched: EnrichedColumns | null = null;
  if (parts.some((p) => p.enriched !== null)) {
    const filled = parts.map((p) => p.enriched ?? emptyEnriched(p.length));
    const out: Record<string, Array<string | null> | Int8Array> = {};
    for (const { name } of ENRICHED_COLUMNS) {
      const columns = filled.map((e) => (e as unknown as Record<string, Array<string | null> | Int8Array>)[name]!);
      if (FLAGS.has(name)) {
        const flags = new Int8Array(length);
        let at = 0;
        for (const c of columns as Int8Array[]) {
          flags.set(c, at);
          at += c.length;
        }
        out[name] = flags;
      } else out[name] = (columns as Array<Array<string | null>>).flat();
    }
    enriched = out as EnrichedColumns;
  }
  return {
    length,
    event_key: text((c) => c.event_key),
    source: text((c) => c.source),
    event_id: text((c) => c.event_id),
    event_type: text((c) => c.event_type),
    schema_version: text((c) => c.schema_version),
    occurred_at: num((c) => c.occurred_at),
    received_at: num((c) => c.received_at),
    region: text((c) => c.region),
    region_seq: num((c) => c.region_seq),
    payload: text((c) => c.payload),
    enriched,
  };
}
