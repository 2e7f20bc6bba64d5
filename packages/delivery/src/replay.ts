import { headers as createHeaders, type MsgHdrs } from "@nats-io/nats-core";
import { JetStreamApiError, type JetStreamClient, type JetStreamManager, type StoredMsg } from "@nats-io/jetstream";
import {
  DELIVERY_DLQ_STREAM,
  deliveryDlqSubject,
  deliveryReplaySubject,
  EventHeader,
  HUB_STREAM,
} from "@tributary/streams";
import { DeliveryDlqHeader } from "./dlq.js";
import { eventFromMessage, ORIGINAL_MSG_ID, routes } from "./event.js";

/** The most entries one replay call moves (a call can be repeated; each is bounded in time and memory). */
export const DEFAULT_REPLAY_LIMIT = 10_000;

export interface DlqEntrySummary {
  seq: number;
  eventKey: string;
  reason: string;
  status: number;
  attempts: number;
  response: string;
  at: string;
}

const NO_MESSAGE = 10037;

/**
 * The next message of `subject` at or after `seq` (the server's `next_by_subj`; the client's
 * typings only offer it on direct get, which the DLQ stream does not enable). Null at the end.
 */
async function nextBySubject(
  jsm: JetStreamManager,
  stream: string,
  seq: number,
  subject: string,
): Promise<StoredMsg | null> {
  try {
    return await jsm.streams.getMessage(stream, { seq, next_by_subj: subject } as unknown as { seq: number });
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === NO_MESSAGE) return null;
    throw err;
  }
}

function header(h: MsgHdrs, name: string): string {
  return h.has(name) ? h.get(name) : "";
}

function summary(m: StoredMsg): DlqEntrySummary {
  return {
    seq: m.seq,
    eventKey: header(m.header, ORIGINAL_MSG_ID),
    reason: header(m.header, EventHeader.DlqReason),
    status: Number(header(m.header, DeliveryDlqHeader.Status) || 0),
    attempts: Number(header(m.header, DeliveryDlqHeader.Attempts) || 0),
    response: header(m.header, DeliveryDlqHeader.Response),
    at: header(m.header, DeliveryDlqHeader.At),
  };
}

/** A destination's DLQ entries, oldest first. */
export async function listDeliveryDlq(
  jsm: JetStreamManager,
  destination: string,
  opts: { limit?: number; fromSeq?: number } = {},
): Promise<DlqEntrySummary[]> {
  const out: DlqEntrySummary[] = [];
  let seq = opts.fromSeq ?? 1;
  const limit = opts.limit ?? 100;
  while (out.length < limit) {
    const m = await nextBySubject(jsm, DELIVERY_DLQ_STREAM, seq, deliveryDlqSubject(destination));
    if (!m) break;
    out.push(summary(m));
    seq = m.seq + 1;
  }
  return out;
}

function replayHeaders(source: MsgHdrs, key: string, from: string): MsgHdrs {
  const h = createHeaders();
  const drop = new Set<string>([
    ORIGINAL_MSG_ID,
    EventHeader.DlqReason,
    EventHeader.DlqOrigin,
    ...Object.values(DeliveryDlqHeader),
  ]);
  for (const [name, values] of source) {
    if (drop.has(name) || name.startsWith("Nats-")) continue;
    for (const value of values) h.append(name, value);
  }
  // Not Nats-Msg-Id: the replay stream's duplicate window would swallow a second replay of the same event.
  h.set(ORIGINAL_MSG_ID, key);
  h.set(EventHeader.ReplayedFrom, from);
  return h;
}

/**
 * Puts a destination's DLQ entries back for that destination only: each is published to
 * `redeliver.{destination}` (the deliverer's replay consumer takes it, with fresh attempts) and,
 * once the stream acknowledged the copy, deleted from the DLQ. A crash in between leaves both:
 * the event is delivered once more at worst, with the same id.
 */
export async function replayDeliveryDlq(
  js: JetStreamClient,
  jsm: JetStreamManager,
  destination: string,
  opts: { limit?: number } = {},
): Promise<{ replayed: number }> {
  const limit = opts.limit ?? DEFAULT_REPLAY_LIMIT;
  let replayed = 0;
  let seq = 1;
  while (replayed < limit) {
    const m = await nextBySubject(jsm, DELIVERY_DLQ_STREAM, seq, deliveryDlqSubject(destination));
    if (!m) break;
    seq = m.seq + 1;
    await js.publish(deliveryReplaySubject(destination), m.data, {
      headers: replayHeaders(m.header, header(m.header, ORIGINAL_MSG_ID), `${DELIVERY_DLQ_STREAM}:${m.seq}`),
    });
    await jsm.streams.deleteMessage(DELIVERY_DLQ_STREAM, m.seq, false);
    replayed++;
  }
  return { replayed };
}

/** The first sequence of `stream` stored at or after `time`: one get-by-time request (nats-server >= 2.11). */
async function firstSeqAtOrAfter(jsm: JetStreamManager, stream: string, time: Date): Promise<number | undefined> {
  try {
    // `next_by_subj` with the start time skips deleted sequences: the first stored message at or after it.
    const m = await jsm.streams.getMessage(stream, { start_time: time.toISOString(), next_by_subj: ">" } as unknown as {
      seq: number;
    });
    return m?.seq;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === NO_MESSAGE) return undefined;
    throw err;
  }
}

/**
 * Delivers a time range of the hub stream again to one destination: every event stored in
 * [from, to] that the destination takes (its sources and types; the filter and transform run as
 * usual) is copied to `redeliver.{destination}`. Each carries its key, so the destination sees the
 * same id as the first time.
 */
export async function replayDeliveryRange(
  js: JetStreamClient,
  jsm: JetStreamManager,
  destination: { name: string; sources: readonly string[]; types: readonly string[] },
  range: { from: Date; to: Date; limit?: number },
): Promise<{ replayed: number; scanned: number; truncated: boolean }> {
  const limit = range.limit ?? DEFAULT_REPLAY_LIMIT;
  let seq = await firstSeqAtOrAfter(jsm, HUB_STREAM, range.from);
  let replayed = 0;
  let scanned = 0;
  while (seq !== undefined) {
    const m = await nextBySubject(jsm, HUB_STREAM, seq, ">");
    if (!m || m.time.getTime() > range.to.getTime()) break;
    seq = m.seq + 1;
    scanned++;
    const event = eventFromMessage(m.header, m.data);
    if (!event || !routes(destination, event)) continue;
    if (replayed >= limit) return { replayed, scanned, truncated: true };
    await js.publish(deliveryReplaySubject(destination.name), m.data, {
      headers: replayHeaders(m.header, event.key, `${HUB_STREAM}:${m.seq}`),
    });
    replayed++;
  }
  return { replayed, scanned, truncated: false };
}
