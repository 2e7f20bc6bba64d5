import type { MsgHdrs } from "@nats-io/nats-core";
import type { JetStreamClient, JetStreamManager, JsMsg, StoredMsg } from "@nats-io/jetstream";
import { DELIVERY_DLQ_STREAM, deliveryDlqSubject, deliveryReplaySubject } from "../delivery.js";
import { EventHeader } from "../names.js";
import { deleteStoredMessage, nextBySubject, storedMessage } from "../stored.js";
import {
  deadLetterHeaders,
  entryBytes,
  omittedBytes,
  replayHeaders,
  storeDeadLetter,
  type DeadLetterOutcome,
} from "./entry.js";
import { DeliveryDlqHeader, oneLine } from "./headers.js";

/**
 * The delivery DLQ (`DELIVERY_DLQ`, `delivery-dlq.{destination}`): events an HTTP destination did
 * not take, put back for that destination only (`redeliver.{destination}`).
 */

/** The most entries one replay call moves (a call can be repeated; each is bounded in time and memory). */
export const DEFAULT_DELIVERY_REPLAY_LIMIT = 10_000;

/** Why a destination's event is set aside. */
export interface DeliveryDeadLetter {
  destination: string;
  /** `<code>: <detail>`. */
  reason: string;
  /** The destination's HTTP status; 0 when there was no answer. */
  status: number;
  attempts: number;
  /** Start of the destination's answer, when there was one. */
  response: string;
}

/**
 * Moves the event to `delivery-dlq.{destination}` with its original bytes and headers, the reason
 * and origin and the `DeliveryDlqHeader`s, then acks it. An event too large for an entry is kept as
 * a reference to its origin. If the DLQ write fails the event is nak'ed with backoff, to be written
 * again when it comes back (the deliverer remembers the letter, so the destination is not asked
 * again), and given up (terminated, `abandoned`) at the `attempt`-th failed write
 * (storeDeadLetter, DLQ_WRITE_ATTEMPTS).
 */
export async function deadLetterDelivery(
  js: JetStreamClient,
  msg: JsMsg,
  letter: DeliveryDeadLetter,
  attempt = 1,
): Promise<DeadLetterOutcome> {
  const h = deadLetterHeaders(msg, letter.reason);
  h.set(DeliveryDlqHeader.Destination, letter.destination);
  h.set(DeliveryDlqHeader.Status, String(letter.status));
  h.set(DeliveryDlqHeader.Attempts, String(letter.attempts));
  h.set(DeliveryDlqHeader.At, new Date().toISOString());
  if (letter.response) h.set(DeliveryDlqHeader.Response, oneLine(letter.response));
  return storeDeadLetter(
    js,
    msg,
    { subject: deliveryDlqSubject(letter.destination), headers: h },
    (m) => m.ack(),
    attempt,
  );
}

/** An entry of a destination's DLQ, as the delivery process and the management API list it. */
export interface DeliveryDlqEntry {
  seq: number;
  eventKey: string;
  /** The event's source and type ("" when its headers had none). */
  source: string;
  eventType: string;
  reason: string;
  status: number;
  attempts: number;
  response: string;
  /** When it was set aside (ISO). */
  at: string;
  /** The event's size when the entry holds a reference to its origin instead of its bytes; 0 otherwise. */
  omittedBytes: number;
}

function header(h: MsgHdrs, name: string): string {
  return h.has(name) ? h.get(name) : "";
}

function deliveryDlqEntryOf(m: StoredMsg): DeliveryDlqEntry {
  return {
    seq: m.seq,
    eventKey: header(m.header, EventHeader.OriginalMsgId),
    source: header(m.header, EventHeader.Source),
    eventType: header(m.header, EventHeader.EventType),
    reason: header(m.header, EventHeader.DlqReason),
    status: Number(header(m.header, DeliveryDlqHeader.Status) || 0),
    attempts: Number(header(m.header, DeliveryDlqHeader.Attempts) || 0),
    response: header(m.header, DeliveryDlqHeader.Response),
    at: header(m.header, DeliveryDlqHeader.At),
    omittedBytes: omittedBytes(m.header),
  };
}

/**
 * A destination's DLQ entries, oldest first, from `fromSeq` on (`limit` of them, 100 by default);
 * with `sources`, only the entries of those sources.
 */
export async function listDeliveryDlq(
  jsm: JetStreamManager,
  destination: string,
  opts: { limit?: number; fromSeq?: number; sources?: readonly string[] } = {},
): Promise<DeliveryDlqEntry[]> {
  const out: DeliveryDlqEntry[] = [];
  let seq = opts.fromSeq ?? 1;
  const limit = opts.limit ?? 100;
  while (out.length < limit) {
    const m = await nextBySubject(jsm, DELIVERY_DLQ_STREAM, seq, deliveryDlqSubject(destination));
    if (!m) break;
    seq = m.seq + 1;
    const entry = deliveryDlqEntryOf(m);
    if (!opts.sources || opts.sources.includes(entry.source)) out.push(entry);
  }
  return out;
}

/** How many entries a destination's DLQ holds (the stream's count of its subject). */
export async function countDeliveryDlq(jsm: JetStreamManager, destination: string): Promise<number> {
  const subject = deliveryDlqSubject(destination);
  const info = await jsm.streams.info(DELIVERY_DLQ_STREAM, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

/** One entry of a destination's DLQ in full: its listing, the event's headers, and its bytes. */
export interface DeliveryDlqDetail {
  entry: DeliveryDlqEntry;
  headers: MsgHdrs;
  /** The event as the deliverer had it; undefined when the entry holds a reference whose origin no longer has it. */
  body: Uint8Array | undefined;
}

/** The stored entry at `seq` when it is one of this destination's; null otherwise. */
async function storedEntry(jsm: JetStreamManager, destination: string, seq: number): Promise<StoredMsg | null> {
  const m = await storedMessage(jsm, DELIVERY_DLQ_STREAM, seq);
  return m?.subject === deliveryDlqSubject(destination) ? m : null;
}

/** One entry of a destination's DLQ by its sequence; undefined when it has none there (another destination's, gone). */
export async function readDeliveryDlqEntry(
  jsm: JetStreamManager,
  destination: string,
  seq: number,
): Promise<DeliveryDlqDetail | undefined> {
  const m = await storedEntry(jsm, destination, seq);
  if (!m) return undefined;
  return { entry: deliveryDlqEntryOf(m), headers: m.header, body: await entryBytes(jsm, m) };
}

/**
 * Puts one stored entry back for its destination (`redeliver.{destination}`, with `body` instead of
 * its own bytes when given: the deliverer filters, transforms and signs it as any event) and deletes
 * it from the DLQ once the replay stream has the copy. Undefined, and left in place, when it holds
 * a reference whose origin no longer has the bytes and no body is given.
 */
async function replayStored(
  js: JetStreamClient,
  jsm: JetStreamManager,
  destination: string,
  m: StoredMsg,
  body?: Uint8Array,
): Promise<{ stream: string; seq: number } | undefined> {
  const data = body ?? (await entryBytes(jsm, m));
  if (!data) return undefined;
  const ack = await js.publish(deliveryReplaySubject(destination), data, {
    headers: replayHeaders(m.header, {
      key: header(m.header, EventHeader.OriginalMsgId),
      from: `${DELIVERY_DLQ_STREAM}:${m.seq}`,
    }),
  });
  await deleteStoredMessage(jsm, DELIVERY_DLQ_STREAM, m.seq);
  return { stream: ack.stream, seq: ack.seq };
}

/**
 * Replays one entry of a destination's DLQ (optionally with a corrected body), as
 * replayDeliveryDlq does each: `missing` when the destination has no entry at `seq`, `empty` when
 * the entry holds no bytes any more and no body was given (it stays).
 */
export async function replayDeliveryDlqEntry(
  js: JetStreamClient,
  jsm: JetStreamManager,
  destination: string,
  seq: number,
  body?: Uint8Array,
): Promise<{ replayed: { stream: string; seq: number }; entry: DeliveryDlqEntry } | "missing" | "empty"> {
  const m = await storedEntry(jsm, destination, seq);
  if (!m) return "missing";
  const replayed = await replayStored(js, jsm, destination, m, body);
  return replayed ? { replayed, entry: deliveryDlqEntryOf(m) } : "empty";
}

/** Deletes one entry of a destination's DLQ for good; undefined when it has none at `seq`. */
export async function dropDeliveryDlqEntry(
  jsm: JetStreamManager,
  destination: string,
  seq: number,
): Promise<DeliveryDlqEntry | undefined> {
  const m = await storedEntry(jsm, destination, seq);
  if (!m || !(await deleteStoredMessage(jsm, DELIVERY_DLQ_STREAM, seq))) return undefined;
  return deliveryDlqEntryOf(m);
}

/**
 * Puts a destination's DLQ entries back for that destination only: each is published to
 * `redeliver.{destination}` (the deliverer's replay consumer takes it, with fresh attempts) and,
 * once the stream acknowledged the copy, deleted from the DLQ. A crash in between leaves both:
 * the event is delivered once more at worst, with the same id. An entry that holds a reference
 * (the event was too large for an entry) takes the bytes from its origin; one whose origin no
 * longer has them (or may not be read) stays in the DLQ and counts as `skipped`.
 */
export async function replayDeliveryDlq(
  js: JetStreamClient,
  jsm: JetStreamManager,
  destination: string,
  opts: { limit?: number } = {},
): Promise<{ replayed: number; skipped: number }> {
  const limit = opts.limit ?? DEFAULT_DELIVERY_REPLAY_LIMIT;
  let replayed = 0;
  let skipped = 0;
  let seq = 1;
  while (replayed < limit) {
    const m = await nextBySubject(jsm, DELIVERY_DLQ_STREAM, seq, deliveryDlqSubject(destination));
    if (!m) break;
    seq = m.seq + 1;
    if (await replayStored(js, jsm, destination, m)) replayed++;
    else skipped++;
  }
  return { replayed, skipped };
}
