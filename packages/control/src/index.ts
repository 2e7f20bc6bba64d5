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
export type { RecordChange, ResourceKind, StoredRecord } from "./store.js";
