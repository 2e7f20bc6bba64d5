export { DuckDbSink } from "./duckdb.js";
export { openWarehouse } from "./open.js";
export { WarehouseError } from "./sink.js";
export type { EventPage, InsertResult, StoredEvent, WarehouseReader, WarehouseSink } from "./sink.js";
