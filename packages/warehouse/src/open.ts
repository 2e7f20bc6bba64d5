import { ClickHouseSink } from "./clickhouse.js";
import { DuckDbSink } from "./duckdb.js";
import { WarehouseError, type WarehouseReader, type WarehouseSink } from "./sink.js";

const SUPPORTED = "use duckdb:///path/to/file.duckdb or clickhouse://[user:password@]host:8123/database";

/**
 * Opens the sink a URL names: `duckdb:///absolute/path.duckdb`, `duckdb:relative.duckdb`,
 * `duckdb::memory:`, or `clickhouse://[user:password@]host:8123/database` (`clickhouses://` for
 * HTTPS). A ClickHouse sink connects on first use, not here.
 */
export async function openWarehouse(url: string): Promise<WarehouseSink & WarehouseReader> {
  if (url.startsWith("duckdb:")) {
    const [rest = "", query = ""] = url.slice("duckdb:".length).split("?", 2);
    const path = rest.startsWith("//") ? rest.slice(2) : rest;
    if (!path)
      throw new WarehouseError(
        "warehouse_url_invalid",
        `warehouse URL ${url} names no file: use duckdb:///path/to/file.duckdb`,
      );
    // ?memory_limit=1GB sets DuckDB's working-memory budget (default DEFAULT_DUCKDB_MEMORY_LIMIT).
    const memoryLimit = new URLSearchParams(query).get("memory_limit") ?? undefined;
    return DuckDbSink.open(path, memoryLimit ? { memoryLimit } : {});
  }
  if (url.startsWith("clickhouse:") || url.startsWith("clickhouses:")) return ClickHouseSink.open(url);
  throw new WarehouseError(
    "warehouse_url_invalid",
    `unsupported warehouse URL ${JSON.stringify(redactUrl(url))}: ${SUPPORTED}`,
  );
}

/** The URL without a password, for messages. */
/** The URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, "$1:***@");
}
