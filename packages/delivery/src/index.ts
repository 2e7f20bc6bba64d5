export {
  DEFAULT_BREAKER,
  DEFAULT_DELIVERY_TIMEOUT_MS,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_RETRY,
  DEFAULT_SANDBOX,
  DestinationSchema,
  MAX_SANDBOX_MEMORY_BYTES,
  RESPONSE_SNIPPET_BYTES,
} from "./config.js";
export type { DestinationConfig } from "./config.js";
export { DELIVERY_FAILURES, RetryableDeliveryError } from "./errors.js";
export { AddressPolicy, AddressRefusedError, policyConnector, policyLookup } from "./address-policy.js";
export type { AllowedAddresses } from "./address-policy.js";
export type { DeliveryFailureCode } from "./errors.js";
export { eventFromMessage, routes, sandboxInput, withEnrichment } from "./event.js";
export type { DeliveryEvent } from "./event.js";
export {
  compileFilter,
  describeFilterError,
  FILTER_MAX_DEPTH,
  FILTER_MAX_SEQUENCE,
  FilterTimeoutError,
} from "./filter.js";
export { Sandbox, SANDBOX_HEAP_MB } from "./sandbox/host.js";
export type { SandboxOutcome, SandboxSpec } from "./sandbox/protocol.js";
export { BODY_SNIPPET_CHARS, MAX_DETAIL_CHARS, scrubDetail } from "./scrub.js";
export type { EventFilter } from "./filter.js";
export { Transformer } from "./transform.js";
export type { TransformLimits, TransformResult } from "./transform.js";
export { classifyStatus, parseRetryAfter, retryDelayMs } from "./backoff.js";
export { DestinationBreaker, destinationBreaker, PROBE_JITTER, SlidingWindow, WINDOW_BUCKETS } from "./breaker.js";
export type {
  AttemptFailureKind,
  BreakerClock,
  BreakerPermit,
  BreakerSettings,
  BreakerState,
  BreakerTransition,
} from "./breaker.js";
export { Deliverer, SANDBOX_TIMEOUT_ATTEMPTS } from "./deliverer.js";
export type {
  AttemptStartHook,
  DeliveryLog,
  DelivererOptions,
  DestinationState,
  DestinationStateChange,
} from "./deliverer.js";
export { TokenBucket } from "./rate-limit.js";
export { emptyStats } from "./records.js";
export type { AttemptOutcome, AttemptRecord, DestinationStats } from "./records.js";
export { DestinationSender } from "./sender.js";
export type { SendResult } from "./sender.js";
export { replayDeliveryRange } from "./replay.js";
export type { RangeReplayResult, RangeReplayStop } from "./replay.js";
