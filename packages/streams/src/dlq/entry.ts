import { headers as createHeaders, InvalidArgumentError, type MsgHdrs } from "@nats-io/nats-core";
import { JetStreamApiError, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { EventHeader } from "../names.js";
import { storedMessage } from "../stored.js";
import { DLQ_BODY_OMITTED, DLQ_ENTRY_HEADERS, oneLine } from "./headers.js";

/**
 * What both DLQ formats share: how an entry keeps the event (its bytes and headers, its key moved
 * to `Tributary-Original-Msg-Id` so the DLQ does not dedupe entries away), how it is stored without
 * losing the event and without looping forever, and how a replayed copy is headed.
 */

/** The longest reason a DLQ entry keeps (warehouse and destination errors can be long). */
const MAX_REASON_CHARS = 1000;

/**
 * How many times a message's DLQ write is tried before the message is given up (terminated and
 * counted by the caller): with the backoff below, about 20 minutes of a DLQ that refuses (full, its
 * `discard: new` at its limits) or does not answer. A failed write must not turn into an endless
 * loop of redeliveries, each redoing whatever set the event aside.
 */
export const DLQ_WRITE_ATTEMPTS = 10;

/** The wait before the `attempt`-th DLQ write is tried again: 5 s doubling, at most 5 minutes. */
export function dlqRetryDelayMs(attempt: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attempt - 1), 5 * 60_000);
}

/**
 * How a DLQ write ended: `stored` (the entry is there, whole or as a reference to its origin, and
 * the message settled), `retrying` (the write failed; the message was nak'ed with the backoff and
 * the write is to be tried again when it comes back) or `abandoned` (the write failed
 * DLQ_WRITE_ATTEMPTS times; the message was terminated without an entry).
 */
export type DeadLetterOutcome = "stored" | "retrying" | "abandoned";

/**
 * JetStream's "message size exceeds maximum allowed" (a stream's max_msg_size); the client refuses a
 * message over the server's max_payload itself, before sending (InvalidArgumentError).
 */
const MESSAGE_TOO_LARGE = 10054;

function tooLarge(err: unknown): boolean {
  return err instanceof InvalidArgumentError || (err instanceof JetStreamApiError && err.code === MESSAGE_TOO_LARGE);
}

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
 * Stores the entry, then settles the message with `settle` (term or ack). An entry always fits: an
 * event whose bytes plus the entry's headers are too large for the server is stored as a reference
 * (no bytes, `Tributary-Dlq-Body-Omitted: <size>`; the origin keeps them). Any other failure naks
 * the message with dlqRetryDelayMs, so the write is tried again when it comes back, until
 * `attempt` (the caller's count of tries, by default the message's delivery count) reaches
 * DLQ_WRITE_ATTEMPTS: then it is terminated, `abandoned`, for the caller to count and report.
 */
export async function storeDeadLetter(
  js: JetStreamClient,
  msg: JsMsg,
  entry: { subject: string; headers: MsgHdrs },
  settle: (msg: JsMsg) => void,
  attempt = msg.info.deliveryCount,
): Promise<DeadLetterOutcome> {
  try {
    try {
      await js.publish(entry.subject, msg.data, { headers: entry.headers });
    } catch (err) {
      if (!tooLarge(err)) throw err;
      entry.headers.set(DLQ_BODY_OMITTED, String(msg.data.length));
      await js.publish(entry.subject, new Uint8Array(0), { headers: entry.headers });
    }
  } catch {
    if (attempt >= DLQ_WRITE_ATTEMPTS) {
      msg.term(`the DLQ refused the entry ${attempt} times`);
      return "abandoned";
    }
    msg.nak(dlqRetryDelayMs(attempt));
    return "retrying";
  }
  settle(msg);
  return "stored";
}

/** The size of an entry's event when the entry holds a reference instead of its bytes; 0 when it holds them. */
export function omittedBytes(stored: MsgHdrs | undefined): number {
  const text = stored?.has(DLQ_BODY_OMITTED) ? stored.get(DLQ_BODY_OMITTED) : "";
  return Number(text) || 0;
}

/**
 * The event's bytes of a stored entry: its own, or, for a reference entry, those of its origin
 * message (`<stream>:<seq>`) while that stream keeps it; undefined once it does not.
 */
export async function entryBytes(
  jsm: JetStreamManager,
  stored: { header: MsgHdrs; data: Uint8Array },
): Promise<Uint8Array | undefined> {
  if (omittedBytes(stored.header) === 0) return stored.data;
  const origin = stored.header.get(EventHeader.DlqOrigin);
  const at = origin.lastIndexOf(":");
  const seq = Number(origin.slice(at + 1));
  if (at <= 0 || !Number.isSafeInteger(seq) || seq <= 0) return undefined;
  const original = await storedMessage(jsm, origin.slice(0, at), seq).catch(() => null);
  return original?.data;
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
