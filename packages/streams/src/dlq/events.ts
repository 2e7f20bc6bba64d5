import type { MsgHdrs } from "@nats-io/nats-core";
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { DLQ_STREAM, dlqSubject, EventHeader, ID_PATTERN, regionSeqOf, replaySubject } from "../names.js";
import { storedMessage } from "../stored.js";
import { deadLetterHeaders, replayHeaders, storeDeadLetter } from "./entry.js";

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
 * kept), then terminates it: it is never delivered to this consumer again. If the DLQ write fails
 * the event is nak'ed, never dropped.
 */
export async function deadLetterEvent(js: JetStreamClient, msg: JsMsg, reason: string): Promise<boolean> {
  const headers = deadLetterHeaders(msg, reason);
  const regionSeq = regionSeqOf({ headers: msg.headers, seq: 0 });
  if (regionSeq > 0) headers.set(EventHeader.RegionSeq, String(regionSeq));
  const storedReason = headers.get(EventHeader.DlqReason);
  return storeDeadLetter(js, msg, { subject: dlqSubject(sourceToken(msg.headers)), headers }, (m) =>
    m.term(storedReason.slice(0, 200)),
  );
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
  data: Uint8Array;
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
  };
}

/** Reads one entry of the events DLQ by its sequence; throws when there is none. */
export async function readDlqEntry(jsm: JetStreamManager, seq: number): Promise<DlqEntry> {
  const stored = await storedMessage(jsm, DLQ_STREAM, seq);
  if (!stored) throw new Error(`no DLQ entry with sequence ${seq}`);
  return dlqEntryOf({ seq, subject: stored.subject, headers: stored.header, data: stored.data });
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
  const h = replayHeaders(entry.headers, { key: entry.eventKey, from: `${DLQ_STREAM}:${entry.seq}` });
  const originSeq = regionSeqOf({ headers: entry.headers, seq: 0 });
  if (originSeq > 0) h.set(EventHeader.RegionSeq, String(originSeq));
  const ack = await js.publish(replaySubject(sourceToken(entry.headers)), fixedBody ?? entry.data, { headers: h });
  return { stream: ack.stream, seq: ack.seq };
}
