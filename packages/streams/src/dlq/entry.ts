import { headers as createHeaders, type MsgHdrs } from "@nats-io/nats-core";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { EventHeader } from "../names.js";
import { DLQ_ENTRY_HEADERS, oneLine } from "./headers.js";

/**
 * What both DLQ formats share: how an entry keeps the event (its bytes and headers, its key moved
 * to `Tributary-Original-Msg-Id` so the DLQ does not dedupe entries away), how it is stored without
 * losing the event, and how a replayed copy is headed.
 */

/** The longest reason a DLQ entry keeps (warehouse and destination errors can be long). */
const MAX_REASON_CHARS = 1000;

/** How long a message whose DLQ write failed waits before it is delivered again. */
const DLQ_RETRY_DELAY_MS = 5_000;

/**
 * The headers of a DLQ entry before its format's own: the event's headers with the key as
 * `Tributary-Original-Msg-Id`, without its other `Nats-*` headers (the server refuses a publish
 * carrying `Nats-Stream-Source`, which every event sourced into the hub has) and without an earlier
 * entry's headers (a replay that failed again), plus the reason (one line) and the origin
 * `<stream>:<seq>`.
 */
export function deadLetterHeaders(msg: JsMsg, reason: string): MsgHdrs {
  const h = createHeaders();
  for (const [name, values] of msg.headers ?? []) {
    if (name === EventHeader.MsgId) h.set(EventHeader.OriginalMsgId, values[0] ?? "");
    else if (DLQ_ENTRY_HEADERS.has(name) || name.startsWith("Nats-")) continue;
    else for (const value of values) h.append(name, value);
  }
  h.set(EventHeader.DlqReason, oneLine(reason).slice(0, MAX_REASON_CHARS));
  h.set(EventHeader.DlqOrigin, `${msg.info.stream}:${msg.seq}`);
  return h;
}

/**
 * Stores the entry, then settles the message with `settle` (term or ack). If the DLQ write fails
 * the message is nak'ed (delivered again later), never dropped; the answer says which happened.
 */
export async function storeDeadLetter(
  js: JetStreamClient,
  msg: JsMsg,
  entry: { subject: string; headers: MsgHdrs },
  settle: (msg: JsMsg) => void,
): Promise<boolean> {
  try {
    await js.publish(entry.subject, msg.data, { headers: entry.headers });
  } catch {
    msg.nak(DLQ_RETRY_DELAY_MS);
    return false;
  }
  settle(msg);
  return true;
}

/**
 * The headers of a copy put back into the pipeline: the stored message's own without any DLQ
 * entry's headers and without `Nats-*`, the key in `Tributary-Original-Msg-Id` (not `Nats-Msg-Id`:
 * the target stream's duplicate window would drop a deliberate replay of an event it saw minutes
 * ago) and `Tributary-Replayed-From: <stream>:<seq>`.
 */
export function replayHeaders(stored: MsgHdrs | undefined, opts: { key: string | undefined; from: string }): MsgHdrs {
  const h = createHeaders();
  for (const [name, values] of stored ?? []) {
    if (name === EventHeader.OriginalMsgId || DLQ_ENTRY_HEADERS.has(name) || name.startsWith("Nats-")) continue;
    for (const value of values) h.append(name, value);
  }
  if (opts.key) h.set(EventHeader.OriginalMsgId, opts.key);
  h.set(EventHeader.ReplayedFrom, opts.from);
  return h;
}
