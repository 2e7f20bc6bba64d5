export { DEFAULT_DUCKDB_CHECKPOINT_THRESHOLD, DEFAULT_DUCKDB_MEMORY_LIMIT, DuckDbSink } from "./duckdb.js";
export type { DuckDbSinkOptions } from "./duckdb.js";
export {
  columnsOfRows,
  concatColumns,
  emptyColumns,
  NULL_FLAG,
  pickColumns,
  rowOfColumns,
  setColumnsRow,
} from "./duckdb-columns.js";
export type { EnrichedColumns, EventColumns } from "./duckdb-columns.js";
export { ClickHouseSink, parseClickHouseUrl } from "./clickhouse.js";
export type { ClickHouseOptions, ClickHouseServerInfo } from "./clickhouse.js";
export { clickHouseFeatures, clickHouseTableDdl } from "./clickhouse-schema.js";
export type { ClickHouseFeatures, ClickHouseLayout } from "./clickhouse-schema.js";
export { openWarehouse } from "./open.js";
export { WAREHOUSE_ERRORS, WarehouseError } from "./sink.js";
export type { EventPage, InsertResult, StoredEvent, WarehouseReader, WarehouseSink } from "./sink.js";
export { isReconcileReader, rangesOf } from "./reconcile.js";
export type { ReconcileReader } from "./reconcile.js";
export { hasDeliveryLog } from "./deliveries.js";
export type { DeliveryHealthRow, DeliveryLogStore, DeliveryQuery, DeliveryRow, StoredDelivery } from "./deliveries.js";
export { isEventQueries, isRollupRebuilder } from "./query.js";
export type {
  AnalyticsFilter,
  AnalyticsGroup,
  AnalyticsQuery,
  AnalyticsRow,
  EventFilter,
  EventListPage,
  EventQueries,
  QueriedEvent,
  RevenueQuery,
  RevenueRow,
  RollupRebuild,
  RollupRebuilder,
} from "./query.js";
export { redactUrl } from "./open.js";
export { clampRebuildSince, cutoffOf, isLifecycleStore, rebuildFloor } from "./lifecycle.js";
export type {
  ErasedEvent,
  ErasureSelector,
  LifecycleStore,
  RetentionPolicy,
  RetentionSweep,
  RowErasure,
  TableLifecycle,
} from "./lifecycle.js";
