export { MAX_JSON_DEPTH, MAX_JSON_NODES, parseEventBody } from "./parse.js";
export type { ParseResult } from "./parse.js";

export { createEventValidator } from "./validate.js";
export type { EventValidator, NormalizedEvent, ValidateOptions, ValidationResult } from "./validate.js";
export type { ValidationIssue } from "./ajv.js";

export {
  EnvelopeSchema,
  EPOCH_SECONDS_BELOW,
  EVENT_ID_MAX_LENGTH,
  EVENT_TYPE_MAX_LENGTH,
  EVENT_TYPE_PATTERN,
  SCHEMA_VERSION_MAX_LENGTH,
  normalizeTimestamp,
} from "./envelope.js";
export type { Envelope } from "./envelope.js";

export { EVENT_DATA_SCHEMAS, KNOWN_EVENT_TYPES, isKnownEventType } from "./payloads.js";
export type { KnownEventData, KnownEventType } from "./payloads.js";

export { toWarehouseRow, WAREHOUSE_COLUMNS } from "./row.js";
export type {
  WarehouseColumn,
  WarehouseColumnName,
  WarehouseColumnType,
  WarehouseRow,
  WarehouseRowMeta,
} from "./row.js";

export { emptyEnrichment, ENRICHED_COLUMNS, parseEnrichment } from "./enriched.js";
export type { EnrichedColumnType, EnrichedFields } from "./enriched.js";
