import type { MsgHdrs } from "@nats-io/nats-core";
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { DLQ_STREAM, dlqSubject, EventHeader, ID_PATTERN, regionSeqOf, replaySubject } from "../names.js";
import { storedMessage } from "../stored.js";
import {
  deadLetterHeaders,
  entryBytes,
  omittedBytes,
  replayHeaders,
  storeDeadLetter,
  type DeadLetterOutcome,
} from "./entry.js";

/**
 * The events DLQ (`EVENTS_DLQ`, `dlq.{source}`): poison events the warehouse loader could not
 * load, put back into the hub stream (`replay.{source}`) once fixed.
 */

/** The source token of a subject: the event's source, or `unknown` when it has none usable. */
function sourceToken(headers: MsgHdrs | undefined): string {
  const source = headers?.get(EventHeader.Source) ?? "";
  return ID_PATTERN.test(source) ? source : "unknown";
}

/**
 * Moves a poison event to `dlq.{source}` with its original bytes and headers,
 * `Tributary-Dlq-Reason` and `Tributary-Dlq-Origin`, and the origin region's sequence as
 * `Tributary-Region-Seq` when the event came through sourcing (its `Nats-Stream-Source` cannot be
 * kept), then terminates it: it is never delivered to this consumer again. An event too large for
 * an entry is kept as a reference to its origin; if the DLQ write fails the event is nak'ed with
 * backoff, and given up (terminated, `abandoned`) after DLQ_WRITE_ATTEMPTS deliveries
 * (storeDeadLetter).
 */
export async function deadLetterEvent(js: JetStreamClient, msg: JsMsg, reason: string): Promise<DeadLetterOutcome> {
  return storeDeadLetterOn(js, msg, reason, dlqSubject(sourceToken(msg.headers)));
}

/**
 * The subject of delivery-log records (`DELIVERIES`) the warehouse would not store: in the events
 * DLQ, which the aggregator may write, under a token no source id can be (ids start with a letter).
 */
export const DELIVERY_LOG_DLQ_SUBJECT = dlqSubject("_delivery-log");

/** Moves a delivery-log record the warehouse would not store to DELIVERY_LOG_DLQ_SUBJECT, as deadLetterEvent does. */
export function deadLetterLogRecord(js: JetStreamClient, msg: JsMsg, reason: string): Promise<DeadLetterOutcome> {
  return storeDeadLetterOn(js, msg, reason, DELIVERY_LOG_DLQ_SUBJECT);
}

function storeDeadLetterOn(js: JetStreamClient, msg: JsMsg, reason: string, subject: string) {
  const headers = deadLetterHeaders(msg, reason);
  const regionSeq = regionSeqOf({ headers: msg.headers, seq: 0 });
  if (regionSeq > 0) headers.set(EventHeader.RegionSeq, String(regionSeq));
  const storedReason = headers.get(EventHeader.DlqReason);
  return storeDeadLetter(js, msg, { subject, headers }, (m) => m.term(storedReason.slice(0, 200)));
}

/** An entry of the events DLQ. */
export interface DlqEntry {
  seq: number;
  subject: string;
  reason: string;
  /** `<stream>:<seq>` the poison event was consumed from. */
  origin: string;
  eventKey: string;
  headers: MsgHdrs;
  /**
   * The event's bytes. An entry that holds a reference (omittedBytes > 0) has none of its own:
   * readDlqEntry fills them in from the origin while it keeps them, otherwise they stay empty.
   */
  data: Uint8Array;
  /** The event's size when the entry holds a reference to its origin instead of its bytes; 0 otherwise. */
  omittedBytes: number;
}

/** The entry a stored DLQ message holds (however it was read: by sequence, or a range of the stream). */
export function dlqEntryOf(msg: { seq: number; subject: string; headers: MsgHdrs; data: Uint8Array }): DlqEntry {
  return {
    seq: msg.seq,
    subject: msg.subject,
    reason: msg.headers.get(EventHeader.DlqReason),
    origin: msg.headers.get(EventHeader.DlqOrigin),
    eventKey: msg.headers.get(EventHeader.OriginalMsgId),
    headers: msg.headers,
    data: msg.data,
    omittedBytes: omittedBytes(msg.headers),
  };
}

/** Reads one entry of the events DLQ by its sequence; throws when there is none. */
export async function readDlqEntry(jsm: JetStreamManager, seq: number): Promise<DlqEntry> {
  const stored = await storedMessage(jsm, DLQ_STREAM, seq);
  if (!stored) throw new Error(`no DLQ entry with sequence ${seq}`);
  const data = (await entryBytes(jsm, stored)) ?? new Uint8Array(0);
  return dlqEntryOf({ seq, subject: stored.subject, headers: stored.header, data });
}

/**
 * Puts an entry back into the pipeline: published to `replay.{source}` on the hub stream with its
 * original headers and key, optionally with corrected bytes, and the origin region's sequence as
 * `Tributary-Region-Seq`. The loader treats it like any event, and the warehouse key makes a
 * second replay a no-op. The entry stays in the DLQ; the caller deletes it once it has the answer.
 */
export async function replayDlqEntry(
  js: JetStreamClient,
  entry: DlqEntry,
  fixedBody?: Uint8Array,
): Promise<{ stream: string; seq: number }> {
  if (entry.omittedBytes > 0 && entry.data.length === 0 && !fixedBody)
    throw new Error(
      `DLQ entry ${entry.seq} holds no bytes (the event had ${entry.omittedBytes}) and its origin ${entry.origin} no longer has them: replay it with a body`,
    );
  const h = replayHeaders(entry.headers, { key: entry.eventKey, from: `${DLQ_STREAM}:${entry.seq}` });
  const originSeq = regionSeqOf({ headers: entry.headers, seq: 0 });
  if (originSeq > 0) h.set(EventHeader.RegionSeq, String(originSeq));
  const ack = await js.publish(replaySubject(sourceToken(entry.headers)), fixedBody ?? entry.data, { headers: h });
  return { stream: ack.stream, seq: ack.seq };
}
