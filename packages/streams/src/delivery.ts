import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from "@nats-io/jetstream";
import { DERIVED_SUBJECT_PREFIX, ENRICHED_STREAM, ID_PATTERN, InvalidNameError } from "./names.js";
import { durableConsumerPermissions } from "./consumer-permissions.js";
import { AUDIT_SUBJECT_PREFIX, CONTROL_BUCKET, CONTROL_HEALTH_PREFIX, controlReadPermissions } from "./control.js";
import type { Permissions } from "./permissions.js";
import { AGGREGATOR_USER, DELIVERY_USER, inboxPermission } from "./users.js";

/**
 * Delivery to HTTP destinations (packages/delivery) at the hub. Each destination reads the
 * enriched stream (EVENTS_ENRICHED: the events as the enrich stage made them, with the verdicts the
 * warehouse rows get) through its own durable consumer `delivery-<destination>`, so its position, lag and backlog live
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
/** A destination's backlog in the enriched stream: events not yet handed out, and handed out but not acked. */
export interface DeliveryBacklog {
  pending: number;
  ackPending: number;
  redelivered: number;
}

/**
 * A destination's backlog, from its consumer's info (`delivery-<destination>`); null when the
 * consumer does not exist (yet, or any more) or NATS did not answer.
 */
export async function deliveryBacklog(jsm: JetStreamManager, destination: string): Promise<DeliveryBacklog | null> {
  try {
    const info = await jsm.consumers.info(ENRICHED_STREAM, deliveryConsumerName(destination));
    return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
  } catch {
    return null;
  }
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
  // A derived event (`click.flagged`) comes only to a destination that names its type.
  const prefix = (type: string) => (DERIVED_EVENT_TYPES.includes(type) ? DERIVED_SUBJECT_PREFIX : "events");
  return sourceTokens.flatMap((source) => typeTokens.map((type) => `${prefix(type)}.*.${source}.${type}`));
}

/**
 * The events the enrich stage derives from others (on `derived.{region}.{source}.{type}`):
 * `click.flagged`, a click judged suspicious, with the verdict and its reason.
 */
export const DERIVED_EVENT_TYPES: readonly string[] = ["click.flagged"];

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

/**
 * The consumer a destination's time-range replay reads the hub stream through: the destination's
 * own filter subjects from the range's start, in memory, acked by nobody, and removed by the server
 * a minute after its last use (so a replay cut short by a crash leaves nothing behind for long).
 * The delivery user may create it only with those filters (deliveryPermissions), which is what
 * keeps a replay to the destination's own events.
 */
export function deliveryScanConsumerName(destination: string): string {
  return `${deliveryConsumerName(destination)}-scan`;
}

export function deliveryScanConsumerConfig(opts: {
  destination: string;
  filterSubjects: readonly string[];
  from: Date;
}): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: deliveryScanConsumerName(opts.destination),
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: opts.from.toISOString(),
    inactive_threshold: 60_000 * MS,
    mem_storage: true,
    num_replicas: 1,
    ...(opts.filterSubjects.length === 1
      ? { filter_subject: opts.filterSubjects[0]! }
      : { filter_subjects: [...opts.filterSubjects] }),
  };
}

const CONSUMER_NOT_FOUND = 10014;
const SCAN_BATCH = 256;

/**
 * The events of one destination's filter subjects stored in [from, to], oldest first: what a
 * time-range replay reads, without touching any other subject of the hub stream. Reads through the
 * destination's scan consumer, made for this read and deleted after it; one range read per
 * destination at a time (a second one replaces the first's consumer, and the first then fails).
 */
export async function* readDestinationRange(
  js: JetStreamClient,
  jsm: JetStreamManager,
  opts: { destination: string; filterSubjects: readonly string[]; from: Date; to: Date },
): AsyncGenerator<JsMsg> {
  const config = deliveryScanConsumerConfig(opts);
  const name = config.durable_name;
  const drop = () =>
    jsm.consumers.delete(ENRICHED_STREAM, name).catch((err: unknown) => {
      if (!(err instanceof JetStreamApiError && err.code === CONSUMER_NOT_FOUND)) throw err;
      return false;
    });
  // A read cut short may have left its consumer, whose start time cannot change: start afresh.
  await drop();
  let pending = (await jsm.consumers.add(ENRICHED_STREAM, config)).num_pending;
  const toNanos = BigInt(opts.to.getTime()) * 1_000_000n;
  try {
    const consumer = await js.consumers.get(ENRICHED_STREAM, name);
    while (pending > 0) {
      let got = 0;
      for await (const m of await consumer.fetch({ max_messages: Math.min(pending, SCAN_BATCH), expires: 5_000 })) {
        got++;
        pending = m.info.pending;
        if (m.timestampNanos > toNanos) return;
        yield m;
      }
      if (got === 0) return; // nothing more arrived in time: the rest aged out meanwhile
    }
  } finally {
    await drop().catch(() => undefined);
  }
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

/**
 * A destination as its NATS user's permissions see it: its name, and the sources and types it
 * takes (none: every source, every type). A bare name is a destination of every source and type.
 */
export type DeliveryScope = string | { name: string; sources?: readonly string[]; types?: readonly string[] };

function scopeOf(scope: DeliveryScope): { name: string; filterSubjects: string[] } {
  const { name, sources = [], types = [] } = typeof scope === "string" ? { name: scope } : scope;
  assertDestinationName(name);
  return { name, filterSubjects: deliveryFilterSubjects(sources, types) };
}

/**
 * The delivery process: per destination, its durable consumers on EVENTS (pinned to its filter
 * subjects where nats-server can pin them, see durableConsumerPermissions) and DELIVERY_REPLAY
 * (pinned to its own `redeliver.{destination}`), the consumer its time-range replays read through
 * (the same filter), and its DLQ, replay and log subjects; reading and deleting DLQ entries (DLQ
 * replays). It cannot read the hub stream by sequence: a destination sees only its own subjects.
 * No stream management; its replies come to its own inbox.
 */
export function deliveryPermissions(destinations: readonly DeliveryScope[]): Permissions {
  const publish = [
    `$JS.API.INFO`,
    `$JS.API.STREAM.INFO.${ENRICHED_STREAM}`,
    `$JS.API.STREAM.INFO.${DELIVERY_DLQ_STREAM}`,
    `$JS.API.STREAM.INFO.${DELIVERY_REPLAY_STREAM}`,
    `$JS.API.STREAM.INFO.${DELIVERIES_STREAM}`,
    `$JS.API.STREAM.MSG.GET.${DELIVERY_DLQ_STREAM}`,
    `$JS.API.STREAM.MSG.DELETE.${DELIVERY_DLQ_STREAM}`,
  ];
  for (const { name, filterSubjects } of destinations.map(scopeOf)) {
    const consumer = deliveryConsumerName(name);
    publish.push(...durableConsumerPermissions(ENRICHED_STREAM, consumer, filterSubjects));
    publish.push(
      ...durableConsumerPermissions(DELIVERY_REPLAY_STREAM, `${consumer}-replay`, [deliveryReplaySubject(name)]),
    );
    const scan = deliveryScanConsumerName(name);
    publish.push(
      ...durableConsumerPermissions(ENRICHED_STREAM, scan, filterSubjects),
      `$JS.API.CONSUMER.DELETE.${ENRICHED_STREAM}.${scan}`,
    );
    publish.push(deliveryDlqSubject(name), deliveryReplaySubject(name), deliveryLogSubject(name));
  }
  return { publish, subscribe: [inboxPermission(DELIVERY_USER)] };
}

/**
 * The delivery process when subscriptions are managed at runtime (the control bucket): consumers
 * come and go with subscriptions, so its user may create, read, pull from and delete any consumer
 * on EVENTS and DELIVERY_REPLAY, except the aggregator's durable (denied by name: NATS wildcards
 * match whole tokens, so `delivery-*` cannot be granted as a prefix). What a subscription reads is
 * then bounded by the process, not by the server: the cost of changing subscriptions without a
 * server config reload. It also watches the control bucket and writes each subscription's breaker
 * state into it (`health.<subscription>`).
 */
export function managedDeliveryPermissions(aggregatorDurable: string): Permissions {
  const consumers = (stream: string) => [
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.*`,
    `$JS.API.CONSUMER.DELETE.${stream}.*`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.*`,
    `$JS.ACK.${stream}.>`,
  ];
  const aggregator = `${ENRICHED_STREAM}.${aggregatorDurable}`;
  return {
    publish: [
      ...deliveryPermissions([]).publish,
      ...consumers(ENRICHED_STREAM),
      ...consumers(DELIVERY_REPLAY_STREAM),
      `$JS.API.CONSUMER.LIST.${ENRICHED_STREAM}`,
      `${DELIVERY_DLQ_SUBJECT_PREFIX}.*`,
      `${DELIVERY_REPLAY_SUBJECT_PREFIX}.*`,
      `${DELIVERIES_SUBJECT_PREFIX}.*`,
      ...controlReadPermissions(),
      // An automatic pause is written into the subscription's record, and audited.
      `$KV.${CONTROL_BUCKET}.subscriptions.*`,
      // Each subscription's breaker state, for the management API (`health.<subscription>`).
      `$KV.${CONTROL_BUCKET}.${CONTROL_HEALTH_PREFIX}.*`,
      `${AUDIT_SUBJECT_PREFIX}.subscriptions.*`,
    ],
    denyPublish: [
      `$JS.API.CONSUMER.CREATE.${aggregator}`,
      `$JS.API.CONSUMER.CREATE.${aggregator}.>`,
      `$JS.API.CONSUMER.INFO.${aggregator}`,
      `$JS.API.CONSUMER.DELETE.${aggregator}`,
      `$JS.API.CONSUMER.MSG.NEXT.${aggregator}`,
      `$JS.API.CONSUMER.DURABLE.CREATE.${aggregator}`,
      `$JS.ACK.${aggregator}.>`,
    ],
    subscribe: [inboxPermission(DELIVERY_USER)],
  };
}

/**
 * What the aggregator's user needs to load the delivery log: its durable consumer on DELIVERIES
 * (part of aggregatorPermissions).
 */
export const DEFAULT_DELIVERIES_DURABLE = "deliveries-loader";

export function deliveriesLoaderPermissions(durable = DEFAULT_DELIVERIES_DURABLE): Permissions {
  return {
    publish: [`$JS.API.STREAM.INFO.${DELIVERIES_STREAM}`, ...durableConsumerPermissions(DELIVERIES_STREAM, durable)],
    subscribe: [inboxPermission(AGGREGATOR_USER)],
  };
}
