import { DuckDBTimestampTZValue, type DuckDBAppender } from "@duckdb/node-api";
import { ENRICHED_COLUMNS, type WarehouseRow } from "@tributary/schema";

/** What the sink assigns at insert, the same for every row of a batch but `loadSeq`. */
export interface LoadStamp {
  loadedAt: DuckDBTimestampTZValue;
  loadSeq: number;
}

type ColumnWriter = (appender: DuckDBAppender, row: WarehouseRow, stamp: LoadStamp) => void;

export function toTimestamp(date: Date): DuckDBTimestampTZValue {
  return new DuckDBTimestampTZValue(BigInt(date.getTime()) * 1000n);
}

const nullableVarchar = (appender: DuckDBAppender, value: string | null) =>
  value === null ? appender.appendNull() : appender.appendVarchar(value);

const BASE_WRITERS: Record<string, ColumnWriter> = {
  event_key: (a, r) => a.appendVarchar(r.event_key),
  source: (a, r) => a.appendVarchar(r.source),
  event_id: (a, r) => a.appendVarchar(r.event_id),
  event_type: (a, r) => a.appendVarchar(r.event_type),
  schema_version: (a, r) => nullableVarchar(a, r.schema_version),
  occurred_at: (a, r) => (r.occurred_at === null ? a.appendNull() : a.appendTimestampTZ(toTimestamp(r.occurred_at))),
  received_at: (a, r) => a.appendTimestampTZ(toTimestamp(r.received_at)),
  loaded_at: (a, _r, s) => a.appendTimestampTZ(s.loadedAt),
  region: (a, r) => a.appendVarchar(r.region),
  region_seq: (a, r) => a.appendUBigInt(BigInt(r.region_seq)),
  payload: (a, r) => a.appendVarchar(r.payload),
  load_seq: (a, _r, s) => a.appendBigInt(BigInt(s.loadSeq)),
};

const ENRICHED_WRITERS: Record<string, ColumnWriter> = Object.fromEntries(
  ENRICHED_COLUMNS.map((column): [string, ColumnWriter] => [
    column.name,
    (a, r) => {
      const value = r.enriched?.[column.name] ?? null;
      if (value === null) a.appendNull();
      else if (typeof value === "boolean") a.appendBoolean(value);
      else a.appendVarchar(value);
    },
  ]),
);

/**
 * Appends one row to the events table with its columns in the table's own order. The Appender is
 * positional, and a file migrated by ALTER TABLE may order its columns differently from a new one,
 * so the order is read from the file once (at migrate) and the writers are lined up to it.
 */
export function eventRowAppender(columnsInTableOrder: readonly string[]): ColumnWriter {
  const writers = columnsInTableOrder.map((name) => {
    const writer = BASE_WRITERS[name] ?? ENRICHED_WRITERS[name];
    if (!writer) throw new TypeError(`events.${name}: a column this sink does not know how to fill`);
    return writer;
  });
  return (appender, row, stamp) => {
    for (const write of writers) write(appender, row, stamp);
    appender.endRow();
  };
}

/** One per-minute rollup cell and its counts, as `events_rollup_minute` keeps them. */
export interface RollupCell {
  minuteMs: number;
  source: string;
  eventType: string;
  campaign: string;
  country: string;
  device: string;
  events: number;
  uniqueEvents: number;
  suspiciousEvents: number;
}

const MINUTE_MS = 60_000;

/**
 * The rollup's increments for rows known to be new: the same grouping the SQL statement makes
 * (minute of event time, else receipt time, in UTC; NULL dimensions as ''), computed here so a
 * batch does not scan the events table to count what it has just appended.
 */
export function rollupCells(rows: readonly WarehouseRow[]): RollupCell[] {
  const cells = new Map<string, RollupCell>();
  for (const row of rows) {
    const time = (row.occurred_at ?? row.received_at).getTime();
    const minuteMs = Math.floor(time / MINUTE_MS) * MINUTE_MS;
    const campaign = row.enriched?.campaign ?? "";
    const country = row.enriched?.geo_country ?? "";
    const device = row.enriched?.device_type ?? "";
    const key = JSON.stringify([minuteMs, row.source, row.event_type, campaign, country, device]);
    let cell = cells.get(key);
    if (!cell) {
      cell = {
        minuteMs,
        source: row.source,
        eventType: row.event_type,
        campaign,
        country,
        device,
        events: 0,
        uniqueEvents: 0,
        suspiciousEvents: 0,
      };
      cells.set(key, cell);
    }
    cell.events++;
    if (row.enriched?.is_unique === true) cell.uniqueEvents++;
    if (row.enriched?.is_suspicious === true) cell.suspiciousEvents++;
  }
  return [...cells.values()];
}

export function appendRollupCell(appender: DuckDBAppender, cell: RollupCell): void {
  appender.appendTimestampTZ(new DuckDBTimestampTZValue(BigInt(cell.minuteMs) * 1000n));
  appender.appendVarchar(cell.source);
  appender.appendVarchar(cell.eventType);
  appender.appendVarchar(cell.campaign);
  appender.appendVarchar(cell.country);
  appender.appendVarchar(cell.device);
  appender.appendBigInt(BigInt(cell.events));
  appender.appendBigInt(BigInt(cell.uniqueEvents));
  appender.appendBigInt(BigInt(cell.suspiciousEvents));
  appender.endRow();
}
