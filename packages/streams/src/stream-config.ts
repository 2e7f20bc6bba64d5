import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  AckPolicy,
  DeliverPolicy,
  type ConsumerConfig,
  type StreamConfig,
} from "@nats-io/jetstream";
import {
  DLQ_STREAM,
  DLQ_SUBJECT_PREFIX,
  ENRICHED_PUBLISH_PREFIX,
  ENRICHED_STREAM,
  HUB_SOURCE_CONSUMER,
  HUB_STREAM,
  REPLAY_SUBJECT_PREFIX,
  hubSourceDeliverSubject,
  regionalStreamName,
  regionSubjects,
  sourceDeliverPrefix,
} from "./names.js";

const MS = 1_000_000; // nanoseconds per millisecond: JetStream durations are nanoseconds

/** How long the region can be cut off from the hub before its oldest events age out. */
export const DEFAULT_REGION_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000; // 7 days
/** Must hold DEFAULT_REGION_MAX_AGE_MS of traffic, or the region refuses (503 buffer_full) early. */
export const DEFAULT_REGION_MAX_BYTES = 10 * 1024 ** 3; // 10 GiB
/**
 * Window of `Nats-Msg-Id` dedupe in the regional stream. Sender retries inside it answer 200
 * duplicate; later ones are caught by the aggregator and the warehouse key. The server keeps every
 * id of the window in memory (~100 bytes each), so this trades memory for earlier answers.
 */
export const DEFAULT_DUPLICATE_WINDOW_MS = 15 * 60 * 1000; // 15 minutes
export const DEFAULT_MAX_MSG_BYTES = 1024 * 1024; // 1 MiB, the largest accepted body
/** The regional stream's largest message by default: the largest body plus room for its headers. */
export const DEFAULT_REGION_MAX_MSG_SIZE = DEFAULT_MAX_MSG_BYTES + 64 * 1024;

export interface RegionalStreamOptions {
  region: string;
  maxBytes?: number;
  maxAgeMs?: number;
  duplicateWindowMs?: number;
  maxMsgBytes?: number;
  replicas?: number;
}

/**
 * The regional buffer: file storage, limits retention (read by the hub, never a work queue), and
 * `discard: new`, so a full buffer refuses new events (503 at the edge) instead of silently
 * dropping the oldest ones.
 */
export function regionalStreamConfig(
  opts: RegionalStreamOptions,
): Partial<StreamConfig> & { name: string; subjects: string[] } {
  return {
    name: regionalStreamName(opts.region),
    subjects: [regionSubjects(opts.region)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_bytes: opts.maxBytes ?? DEFAULT_REGION_MAX_BYTES,
    max_age: (opts.maxAgeMs ?? DEFAULT_REGION_MAX_AGE_MS) * MS,
    duplicate_window: (opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS) * MS,
    max_msg_size: opts.maxMsgBytes ?? DEFAULT_REGION_MAX_MSG_SIZE, // body + headers
    num_replicas: opts.replicas ?? 1,
  };
}

export function dlqStreamConfig(
  opts: { maxAgeMs?: number; maxBytes?: number; replicas?: number } = {},
): Partial<StreamConfig> & { name: string; subjects: string[] } {
  return {
    name: DLQ_STREAM,
    subjects: [`${DLQ_SUBJECT_PREFIX}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: (opts.maxAgeMs ?? 30 * 24 * 60 * 60 * 1000) * MS, // 30 days to inspect and replay
    max_bytes: opts.maxBytes ?? 1024 ** 3,
    num_replicas: opts.replicas ?? 1,
  };
}

export const DEFAULT_ACK_WAIT_MS = 60_000;

export interface LoaderConsumerOptions {
  durable: string;
  /** Bound on unacknowledged messages: the loader's memory bound and backpressure on the stream. */
  maxAckPending: number;
  ackWaitMs?: number;
  filterSubject?: string;
  /** Several filters (the loader on the enriched stream: events and replays). */
  filterSubjects?: readonly string[];
  /**
   * `cumulative`: one ack covers every message below it (AckPolicy.All, acked through
   * CumulativeAcks); `each` (default): every message is acked on its own.
   */
  acks?: "each" | "cumulative";
}

/** A durable pull consumer that reads everything from the start and acks explicitly (or cumulatively). */
export function loaderConsumerConfig(opts: LoaderConsumerOptions): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: opts.durable,
    ack_policy: opts.acks === "cumulative" ? AckPolicy.All : AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: (opts.ackWaitMs ?? DEFAULT_ACK_WAIT_MS) * MS,
    max_ack_pending: opts.maxAckPending,
    max_deliver: -1,
    ...(opts.filterSubject ? { filter_subject: opts.filterSubject } : {}),
    ...(opts.filterSubjects ? { filter_subjects: [...opts.filterSubjects] } : {}),
  };
}

export interface EnrichedStreamOptions {
  maxBytes?: number;
  maxAgeMs?: number;
  duplicateWindowMs?: number;
  replicas?: number;
}

/**
 * The enriched stream (ENRICHED_STREAM): the hub stream's limits, its own subjects (only the enrich
 * stage publishes them), and a duplicate window on the event key, so an event the stage handles
 * twice (a redelivery after a crash) is stored once, with the verdicts it got first. Full, it
 * refuses: the stage waits, and the hub stream holds the events meanwhile.
 */
export function enrichedStreamConfig(opts: EnrichedStreamOptions = {}): Partial<StreamConfig> & { name: string } {
  return {
    name: ENRICHED_STREAM,
    subjects: [`${ENRICHED_PUBLISH_PREFIX}.>`],
    // Stored without the prefix: events.…, replayed.…, derived.… (ENRICHED_PUBLISH_PREFIX).
    subject_transform: { src: `${ENRICHED_PUBLISH_PREFIX}.>`, dest: ">" },
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_bytes: opts.maxBytes ?? DEFAULT_HUB_MAX_BYTES,
    max_age: (opts.maxAgeMs ?? DEFAULT_HUB_MAX_AGE_MS) * MS,
    duplicate_window: (opts.duplicateWindowMs ?? DEFAULT_ENRICHED_DUPLICATE_WINDOW_MS) * MS,
    num_replicas: opts.replicas ?? 1,
  };
}

/** Longer than the hub's: it must cover a stage crash and the redelivery of what it had in hand (ack wait). */
export const DEFAULT_ENRICHED_DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

/** How long the hub keeps events for every reader (the loader, delivery, replays). */
export const DEFAULT_HUB_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000; // 7 days
export const DEFAULT_HUB_MAX_BYTES = 50 * 1024 ** 3; // 50 GiB

export interface HubStreamOptions {
  /** Every region whose stream the hub sources. */
  regions: readonly string[];
  maxBytes?: number;
  maxAgeMs?: number;
  /** See DEFAULT_HUB_DUPLICATE_WINDOW_MS. */
  duplicateWindowMs?: number;
  replicas?: number;
}

/**
 * The hub's duplicate window: the second dedupe depth. Sourced messages keep their `Nats-Msg-Id`,
 * so the same event accepted in two regions (a sender retrying elsewhere) is stored once here, and
 * the loader and every destination never read the copy. nats-server >= 2.14 drops such a sourced
 * duplicate without stalling the source (older servers restarted the source until the window had
 * passed, which is why the project refuses them). The server keeps every id of the window in memory
 * (~100 bytes each: 10,000 events/s for 2 minutes is ~120 MB); a copy arriving later (a region cut
 * off for longer) is caught by the aggregator's recent keys and the warehouse key.
 */
export const DEFAULT_HUB_DUPLICATE_WINDOW_MS = 2 * 60 * 1000; // 2 minutes, nats-server's own default

/**
 * The hub stream: limits retention (never a work queue: the loader and every destination read it
 * independently), sourcing each region's stream through that region's JetStream domain API.
 * Its only subjects take events replayed from the DLQ; everything else arrives by sourcing.
 */
export function hubStreamConfig(opts: HubStreamOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: HUB_STREAM,
    subjects: [`${REPLAY_SUBJECT_PREFIX}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    // Full hub: sourcing pauses and the regions buffer (and then refuse at the edge) rather than
    // the hub dropping events no reader has loaded yet. Size maxBytes for maxAge of traffic.
    discard: DiscardPolicy.New,
    max_bytes: opts.maxBytes ?? DEFAULT_HUB_MAX_BYTES,
    max_age: (opts.maxAgeMs ?? DEFAULT_HUB_MAX_AGE_MS) * MS,
    duplicate_window: (opts.duplicateWindowMs ?? DEFAULT_HUB_DUPLICATE_WINDOW_MS) * MS,
    num_replicas: opts.replicas ?? 1,
    sources: opts.regions.map((region) => ({
      name: regionalStreamName(region),
      external: { api: `$JS.${region}.API`, deliver: sourceDeliverPrefix(region) },
      consumer: { name: HUB_SOURCE_CONSUMER, deliver_subject: hubSourceDeliverSubject(region) },
      subject_transforms: [regionPinningTransform(region)],
    })),
  };
}

/**
 * What the hub does to every event a region's source brings: its region token becomes that
 * region's, so a region can only ever add `events.{its region}.…` to the hub, whatever subjects its
 * stream holds. (A source read through a durable consumer cannot carry a filter of its own: the
 * consumer filters, in the region, see hubSourceConsumerConfig; this transform is the hub's own
 * check, which nats-server applies as it stores each sourced message.)
 */
export function regionPinningTransform(region: string): { src: string; dest: string } {
  return { src: "events.*.>", dest: regionSubjects(region) };
}

/** How many sourced messages may be in flight to the hub before the region waits for its flow-control answer. */
export const HUB_SOURCE_MAX_IN_FLIGHT = 20_000;

/**
 * The durable consumer on a regional stream that the hub sources through. Durable sourcing
 * (nats-server >= 2.14) keeps the position in the region, and the hub resets it to where it stopped
 * instead of creating a new consumer each time; on a restart the hub watches the deliver subject and
 * resumes at the first heartbeat rather than after a long back-off. nats-server requires this shape:
 * push, `flow_control` acks, flow control on, 1 s heartbeats, no ack wait. Its filter is the
 * region's own subjects.
 */
export function hubSourceConsumerConfig(region: string): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: HUB_SOURCE_CONSUMER,
    deliver_subject: hubSourceDeliverSubject(region),
    // Only the region's own events leave for the hub, even from a stream that holds more
    // subjects (a mistaken or hostile stream edit in the region).
    filter_subject: regionSubjects(region),
    deliver_policy: DeliverPolicy.All,
    ack_policy: AckPolicy.FlowControl,
    flow_control: true,
    idle_heartbeat: 1_000 * MS,
    max_ack_pending: HUB_SOURCE_MAX_IN_FLIGHT,
  };
}
