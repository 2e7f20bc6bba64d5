import { ConfigError } from "@tributary/errors";
/**
 * Names and subjects of the wire contract (docs/architecture.md). Everything that builds a
 * subject or a stream name goes through here, so the topology has one definition.
 */

/** Stream at the hub that sources every region's stream. */
export const HUB_STREAM = "EVENTS";
/** The aggregator's durable consumer on the hub stream: the warehouse loader's position. */
export const HUB_LOADER_DURABLE = "warehouse-loader";
/** Poison events, with the reason, the original headers and the original bytes. */
export const DLQ_STREAM = "EVENTS_DLQ";
export const DLQ_SUBJECT_PREFIX = "dlq";
/** The hub stream's own subjects: events put back from the DLQ (everything else comes by sourcing). */
export const REPLAY_SUBJECT_PREFIX = "replay";

/**
 * The hub's stream of events as the enrich stage made them, once: enrichment in a header, the body
 * with its client addresses and user agents reduced (unless its source keeps them raw). What the
 * warehouse loader and every destination read, so both see the same verdicts for an event. It
 * keeps the hub stream's subjects (`events.{region}.{source}.{type}`), so destinations filter alike.
 */
export const ENRICHED_STREAM = "EVENTS_ENRICHED";
/** The enrich stage's durable consumer on the hub stream. */
export const HUB_ENRICH_DURABLE = "enricher";
/** DLQ replays, as enriched: `replayed.{source}` (the hub stream's `replay.{source}`). */
export const REPLAYED_SUBJECT_PREFIX = "replayed";
/** Events the stage derives from an event (`click.flagged`): `derived.{region}.{source}.{type}`, never loaded as rows. */
export const DERIVED_SUBJECT_PREFIX = "derived";
/**
 * What the enrich stage publishes on: `enriched.{subject as stored}`. The enriched stream takes
 * `enriched.>` and stores each message without the prefix (a subject transform), so its events
 * keep the hub's `events.{region}.{source}.{type}` without overlapping a stream that takes those
 * subjects (streams of one account may not share subjects).
 */
export const ENRICHED_PUBLISH_PREFIX = "enriched";
/** What the loader reads of the enriched stream: events and replays, not derived events. */
export const ENRICHED_LOADER_SUBJECTS = ["events.>", `${REPLAYED_SUBJECT_PREFIX}.>`] as const;

/** Message headers Tributary writes on every event. */
export const EventHeader = {
  MsgId: "Nats-Msg-Id",
  Source: "Tributary-Source",
  Region: "Tributary-Region",
  ReceivedAt: "Tributary-Received-At",
  EventType: "Tributary-Event-Type",
  /** On enriched events: the enriched columns as JSON (schema's EnrichedFields), decided once by the enrich stage. */
  Enrichment: "Tributary-Enrichment",
  /** On derived events: the key of the event they were derived from. */
  DerivedFrom: "Tributary-Derived-From",
  /**
   * The id of the source secret the gateway verified the request with (an id, never the value):
   * how the hub learns each secret's last use, to tell when an old one is safe to retire.
   */
  SecretId: "Tributary-Secret-Id",
  /** On DLQ messages: why the event was set aside, and where it came from. */
  DlqReason: "Tributary-Dlq-Reason",
  DlqOrigin: "Tributary-Dlq-Origin",
  /** On replayed messages: the DLQ entry they came from, and the origin region's sequence. */
  ReplayedFrom: "Tributary-Replayed-From",
  RegionSeq: "Tributary-Region-Seq",
  /**
   * The event key where `Nats-Msg-Id` must not carry it: DLQ entries (the DLQ must not dedupe them
   * away) and replays into the hub (the hub's duplicate window would drop a deliberate replay).
   */
  OriginalMsgId: "Tributary-Original-Msg-Id",
} as const;

/** The event key of a stream message: `Nats-Msg-Id`, or the original key on DLQ entries and replays. */
export function eventKeyOf(headers: { get(name: string): string } | undefined): string | undefined {
  // nats.js answers "" for a header that is absent.
  return headers?.get(EventHeader.MsgId) || headers?.get(EventHeader.OriginalMsgId) || undefined;
}

/**
 * The origin region's stream sequence. A message sourced into the hub carries
 * `Nats-Stream-Source: <stream>[:<hash>] <seq> …`; a replayed one carries it as
 * `Tributary-Region-Seq`; read directly from a regional stream, it is the message's own sequence.
 */
export function regionSeqOf(msg: { headers?: { get(name: string): string } | undefined; seq: number }): number {
  const replayed = Number(msg.headers?.get(EventHeader.RegionSeq) || NaN);
  if (Number.isSafeInteger(replayed) && replayed > 0) return replayed;
  const sourced = msg.headers?.get("Nats-Stream-Source");
  if (sourced) {
    const seq = Number(sourced.split(" ")[1]);
    if (Number.isSafeInteger(seq) && seq > 0) return seq;
  }
  return msg.seq;
}

/** Region and source ids become subject tokens and stream names: keep them to a safe alphabet. */
export const ID_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

/** A region or source id that cannot become a subject token: a config problem wherever it is met. */
export class InvalidNameError extends ConfigError {
  constructor(what: string, value: string) {
    super(
      what,
      `${JSON.stringify(value)} must match ${ID_PATTERN}`,
      "use lower-case letters, digits, _ and -, up to 32",
    );
    this.name = "InvalidNameError";
  }
}

export function assertId(what: "region" | "source", value: string): void {
  if (!ID_PATTERN.test(value)) throw new InvalidNameError(what, value);
}

export function regionalStreamName(region: string): string {
  assertId("region", region);
  return `EVENTS_${region.toUpperCase().replace(/-/g, "_")}`;
}

/** `events.{region}.{sourceId}.{eventType}`; the event type may hold dots (more tokens). */
export function eventSubject(region: string, source: string, eventType: string): string {
  return `events.${region}.${source}.${eventType}`;
}

export function regionSubjects(region: string): string {
  return `events.${region}.>`;
}

/** Where a region's events are delivered to the hub's source: one prefix per region, so each leaf
 * link may carry only its own region's deliveries. */
export function sourceDeliverPrefix(region: string): string {
  return `deliver.${region}`;
}

/**
 * The durable consumer on each regional stream that the hub's source reads through (durable
 * sourcing, nats-server >= 2.14), and the subject it delivers to: inside the region's deliver prefix.
 */
export const HUB_SOURCE_CONSUMER = "hub-source";

export function hubSourceDeliverSubject(region: string): string {
  return `${sourceDeliverPrefix(region)}.${HUB_SOURCE_CONSUMER}`;
}

export function replaySubject(source: string): string {
  return `${REPLAY_SUBJECT_PREFIX}.${source}`;
}

/** The subject the enrich stage stores what it made of a hub message under: events keep theirs, replays become `replayed.…`. */
export function enrichedSubject(hubSubject: string): string {
  return hubSubject.startsWith(`${REPLAY_SUBJECT_PREFIX}.`)
    ? `${REPLAYED_SUBJECT_PREFIX}${hubSubject.slice(REPLAY_SUBJECT_PREFIX.length)}`
    : hubSubject;
}

export function derivedSubject(region: string, source: string, eventType: string): string {
  return `${DERIVED_SUBJECT_PREFIX}.${region}.${source}.${eventType}`;
}

export function dlqSubject(source: string): string {
  return `${DLQ_SUBJECT_PREFIX}.${source}`;
}

/**
 * The oldest nats-server the topology runs on. 2.14 drops a duplicate arriving through a stream
 * source without stalling the source (the hub's duplicate window relies on it) and has durable
 * sourcing (the hub's sources resume in seconds after a restart); the project targets 2.15.
 */
export const MIN_NATS_SERVER_VERSION = [2, 14] as const;

/** Whether a nats-server version string ("2.15.1", "v2.15.1") is at least MIN_NATS_SERVER_VERSION. */
export function natsServerIsRecentEnough(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, "").split(".").map(Number);
  const [minMajor, minMinor] = MIN_NATS_SERVER_VERSION;
  return major > minMajor || (major === minMajor && minor >= minMinor);
}
