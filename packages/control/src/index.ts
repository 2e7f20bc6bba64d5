export { SEALED_ERRORS, SealedSecretError, SealingKeys } from "./sealed.js";
export {
  CONTROL_BUCKET,
  CONTROL_ERRORS,
  CONTROL_HISTORY,
  ControlStore,
  ControlStoreError,
  hubBucketOptions,
  regionMirrorOptions,
} from "./store.js";
export type { BreakerReport, RecordChange, ResourceKind, StoredRecord } from "./store.js";
export {
  BATCH_MAX_BODY_BYTES_LIMIT,
  DEFAULT_MAX_BODY_BYTES,
  HEADER_ALLOWANCE_BYTES,
  MAX_BODY_BYTES_LIMIT,
  SchemeSettingsSchema,
  SourceSettingsSchema,
} from "./source-settings.js";
export type { SourceSettings } from "./source-settings.js";
export { nextExpiry, openSigningKeys, secretPlace, SUBSCRIPTION_STATE_FIELDS } from "./records.js";
export type { SourceRecord, StoredSecret, SubscriptionState } from "./records.js";
