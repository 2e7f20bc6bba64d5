export { DEFAULT_DUCKDB_MEMORY_LIMIT, DuckDbSink } from "./duckdb.js";
export { ClickHouseSink, parseClickHouseUrl } from "./clickhouse.js";
export type { ClickHouseOptions, ClickHouseServerInfo } from "./clickhouse.js";
export { clickHouseFeatures, clickHouseTableDdl } from "./clickhouse-schema.js";
export type { ClickHouseFeatures, ClickHouseLayout } from "./clickhouse-schema.js";
export { openWarehouse } from "./open.js";
export { WarehouseError } from "./sink.js";
export type { EventPage, InsertResult, StoredEvent, WarehouseReader, WarehouseSink } from "./sink.js";
export type { AnalyticsGroup, AnalyticsQuery, AnalyticsRow, EventFilter, EventListPage, EventQueries, QueriedEvent } from "./query.js";
