import type { MsgHdrs } from "@nats-io/nats-core";
import type { JetStreamClient, JetStreamManager, JsMsg, StoredMsg } from "@nats-io/jetstream";
import { DELIVERY_DLQ_STREAM, deliveryDlqSubject, deliveryReplaySubject } from "../delivery.js";
import { EventHeader } from "../names.js";
import { nextBySubject } from "../stored.js";
import { deadLetterHeaders, entryBytes, replayHeaders, storeDeadLetter, type DeadLetterOutcome } from "./entry.js";
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

/** An entry of a destination's DLQ, as the delivery process lists it (and its HTTP API answers). */
export interface DeliveryDlqEntry {
  seq: number;
  eventKey: string;
  reason: string;
  status: number;
  attempts: number;
  response: string;
  /** When it was set aside (ISO). */
  at: string;
}

function header(h: MsgHdrs, name: string): string {
  return h.has(name) ? h.get(name) : "";
}

function deliveryDlqEntryOf(m: StoredMsg): DeliveryDlqEntry {
  return {
    seq: m.seq,
    eventKey: header(m.header, EventHeader.OriginalMsgId),
    reason: header(m.header, EventHeader.DlqReason),
    status: Number(header(m.header, DeliveryDlqHeader.Status) || 0),
    attempts: Number(header(m.header, DeliveryDlqHeader.Attempts) || 0),
    response: header(m.header, DeliveryDlqHeader.Response),
    at: header(m.header, DeliveryDlqHeader.At),
  };
}

/** A destination's DLQ entries, oldest first, from `fromSeq` on (`limit` of them, 100 by default). */
export async function listDeliveryDlq(
  jsm: JetStreamManager,
  destination: string,
  opts: { limit?: number; fromSeq?: number } = {},
): Promise<DeliveryDlqEntry[]> {
  const out: DeliveryDlqEntry[] = [];
  let seq = opts.fromSeq ?? 1;
  const limit = opts.limit ?? 100;
  while (out.length < limit) {
    const m = await nextBySubject(jsm, DELIVERY_DLQ_STREAM, seq, deliveryDlqSubject(destination));
    if (!m) break;
    out.push(deliveryDlqEntryOf(m));
    seq = m.seq + 1;
  }
  return out;
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
    const data = await entryBytes(jsm, m);
    if (!data) {
      skipped++;
      continue;
    }
    await js.publish(deliveryReplaySubject(destination), data, {
      headers: replayHeaders(m.header, {
        key: header(m.header, EventHeader.OriginalMsgId),
        from: `${DELIVERY_DLQ_STREAM}:${m.seq}`,
      }),
    });
    await jsm.streams.deleteMessage(DELIVERY_DLQ_STREAM, m.seq, false);
    replayed++;
  }
  return { replayed, skipped };
}
