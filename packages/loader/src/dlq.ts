import { headers as createHeaders, type MsgHdrs } from "@nats-io/nats-core";
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { DLQ_STREAM, dlqSubject, EventHeader, ID_PATTERN, replaySubject } from "@tributary/streams";
import { regionSeqOf } from "./rows.js";

/** Where a DLQ entry's original `Nats-Msg-Id` is kept (the DLQ must not dedupe entries away). */
export const ORIGINAL_MSG_ID = EventHeader.OriginalMsgId;

/**
 * Moves a poison message to EVENTS_DLQ with its original bytes and headers plus the reason and
 * origin, then terminates it. If the DLQ write fails the message is nak'ed (redelivered later),
 * never dropped.
 */
export async function deadLetter(js: JetStreamClient, msg: JsMsg, rawReason: string): Promise<boolean> {
  // Reasons quote warehouse errors, which span lines; a header value cannot.
  const reason = rawReason.replace(/[\r\n]+/g, " ").slice(0, 1000);
  const h = createHeaders();
  for (const [name, values] of msg.headers ?? []) {
    if (name === EventHeader.MsgId) h.set(ORIGINAL_MSG_ID, values[0] ?? "");
    else if (name === EventHeader.DlqReason || name === EventHeader.DlqOrigin)
      continue; // a replay failing again
    else for (const value of values) h.append(name, value);
  }
  h.set(EventHeader.DlqReason, reason);
  h.set(EventHeader.DlqOrigin, `${msg.info.stream}:${msg.seq}`);
  const source = msg.headers?.get(EventHeader.Source) ?? "";
  try {
    await js.publish(dlqSubject(ID_PATTERN.test(source) ? source : "unknown"), msg.data, { headers: h });
  } catch {
    msg.nak(5_000);
    return false;
  }
  msg.term(reason.slice(0, 200));
  return true;
}

export interface DlqEntry {
  seq: number;
  subject: string;
  reason: string;
  origin: string;
  eventKey: string;
  headers: MsgHdrs;
  data: Uint8Array;
}

/** Reads one DLQ entry by its sequence. */
export async function readDlqEntry(jsm: JetStreamManager, seq: number): Promise<DlqEntry> {
  const stored = await jsm.streams.getMessage(DLQ_STREAM, { seq });
  if (!stored) throw new Error(`no DLQ entry with sequence ${seq}`);
  return {
    seq,
    subject: stored.subject,
    reason: stored.header.get(EventHeader.DlqReason),
    origin: stored.header.get(EventHeader.DlqOrigin),
    eventKey: stored.header.get(ORIGINAL_MSG_ID),
    headers: stored.header,
    data: stored.data,
  };
}

/**
 * Puts a DLQ entry back into the pipeline: published to `replay.{source}` on the hub stream with
 * its original headers and key, optionally with corrected bytes. The key stays in
 * `Tributary-Original-Msg-Id`, not `Nats-Msg-Id`: the hub's duplicate window would drop a replay of
 * an event it saw minutes ago. The loader treats it like any event, and the warehouse key makes a
 * second replay a no-op.
 */
export async function replayDlqEntry(
  js: JetStreamClient,
  entry: DlqEntry,
  fixedBody?: Uint8Array,
): Promise<{ stream: string; seq: number }> {
  const h = createHeaders();
  for (const [name, values] of entry.headers) {
    if (
      name === ORIGINAL_MSG_ID ||
      name === EventHeader.DlqReason ||
      name === EventHeader.DlqOrigin ||
      name.startsWith("Nats-")
    )
      continue;
    for (const value of values) h.append(name, value);
  }
  if (entry.eventKey) h.set(EventHeader.OriginalMsgId, entry.eventKey);
  // Keep the origin region's sequence, which the hub's own Nats-Stream-Source header carried.
  const originSeq = regionSeqOf({ headers: entry.headers, data: entry.data, seq: 0 });
  if (originSeq > 0) h.set(EventHeader.RegionSeq, String(originSeq));
  h.set(EventHeader.ReplayedFrom, `${DLQ_STREAM}:${entry.seq}`);
  const source = entry.headers.get(EventHeader.Source);
  const ack = await js.publish(replaySubject(ID_PATTERN.test(source) ? source : "unknown"), fixedBody ?? entry.data, {
    headers: h,
  });
  return { stream: ack.stream, seq: ack.seq };
}
