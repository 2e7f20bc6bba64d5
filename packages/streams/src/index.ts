export {
  assertId,
  DERIVED_SUBJECT_PREFIX,
  derivedSubject,
  dlqSubject,
  DLQ_STREAM,
  DLQ_SUBJECT_PREFIX,
  ENRICHED_LOADER_SUBJECTS,
  ENRICHED_PUBLISH_PREFIX,
  ENRICHED_STREAM,
  enrichedSubject,
  EventHeader,
  eventKeyOf,
  eventSubject,
  HUB_ENRICH_DURABLE,
  HUB_LOADER_DURABLE,
  HUB_SOURCE_CONSUMER,
  HUB_STREAM,
  hubSourceDeliverSubject,
  ID_PATTERN,
  InvalidNameError,
  MIN_NATS_SERVER_VERSION,
  natsServerIsRecentEnough,
  regionalStreamName,
  regionSeqOf,
  regionSubjects,
  REPLAY_SUBJECT_PREFIX,
  REPLAYED_SUBJECT_PREFIX,
  replaySubject,
  sourceDeliverPrefix,
} from "./names.js";
export {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_MAX_MSG_BYTES,
  DEFAULT_REGION_MAX_AGE_MS,
  DEFAULT_REGION_MAX_MSG_SIZE,
  DEFAULT_REGION_MAX_BYTES,
  dlqStreamConfig,
  HUB_SOURCE_MAX_IN_FLIGHT,
  hubSourceConsumerConfig,
  loaderConsumerConfig,
  regionalStreamConfig,
} from "./stream-config.js";
export type { LoaderConsumerOptions, RegionalStreamOptions } from "./stream-config.js";
export {
  connectNats,
  inboxOf,
  NatsCredentialsError,
  RECONNECT_JITTER_MS,
  RECONNECT_JITTER_TLS_MS,
  RECONNECT_WAIT_MS,
} from "./connect.js";
export type { NatsConnectOptions } from "./connect.js";
export { ensureConsumer, ensureStream, retryWhileStreamMissing } from "./ensure.js";
export { isPermissionDenied } from "./consumer-permissions.js";
export { CUMULATIVE_ACK_DELAY_MS, CumulativeAcks, trackedDelivery } from "./cumulative-acks.js";
export {
  DEFAULT_PUBLISH_TIMEOUT_MS,
  eventHeaders,
  isPublishError,
  JetStreamErrorCode,
  pubAckFailure,
  publishEvent,
  PUBLISH_ERRORS,
  PublishError,
} from "./publish.js";
export type { EventMessage, PublishFailureCode, PublishReceipt } from "./publish.js";
export { EventHeaderEncoder, JetStreamPipeline, parsePubAck } from "./publish-pipeline.js";
export type { JetStreamPipelineOptions } from "./publish-pipeline.js";
export {
  DEFAULT_ENRICHED_DUPLICATE_WINDOW_MS,
  enrichedStreamConfig,
  DEFAULT_HUB_DUPLICATE_WINDOW_MS,
  DEFAULT_HUB_MAX_AGE_MS,
  DEFAULT_HUB_MAX_BYTES,
  hubStreamConfig,
  regionPinningTransform,
} from "./stream-config.js";
export type { EnrichedStreamOptions, HubStreamOptions } from "./stream-config.js";
export { aggregatorPermissions, gatewayPermissions, leafPermissions, linkExports } from "./permissions.js";
export type { Permissions } from "./permissions.js";
export {
  ADMIN_USER,
  AGGREGATOR_USER,
  DELIVERY_USER,
  CONTROL_USER,
  gatewayUser,
  inboxPermission,
  inboxPrefix,
  leafUser,
} from "./users.js";
export {
  ACCOUNT,
  linkAccountName,
  MAX_PAYLOAD_BYTES,
  renderHubServerConfig,
  renderRegionServerConfig,
} from "./server-config.js";
export type {
  ClusterOptions,
  HubServerOptions,
  RegionServerOptions,
  TlsFiles,
  TlsRemote,
  UserCredential,
} from "./server-config.js";
export { MAX_OUTAGE_BUDGET_SECONDS, outageBudgetSeconds } from "./outage-budget.js";
export type { OutageBudgetInput } from "./outage-budget.js";
export {
  assertDestinationName,
  DELIVERIES_STREAM,
  DELIVERIES_SUBJECT_PREFIX,
  deliveriesStreamConfig,
  DELIVERY_DLQ_STREAM,
  DELIVERY_DLQ_SUBJECT_PREFIX,
  DELIVERY_REPLAY_STREAM,
  DELIVERY_REPLAY_SUBJECT_PREFIX,
  deliveryConsumerConfig,
  deliveryBacklog,
  deliveryConsumerName,
  deliveryDlqStreamConfig,
  deliveryDlqSubject,
  DERIVED_EVENT_TYPES,
  deliveryFilterSubjects,
  deliveryLogSubject,
  deliveryPermissions,
  managedDeliveryPermissions,
  deliveriesLoaderPermissions,
  DEFAULT_DELIVERIES_DURABLE,
  deliveryReplayConsumerConfig,
  deliveryReplayStreamConfig,
  deliveryReplaySubject,
  deliveryScanConsumerConfig,
  deliveryScanConsumerName,
  readDestinationRange,
} from "./delivery.js";
export type { DeliveryBacklog, DeliveryConsumerOptions, DeliveryScope, DeliveryStreamOptions } from "./delivery.js";
export { deleteStoredMessage, firstSeqAtOrAfter, nextBySubject, storedMessage } from "./stored.js";
export { DeliveryDlqHeader, DLQ_BODY_OMITTED, headerRecord, oneLine } from "./dlq/headers.js";
export { DLQ_WRITE_ATTEMPTS, dlqRetryDelayMs, entryBytes, omittedBytes, replayHeaders } from "./dlq/entry.js";
export type { DeadLetterOutcome } from "./dlq/entry.js";
export {
  deadLetterEvent,
  deadLetterLogRecord,
  DELIVERY_LOG_DLQ_SUBJECT,
  countEventsDlq,
  dlqEntryOf,
  dropDlqEntry,
  eventsDlqSummaryOf,
  findDlqEntry,
  isDeliveryLogEntry,
  listEventsDlq,
  readDlqEntry,
  replayAndRemoveDlqEntry,
  replayDlqEntry,
} from "./dlq/events.js";
export type { DlqEntry, EventsDlqSummary } from "./dlq/events.js";
export {
  countDeliveryDlq,
  deadLetterDelivery,
  DEFAULT_DELIVERY_REPLAY_LIMIT,
  dropDeliveryDlqEntry,
  listDeliveryDlq,
  readDeliveryDlqEntry,
  replayDeliveryDlq,
  replayDeliveryDlqEntry,
} from "./dlq/delivery.js";
export type { DeliveryDeadLetter, DeliveryDlqDetail, DeliveryDlqEntry } from "./dlq/delivery.js";
export {
  AUDIT_STREAM,
  AUDIT_SUBJECT_PREFIX,
  auditStreamConfig,
  auditSubject,
  CONTROL_BUCKET,
  CONTROL_HEALTH_PREFIX,
  CONTROL_KV_STREAM,
  controlMirrorDeliverPrefix,
  controlMirrorExports,
  controlMirrorLeafPermissions,
  controlMirrorSource,
  controlPermissions,
  controlReadPermissions,
  HUB_DOMAIN,
} from "./control.js";
export { readStreamRange } from "./read-range.js";
export type { ReadRange } from "./read-range.js";
export {
  ERASABLE_HUB_STREAMS,
  ERASURE_CONSUMER,
  erasurePermissions,
  eraseHubCopies,
  eraseRegionalCopies,
  purgeSourceFromHub,
  purgeSourceFromRegion,
} from "./erasure.js";
export type { RegionalCopy, StreamCopyRef, StreamCounts } from "./erasure.js";
