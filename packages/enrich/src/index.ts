export { cachedAgentClassifier, classifyAgent, DEFAULT_UA_CACHE_SIZE } from "./agent.js";
export type { AgentInfo } from "./agent.js";
export { campaignFile, campaignMap, DEFAULT_CAMPAIGN_RECHECK_MS } from "./campaigns.js";
export type { CampaignLookup, CampaignSource } from "./campaigns.js";
export { createEnricher, DEFAULT_FIELD_PATHS, DEFAULT_IP_CACHE_SIZE, enricherFromPortable } from "./enricher.js";
export type {
  Enricher,
  EnrichOptions,
  FieldPaths,
  PendingVerdicts,
  PortableEnrichOptions,
  SourceEnrichOptions,
  StatefulVerdicts,
} from "./enricher.js";
export { ENRICH_ERRORS, EnrichError } from "./errors.js";
export type { EnrichErrorCode } from "./errors.js";
export { bundledGeoDatabasePath, openGeoDatabase } from "./geo.js";
export type { GeoLookup, GeoResult } from "./geo.js";
export {
  anonymizeIp,
  DEFAULT_SALT_ROTATION_SECONDS,
  normalizeIp,
  redact,
  RotatingHasher,
  truncateIp,
} from "./privacy.js";
export type { IpMode, IpPrivacyOptions, RedactionRule } from "./privacy.js";
export { reducedUserAgent } from "./payload-privacy.js";
export type { PayloadPrivacy } from "./payload-privacy.js";
export { categorizeReferrer } from "./referrer.js";
export type { ReferrerCategory } from "./referrer.js";
export {
  DEFAULT_SUSPICION_RULES,
  DEFAULT_UNIQUE_RULE,
  SuspicionRules,
  UNIQUE_RULES,
  UniquenessTracker,
  uniqueRule,
} from "./rules.js";
export type { PendingSuspicion, SuspicionRule, SuspicionVerdict, UniqueRule } from "./rules.js";
