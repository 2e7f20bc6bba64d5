import { createHash } from "node:crypto";
import type { WarehouseRow } from "@tributary/schema";
import { WarehouseError } from "./sink.js";

/**
 * What a ClickHouse server can do for the sink, derived from `SELECT version()`. Everything here is
 * pure, so both paths are unit-tested even though only 18.16 (Debian bookworm's package) runs in
 * the integration tests.
 */
export interface ClickHouseFeatures {
  /** `DateTime64(3, 'UTC')` columns and `toUnixTimestamp64Milli` (20.5 and later). */
  dateTime64: boolean;
  /**
   * The per-insert `insert_deduplication_token` setting (22.2 and later); the sink creates the
   * table with `non_replicated_deduplication_window` so that a plain MergeTree honours it.
   */
  dedupToken: boolean;
  /**
   * Table TTLs (19.6 and later): retention is enforced by the engine at merges, set by `migrate()`
   * from the policy. Without them `enforceRetention` deletes expired rows with mutations.
   */
  ttl: boolean;
  /** `ALTER TABLE … REMOVE TTL` (20.12 and later), for a policy that stops expiring a table. */
  removeTtl: boolean;
}

/**
 * How the events table stores instants. `datetime64`: one `DateTime64(3, 'UTC')` column each.
 * `epoch-ms`: for servers without DateTime64, a `DateTime('UTC')` column (seconds, for time
 * functions) plus an exact `*_ms` Int64 column of epoch milliseconds, which is what the sink reads.
 */
export type ClickHouseLayout = "datetime64" | "epoch-ms";

/** The numeric parts of a version string: "18.16.1" → [18, 16, 1]; "24.8.4.13" → [24, 8, 4, 13]. */
export function parseClickHouseVersion(version: string): number[] {
  const match = /^\s*(\d+(?:\.\d+)*)/.exec(version);
  if (!match) throw new TypeError(`not a ClickHouse version: ${JSON.stringify(version)}`);
  return match[1]!.split(".").map(Number);
}

function atLeast(parts: number[], major: number, minor: number): boolean {
  const [a = 0, b = 0] = parts;
  return a > major || (a === major && b >= minor);
}

export function clickHouseFeatures(version: string): ClickHouseFeatures {
  const parts = parseClickHouseVersion(version);
  return {
    dateTime64: atLeast(parts, 20, 5),
    dedupToken: atLeast(parts, 22, 2),
    ttl: atLeast(parts, 19, 6),
    removeTtl: atLeast(parts, 20, 12),
  };
}

/** The layout a new table gets on a server with these features. */
export function preferredLayout(features: ClickHouseFeatures): ClickHouseLayout {
  return features.dateTime64 ? "datetime64" : "epoch-ms";
}

/** Blocks whose tokens a non-replicated table remembers (matches the replicated default). */
export const DEFAULT_DEDUP_WINDOW = 1000;

/** Columns in insert order, per layout (the names the sink writes and reads). */
export function layoutColumns(layout: ClickHouseLayout): readonly string[] {
  return layout === "datetime64"
    ? [
        "event_key",
        "source",
        "event_id",
        "event_type",
        "schema_version",
        "occurred_at",
        "received_at",
        "loaded_at",
        "region",
        "region_seq",
        "payload",
      ]
    : [
        "event_key",
        "source",
        "event_id",
        "event_type",
        "schema_version",
        "occurred_at",
        "occurred_at_ms",
        "received_at",
        "received_at_ms",
        "loaded_at",
        "loaded_at_ms",
        "region",
        "region_seq",
        "payload",
      ];
}

/**
 * The events table. ReplacingMergeTree ordered by `event_key`: rows with the same key collapse into
 * one at merge time, and `FINAL` collapses them at read time before that. No `PARTITION BY`, on
 * purpose: ReplacingMergeTree only collapses rows within one partition, and two copies of an event
 * can carry different `received_at` values (a retry that landed in another region).
 */
export function clickHouseTableDdl(
  table: string,
  layout: ClickHouseLayout,
  options: { dedupWindow?: number } = {},
): string {
  if (layout === "datetime64") {
    const settings = options.dedupWindow
      ? `\nSETTINGS non_replicated_deduplication_window = ${Math.trunc(options.dedupWindow)}`
      : "";
    return `CREATE TABLE IF NOT EXISTS ${table}
(
  event_key      String,
  source         LowCardinality(String),
  event_id       String,
  event_type     LowCardinality(String),
  schema_version LowCardinality(Nullable(String)),
  occurred_at    Nullable(DateTime64(3, 'UTC')),
  received_at    DateTime64(3, 'UTC'),
  loaded_at      DateTime64(3, 'UTC') DEFAULT now(),
  region         LowCardinality(String),
  region_seq     UInt64,
  payload        String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree
ORDER BY event_key${settings}`;
  }
  return `CREATE TABLE IF NOT EXISTS ${table}
(
  event_key      String,
  source         String,
  event_id       String,
  event_type     String,
  schema_version Nullable(String),
  occurred_at    Nullable(DateTime('UTC')),
  occurred_at_ms Nullable(Int64),
  received_at    DateTime('UTC'),
  received_at_ms Int64,
  loaded_at      DateTime('UTC') DEFAULT now(),
  loaded_at_ms   Int64 DEFAULT toInt64(toUnixTimestamp(now())) * 1000,
  region         String,
  region_seq     UInt64,
  payload        String
)
ENGINE = ReplacingMergeTree
ORDER BY event_key`;
}

/**
 * Which layout an existing table has, from its `system.columns` rows; null when it has neither
 * (not a table this sink created). A table keeps its layout when the server is upgraded.
 */
export function detectLayout(columns: ReadonlyArray<{ name: string; type: string }>): ClickHouseLayout | null {
  const byName = new Map(columns.map((c) => [c.name, c.type]));
  const has = (layout: ClickHouseLayout) => layoutColumns(layout).every((name) => byName.has(name));
  if (byName.has("received_at_ms") && has("epoch-ms")) return "epoch-ms";
  if ((byName.get("received_at") ?? "").startsWith("DateTime64") && has("datetime64")) return "datetime64";
  return null;
}

/** A ClickHouse identifier, back-quoted; names are restricted so that no escaping is ever needed. */
export function sqlIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new TypeError(`not a plain ClickHouse identifier: ${JSON.stringify(name)}`);
  return "`" + name + "`";
}

/**
 * A ClickHouse string literal. 18.16 has no query parameters (`{name:Type}` came with 19.x), so
 * values are inlined: backslash, quote and control characters are escaped, the rest is UTF-8.
 */
export function sqlString(value: string): string {
  return (
    "'" +
    // eslint-disable-next-line no-control-regex -- control characters are exactly what this escapes
    value.replace(/[\\'\u0000-\u001f\u007f]/g, (c) => {
      if (c === "\\") return "\\\\";
      if (c === "'") return "\\'";
      return "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0");
    }) +
    "'"
  );
}

// DateTime('UTC') is an unsigned 32-bit count of seconds; DateTime64 covers 1900..2299. Values
// outside wrap around or saturate differently per version, so the sink clamps them itself (the
// epoch-ms layout keeps the exact instant in its *_ms column; the payload always keeps the original).
const DATETIME_MAX_S = 4_294_967_295;
const DATETIME64_MIN_MS = Date.UTC(1900, 0, 1);
const DATETIME64_MAX_MS = Date.UTC(2299, 11, 31, 23, 59, 59, 999);

function epochSeconds(ms: number): number {
  return Math.min(Math.max(Math.floor(ms / 1000), 0), DATETIME_MAX_S);
}

/** "YYYY-MM-DD hh:mm:ss.sss", the basic text form every DateTime64 parser reads, in UTC. */
function dateTime64Text(ms: number): string {
  const clamped = Math.min(Math.max(ms, DATETIME64_MIN_MS), DATETIME64_MAX_MS);
  const iso = new Date(clamped).toISOString(); // 2026-03-04T14:32:08.441Z
  return `"${iso.slice(0, 10)} ${iso.slice(11, 23)}"`;
}

const j = JSON.stringify;

/** One JSONEachRow line for the layout; `loadedAtMs` is the sink's clock for the whole batch. */
export function encodeRow(row: WarehouseRow, layout: ClickHouseLayout, loadedAtMs: number): string {
  const occurred = row.occurred_at === null ? null : row.occurred_at.getTime();
  const received = row.received_at.getTime();
  if (Number.isNaN(occurred) || Number.isNaN(received) || !Number.isSafeInteger(row.region_seq) || row.region_seq < 0) {
    // Refused like a row the server cannot parse, so that the loader can isolate and dead-letter it.
    throw new WarehouseError(
      "warehouse_rejected",
      `row ${JSON.stringify(row.event_key)} has an invalid date or region_seq`,
    );
  }
  const head =
    `{"event_key":${j(row.event_key)},"source":${j(row.source)},"event_id":${j(row.event_id)},` +
    `"event_type":${j(row.event_type)},"schema_version":${row.schema_version === null ? "null" : j(row.schema_version)},`;
  const tail = `"region":${j(row.region)},"region_seq":${row.region_seq},"payload":${j(row.payload)}}`;
  if (layout === "datetime64") {
    return (
      head +
      `"occurred_at":${occurred === null ? "null" : dateTime64Text(occurred)},"received_at":${dateTime64Text(received)},` +
      `"loaded_at":${dateTime64Text(loadedAtMs)},` +
      tail
    );
  }
  // 18.16 fills omitted JSONEachRow fields with the type's zero, not the column DEFAULT
  // (input_format_defaults_for_omitted_fields came later), so every column is sent.
  return (
    head +
    `"occurred_at":${occurred === null ? "null" : epochSeconds(occurred)},"occurred_at_ms":${occurred === null ? "null" : occurred},` +
    `"received_at":${epochSeconds(received)},"received_at_ms":${received},` +
    `"loaded_at":${epochSeconds(loadedAtMs)},"loaded_at_ms":${loadedAtMs},` +
    tail
  );
}

/**
 * The `insert_deduplication_token` of an insert: a hash of the (sorted) event keys it carries. Two
 * inserts of the same keys are the same events, so the server may drop the second whole even when
 * other columns differ (a copy received in another region); the loaded_at clock is left out on
 * purpose, or a retry would never match.
 */
export function dedupToken(keys: readonly string[]): string {
  const hash = createHash("sha256");
  for (const key of [...keys].sort()) hash.update(`${key.length}:`).update(key);
  return `tributary-${hash.digest("hex")}`;
}
