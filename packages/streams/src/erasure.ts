import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { DELIVERY_DLQ_STREAM } from "./delivery.js";
import { deleteStoredMessage, storedMessage } from "./stored.js";
import {
  DERIVED_SUBJECT_PREFIX,
  DLQ_STREAM,
  ENRICHED_STREAM,
  EventHeader,
  eventKeyOf,
  HUB_STREAM,
  regionalStreamName,
  REPLAY_SUBJECT_PREFIX,
  REPLAYED_SUBJECT_PREFIX,
  dlqSubject,
} from "./names.js";

/**
 * Erasure in the streams: the copies of erased events that still hold a body. The hub stream
 * (`EVENTS`) and the regions' streams hold the verbatim body, the enriched stream the reduced one,
 * the DLQs what was set aside. Each is bounded in age; erasure does not wait for that. Messages are
 * deleted with `erase` (nats-server overwrites the stored bytes, not just the index).
 */

/** The hub streams erasure reads and deletes from. */
export const ERASABLE_HUB_STREAMS = [HUB_STREAM, ENRICHED_STREAM, DLQ_STREAM, DELIVERY_DLQ_STREAM] as const;

/** Where an erased event's copies are found: its key, source and time of receipt. */
export interface StreamCopyRef {
  event_key: string;
  source: string;
  /** ISO time the gateway received it: every copy was stored then or later. */
  received_at: string;
}

/** Messages deleted (or purged) per stream. */
export type StreamCounts = Record<string, number>;

/** How far before an event's receipt a stream is read (clocks of gateways and hub differ a little). */
const CLOCK_SLACK_MS = 60_000;

/** The hub streams' subjects that can hold an event of `source`, per stream. */
function hubSubjects(source: string): Array<{ stream: string; subjects: string[] }> {
  return [
    { stream: HUB_STREAM, subjects: [`events.*.${source}.>`, `${REPLAY_SUBJECT_PREFIX}.${source}`] },
    {
      stream: ENRICHED_STREAM,
      subjects: [
        `events.*.${source}.>`,
        `${REPLAYED_SUBJECT_PREFIX}.${source}`,
        `${DERIVED_SUBJECT_PREFIX}.*.${source}.>`,
      ],
    },
    { stream: DLQ_STREAM, subjects: [dlqSubject(source)] },
  ];
}

/** The key a message carries, or the key of the event it was derived from. */
function keyOfMessage(headers: { get(name: string): string } | undefined): string | undefined {
  return headers?.get(EventHeader.DerivedFrom) || eventKeyOf(headers);
}

async function deleteMatching(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  opts: { since: Date | undefined; matches: (headers: JsMsg["headers"]) => boolean },
): Promise<number> {
  const matched: number[] = [];
  await scanHeaders(js, jsm, stream, opts.since, (msg) => {
    if (opts.matches(msg.headers)) matched.push(msg.seq);
  });
  let deleted = 0;
  for (const seq of matched) if (await deleteStoredMessage(jsm, stream, seq, { erase: true })) deleted++;
  return deleted;
}

/**
 * The one consumer erasure reads a stream through: ephemeral, headers only, under a fixed name, so
 * the management API's user may create exactly this consumer and no other (never a loader's or a
 * destination's, whose settings a create could change). One erasure at a time per process
 * (the route serialises them); a run that died leaves it to expire (inactive_threshold) or to the
 * next run, which deletes it first.
 */
export const ERASURE_CONSUMER = "tributary-erasure";

/** Calls `onMessage` for every message stored from `since` (or the first) to the stream's last at the start. */
async function scanHeaders(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  since: Date | undefined,
  onMessage: (msg: JsMsg) => void,
): Promise<void> {
  const info = await jsm.streams.info(stream).catch((err: Error) => {
    if (/stream not found/i.test(err.message)) return undefined;
    throw err;
  });
  if (!info || info.state.messages === 0) return;
  const last = info.state.last_seq;
  await jsm.consumers.delete(stream, ERASURE_CONSUMER).catch(() => undefined);
  await jsm.consumers.add(stream, {
    name: ERASURE_CONSUMER,
    ack_policy: AckPolicy.None,
    headers_only: true,
    mem_storage: true,
    num_replicas: 1,
    inactive_threshold: nanos(60_000),
    ...(since
      ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() }
      : { deliver_policy: DeliverPolicy.All }),
  });
  try {
    const consumer = await js.consumers.get(stream, ERASURE_CONSUMER);
    for (;;) {
      let got = 0;
      for await (const msg of await consumer.fetch({ max_messages: 1000, expires: 2_000 })) {
        got++;
        if (msg.seq > last) return;
        onMessage(msg);
        if (msg.seq === last) return;
      }
      if (got === 0) return;
    }
  } finally {
    await jsm.consumers.delete(stream, ERASURE_CONSUMER).catch(() => undefined);
  }
}

/**
 * Deletes every hub copy of these events: the hub stream, the enriched stream (and the events
 * derived from them), the loader's DLQ and every destination's DLQ. Reads headers only, from the
 * oldest receipt on, on the events' sources' subjects.
 */
export async function eraseHubCopies(
  js: JetStreamClient,
  jsm: JetStreamManager,
  events: readonly StreamCopyRef[],
  opts: { visitorHashes?: readonly string[] } = {},
): Promise<StreamCounts> {
  const counts: StreamCounts = {
    [HUB_STREAM]: 0,
    [ENRICHED_STREAM]: 0,
    [DLQ_STREAM]: 0,
    [DELIVERY_DLQ_STREAM]: 0,
  };
  const keys = new Set(events.map((e) => e.event_key));
  const visitors = new Set(opts.visitorHashes ?? []);
  const since =
    events.length > 0
      ? new Date(Math.min(...events.map((e) => Date.parse(e.received_at))) - CLOCK_SLACK_MS)
      : undefined;
  for (const stream of ERASABLE_HUB_STREAMS) {
    // A visitor's events the loader set aside never became rows: the loader's DLQ is read whole and
    // its entries matched by the visitor hash their enrichment carries.
    const byVisitor = stream === DLQ_STREAM && visitors.size > 0;
    if (!byVisitor && keys.size === 0) continue;
    counts[stream] = await deleteMatching(js, jsm, stream, {
      since: byVisitor ? undefined : since,
      matches: (headers) => {
        const key = keyOfMessage(headers);
        if (key !== undefined && keys.has(key)) return true;
        return byVisitor && visitors.has(visitorHashOf(headers) ?? "");
      },
    });
  }
  return counts;
}

/** The visitor hash in a message's enrichment header, if it has one. */
function visitorHashOf(headers: { get(name: string): string } | undefined): string | undefined {
  const text = headers?.get(EventHeader.Enrichment);
  if (!text) return undefined;
  try {
    const hash = (JSON.parse(text) as { visitor_hash?: unknown }).visitor_hash;
    return typeof hash === "string" ? hash : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every hub message of a source: purged by subject (the hub and enriched streams, the loader's
 * DLQ), and its events' entries in the destinations' DLQs (read by their source header).
 */
export async function purgeSourceFromHub(
  js: JetStreamClient,
  jsm: JetStreamManager,
  source: string,
): Promise<StreamCounts> {
  const counts: StreamCounts = {};
  for (const { stream, subjects } of hubSubjects(source)) {
    counts[stream] = 0;
    for (const filter of subjects) {
      const purged = await jsm.streams.purge(stream, { filter }).catch((err: Error) => {
        if (/stream not found/i.test(err.message)) return { purged: 0 };
        throw err;
      });
      counts[stream] += purged.purged;
    }
  }
  counts[DELIVERY_DLQ_STREAM] = await deleteBySource(js, jsm, DELIVERY_DLQ_STREAM, source);
  return counts;
}

async function deleteBySource(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  source: string,
): Promise<number> {
  const matched: number[] = [];
  await scanHeaders(js, jsm, stream, undefined, (msg) => {
    if (msg.headers?.get(EventHeader.Source) === source) matched.push(msg.seq);
  });
  let deleted = 0;
  for (const seq of matched) if (await deleteStoredMessage(jsm, stream, seq, { erase: true })) deleted++;
  return deleted;
}

/** A region's copies of erased events, by their sequence in its stream (the rows' region_seq). */
export interface RegionalCopy {
  seq: number;
  event_key: string;
}

/**
 * Deletes these sequences from a region's stream, each only when it still holds the event named
 * (a sequence is never reused, but the check costs one header read and guards a wrong request).
 */
export async function eraseRegionalCopies(
  jsm: JetStreamManager,
  region: string,
  copies: readonly RegionalCopy[],
): Promise<number> {
  const stream = regionalStreamName(region);
  let deleted = 0;
  for (const copy of copies) {
    const stored = await storedMessage(jsm, stream, copy.seq);
    if (!stored || eventKeyOf(stored.header) !== copy.event_key) continue;
    if (await deleteStoredMessage(jsm, stream, copy.seq, { erase: true })) deleted++;
  }
  return deleted;
}

/** Every message of a source in a region's stream. */
export async function purgeSourceFromRegion(jsm: JetStreamManager, region: string, source: string): Promise<number> {
  const stream = regionalStreamName(region);
  const result = await jsm.streams.purge(stream, { filter: `events.${region}.${source}.>` });
  return result.purged;
}

/**
 * What erasure needs at the hub (the management API's user): per erasable stream, its info, its
 * one consumer (ERASURE_CONSUMER: create, next, info, delete — exact subjects, no other name), and
 * deleting messages and purging by subject. It is the one destructive right that user has: erasure needs the
 * `admin` scope, and every erasure is audited.
 */
export function erasurePermissions(): string[] {
  return ERASABLE_HUB_STREAMS.flatMap((stream) => [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.DELETE.${stream}`,
    // deleteStoredMessage reads a message again when its delete failed: gone, or not.
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.STREAM.PURGE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.${ERASURE_CONSUMER}`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.${ERASURE_CONSUMER}`,
    `$JS.API.CONSUMER.INFO.${stream}.${ERASURE_CONSUMER}`,
    `$JS.API.CONSUMER.DELETE.${stream}.${ERASURE_CONSUMER}`,
  ]);
}
