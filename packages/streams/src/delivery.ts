import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type StreamConfig,
} from "@nats-io/jetstream";
import { HUB_STREAM, ID_PATTERN, InvalidNameError } from "./names.js";
import { durableConsumerPermissions } from "./consumer-permissions.js";
import type { Permissions } from "./permissions.js";

/**
 * Delivery to HTTP destinations (packages/delivery) at the hub. Each destination reads EVENTS
 * through its own durable consumer `delivery-<destination>`, so its position, lag and backlog live
 * in the stream. Three hub streams of its own: the destination's dead letters, events put back for
 * one destination only (DLQ or time-range replay), and the log of every attempt (loaded into the
 * warehouse's `deliveries` table by the aggregator).
 */
export const DELIVERY_DLQ_STREAM = "DELIVERY_DLQ";
export const DELIVERY_DLQ_SUBJECT_PREFIX = "delivery-dlq";
export const DELIVERY_REPLAY_STREAM = "DELIVERY_REPLAY";
export const DELIVERY_REPLAY_SUBJECT_PREFIX = "redeliver";
export const DELIVERIES_STREAM = "DELIVERIES";
export const DELIVERIES_SUBJECT_PREFIX = "deliveries";

const MS = 1_000_000; // nanoseconds per millisecond

export function assertDestinationName(name: string): void {
  if (!ID_PATTERN.test(name)) throw new InvalidNameError("destination", name);
}

export function deliveryConsumerName(destination: string): string {
  assertDestinationName(destination);
  return `delivery-${destination}`;
}
export function deliveryDlqSubject(destination: string): string {
  return `${DELIVERY_DLQ_SUBJECT_PREFIX}.${destination}`;
}
export function deliveryReplaySubject(destination: string): string {
  return `${DELIVERY_REPLAY_SUBJECT_PREFIX}.${destination}`;
}
export function deliveryLogSubject(destination: string): string {
  return `${DELIVERIES_SUBJECT_PREFIX}.${destination}`;
}

/**
 * The filter subjects of a destination's consumer: exactly its sources × types
 * (`events.*.{source}.{type}`, `*` for every source, `>` for every type), so the consumer is handed
 * only the destination's events. On nats-server 2.10 several filter subjects were ~10× slower than
 * one covering subject, so each consumer had one and the deliverer acked the rest as `filtered`;
 * on 2.15 the list delivers matching events as fast as the covering subject does (measured in
 * packages/delivery/BENCH.md) without reading the others. `replay.{source}` (the loader's DLQ
 * replays) is not taken: destinations already had those events; their own replays come through
 * DELIVERY_REPLAY.
 */
export function deliveryFilterSubjects(sources: readonly string[], types: readonly string[]): string[] {
  const sourceTokens = sources.length > 0 ? [...new Set(sources)] : ["*"];
  const typeTokens = types.length > 0 ? [...new Set(types)] : [">"];
  return sourceTokens.flatMap((source) => typeTokens.map((type) => `events.*.${source}.${type}`));
}

export interface DeliveryConsumerOptions {
  destination: string;
  /** deliveryFilterSubjects(sources, types). */
  filterSubjects: readonly string[];
  /** Events in hand at most (the destination's concurrency bound lives in the deliverer). */
  maxAckPending: number;
  ackWaitMs: number;
  /** Where a new destination starts: `all` (the whole retained hub stream) or `new`. */
  deliverPolicy?: "all" | "new";
}

/** A durable pull consumer per destination; attempts are counted by its delivery count. */
export function deliveryConsumerConfig(
  opts: DeliveryConsumerOptions,
): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: deliveryConsumerName(opts.destination),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: opts.deliverPolicy === "new" ? DeliverPolicy.New : DeliverPolicy.All,
    ack_wait: opts.ackWaitMs * MS,
    max_ack_pending: opts.maxAckPending,
    max_deliver: -1, // the deliverer decides when attempts are exhausted (and dead-letters)
    // One subject goes in filter_subject (the server wants it there for the extended create API).
    ...(opts.filterSubjects.length === 1
      ? { filter_subject: opts.filterSubjects[0]! }
      : { filter_subjects: [...opts.filterSubjects] }),
  };
}

/** The replay consumer of one destination on DELIVERY_REPLAY. */
export function deliveryReplayConsumerConfig(
  opts: Omit<DeliveryConsumerOptions, "filterSubjects" | "deliverPolicy">,
): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: `${deliveryConsumerName(opts.destination)}-replay`,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: opts.ackWaitMs * MS,
    max_ack_pending: opts.maxAckPending,
    max_deliver: -1,
    filter_subject: deliveryReplaySubject(opts.destination),
  };
}

type Config = Partial<StreamConfig> & { name: string; subjects: string[] };

/**
 * `discard: new`: a full DLQ or replay stream refuses the write (the deliverer then naks and the
 * event waits in the hub stream) rather than deleting the oldest dead letters unseen.
 */
function limitsStream(
  name: string,
  subjects: string[],
  maxAgeMs: number,
  maxBytes: number,
  replicas: number,
  discard: DiscardPolicy = DiscardPolicy.New,
): Config {
  return {
    name,
    subjects,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard,
    max_age: maxAgeMs * MS,
    max_bytes: maxBytes,
    num_replicas: replicas,
  };
}

export interface DeliveryStreamOptions {
  maxAgeMs?: number;
  maxBytes?: number;
  replicas?: number;
}

/** Dead letters of every destination, `delivery-dlq.{destination}`: 30 days to inspect and replay. */
export function deliveryDlqStreamConfig(opts: DeliveryStreamOptions = {}): Config {
  return limitsStream(
    DELIVERY_DLQ_STREAM,
    [`${DELIVERY_DLQ_SUBJECT_PREFIX}.>`],
    opts.maxAgeMs ?? 30 * 24 * 3600_000,
    opts.maxBytes ?? 1024 ** 3,
    opts.replicas ?? 1,
  );
}

/** Events put back for one destination, `redeliver.{destination}`. */
export function deliveryReplayStreamConfig(opts: DeliveryStreamOptions = {}): Config {
  return limitsStream(
    DELIVERY_REPLAY_STREAM,
    [`${DELIVERY_REPLAY_SUBJECT_PREFIX}.>`],
    opts.maxAgeMs ?? 7 * 24 * 3600_000,
    opts.maxBytes ?? 1024 ** 3,
    opts.replicas ?? 1,
  );
}

/** The delivery log, `deliveries.{destination}`: one JSON record per attempt, read by the aggregator. */
export function deliveriesStreamConfig(opts: DeliveryStreamOptions = {}): Config {
  // The attempt log is loaded into the warehouse as it comes: when full, its oldest records go.
  return limitsStream(
    DELIVERIES_STREAM,
    [`${DELIVERIES_SUBJECT_PREFIX}.>`],
    opts.maxAgeMs ?? 7 * 24 * 3600_000,
    opts.maxBytes ?? 5 * 1024 ** 3,
    opts.replicas ?? 1,
    DiscardPolicy.Old,
  );
}

const INBOX = "_INBOX.>";

/**
 * The delivery process: its destinations' durable consumers on EVENTS and DELIVERY_REPLAY (create,
 * inspect, pull, ack), writing their DLQ, replay and log subjects, and reading the DLQ (admin
 * replay reads entries by sequence and deletes them once put back). No stream management.
 */
export function deliveryPermissions(destinations: readonly string[]): Permissions {
  const publish = [
    `$JS.API.INFO`,
    `$JS.API.STREAM.INFO.${HUB_STREAM}`,
    `$JS.API.STREAM.INFO.${DELIVERY_DLQ_STREAM}`,
    `$JS.API.STREAM.INFO.${DELIVERY_REPLAY_STREAM}`,
    `$JS.API.STREAM.INFO.${DELIVERIES_STREAM}`,
  ];
  publish.push(
    `$JS.API.STREAM.MSG.GET.${DELIVERY_DLQ_STREAM}`,
    `$JS.API.STREAM.MSG.DELETE.${DELIVERY_DLQ_STREAM}`,
    `$JS.API.DIRECT.GET.${HUB_STREAM}`,
    `$JS.API.STREAM.MSG.GET.${HUB_STREAM}`,
  );
  for (const destination of destinations) {
    publish.push(...durableConsumerPermissions(HUB_STREAM, deliveryConsumerName(destination)));
    publish.push(...durableConsumerPermissions(DELIVERY_REPLAY_STREAM, `${deliveryConsumerName(destination)}-replay`));
    publish.push(deliveryDlqSubject(destination), deliveryReplaySubject(destination), deliveryLogSubject(destination));
  }
  return { publish, subscribe: [INBOX] };
}

/**
 * What the aggregator's user needs to load the delivery log: its durable consumer on DELIVERIES
 * (part of aggregatorPermissions).
 */
export const DEFAULT_DELIVERIES_DURABLE = "deliveries-loader";

export function deliveriesLoaderPermissions(durable = DEFAULT_DELIVERIES_DURABLE): Permissions {
  return {
    publish: [`$JS.API.STREAM.INFO.${DELIVERIES_STREAM}`, ...durableConsumerPermissions(DELIVERIES_STREAM, durable)],
    subscribe: [INBOX],
  };
}
