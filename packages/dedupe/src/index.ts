export { readBodyField, isValidFieldPath } from "./body-field.js";
export {
  EVENT_ID_MAX_LENGTH,
  HASHED_ID_PREFIX,
  deriveEventKey,
  isValidSourceId,
  normaliseEventId,
} from "./event-key.js";
export type { EventKey, EventKeyInput, IdSource } from "./event-key.js";
export { DEFAULT_RECENT_KEYS, RecentKeys } from "./recent-keys.js";
export type { RecentKeysOptions, RecentKeysStats } from "./recent-keys.js";
