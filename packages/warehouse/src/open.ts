import { DuckDbSink } from "./duckdb.js";
import { WarehouseError, type WarehouseReader, type WarehouseSink } from "./sink.js";

/**
 * Opens the sink a URL names: `duckdb:///absolute/path.duckdb`, `duckdb:relative.duckdb` or
 * `duckdb::memory:`. ClickHouse (`clickhouse://host:8123/db`) arrives with the batch-loading work.
 */
export async function openWarehouse(url: string): Promise<WarehouseSink & WarehouseReader> {
  if (url.startsWith("duckdb:")) {
    const rest = url.slice("duckdb:".length);
    const path = rest.startsWith("//") ? rest.slice(2) : rest;
    if (!path) throw new WarehouseError("warehouse_url_invalid", `warehouse URL ${url} names no file: use duckdb:///path/to/file.duckdb`);
    return DuckDbSink.open(path);
  }
  throw new WarehouseError("warehouse_url_invalid", `unsupported warehouse URL ${JSON.stringify(url)}: use duckdb:///path/to/file.duckdb`);
}
