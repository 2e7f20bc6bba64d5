import type { MsgHdrs } from "@nats-io/nats-core";
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import {
  DLQ_STREAM,
  DLQ_SUBJECT_PREFIX,
  dlqSubject,
  EventHeader,
  ID_PATTERN,
  regionSeqOf,
  replaySubject,
} from "../names.js";
import { deleteStoredMessage, nextBySubject, storedMessage } from "../stored.js";
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

/**
 * One entry of the events DLQ by its sequence, its bytes filled in from its origin when it holds a
 * reference, and when it was set aside; undefined when there is none (replayed, dropped, aged out).
 */
export async function findDlqEntry(
  jsm: JetStreamManager,
  seq: number,
): Promise<{ entry: DlqEntry; at: Date } | undefined> {
  const stored = await storedMessage(jsm, DLQ_STREAM, seq);
  if (!stored) return undefined;
  const data = (await entryBytes(jsm, stored)) ?? new Uint8Array(0);
  return { entry: dlqEntryOf({ seq, subject: stored.subject, headers: stored.header, data }), at: stored.time };
}

/** Reads one entry of the events DLQ by its sequence; throws when there is none. */
export async function readDlqEntry(jsm: JetStreamManager, seq: number): Promise<DlqEntry> {
  const found = await findDlqEntry(jsm, seq);
  if (!found) throw new Error(`no DLQ entry with sequence ${seq}`);
  return found.entry;
}

/** Whether an entry is a delivery-log record the warehouse refused (not an event: nothing to replay). */
export function isDeliveryLogEntry(entry: Pick<DlqEntry, "subject">): boolean {
  return entry.subject === DELIVERY_LOG_DLQ_SUBJECT;
}

/** An events DLQ entry as operators see it in a list (the CLI's `dlq list`, the management API's `GET /v1/dlq`). */
export interface EventsDlqSummary {
  seq: number;
  /** When the event was set aside (ISO). */
  at: string;
  /** The event's source, region and type headers ("" when it has none: a delivery-log record). */
  source: string;
  region: string;
  eventType: string;
  eventKey: string;
  reason: string;
  /** `<stream>:<seq>` the poison event was consumed from. */
  origin: string;
  /** The event's bytes the entry holds (read from the origin for a reference entry, where it still has them). */
  bytes: number;
  /** The event's size when the entry holds a reference to its origin instead of its bytes; 0 otherwise. */
  omittedBytes: number;
}

export function eventsDlqSummaryOf(entry: DlqEntry, at: Date): EventsDlqSummary {
  const header = (name: string) => (entry.headers.has(name) ? entry.headers.get(name) : "");
  return {
    seq: entry.seq,
    at: at.toISOString(),
    source: header(EventHeader.Source),
    region: header(EventHeader.Region),
    eventType: header(EventHeader.EventType),
    eventKey: entry.eventKey,
    reason: entry.reason,
    origin: entry.origin,
    bytes: entry.data.length,
    omittedBytes: entry.omittedBytes,
  };
}

/**
 * A page of the events DLQ, oldest first, from `fromSeq`: `limit` entries at most (100), only those
 * of `sources` when given (a delivery-log record has none, so it is left out then), reading
 * `maxScan` entries at most (10 times the limit) so a page of a few sources' entries in a large DLQ
 * stays bounded. `nextSeq` is where the next page starts, null at the end. Each entry is one
 * request by subject (no consumer: a reader needs no more than the stream's message get).
 */
export async function listEventsDlq(
  jsm: JetStreamManager,
  opts: { fromSeq?: number; limit?: number; sources?: readonly string[]; maxScan?: number } = {},
): Promise<{ entries: EventsDlqSummary[]; nextSeq: number | null }> {
  const limit = opts.limit ?? 100;
  const maxScan = opts.maxScan ?? limit * 10;
  const entries: EventsDlqSummary[] = [];
  if (opts.sources?.length === 0) return { entries, nextSeq: null };
  // One source: the server reads its subject alone, nothing else to skip.
  const subject = opts.sources?.length === 1 ? dlqSubject(opts.sources[0]!) : `${DLQ_SUBJECT_PREFIX}.>`;
  let seq = opts.fromSeq ?? 1;
  for (let scanned = 0; entries.length < limit; scanned++) {
    if (scanned >= maxScan) return { entries, nextSeq: seq };
    const m = await nextBySubject(jsm, DLQ_STREAM, seq, subject);
    if (!m) return { entries, nextSeq: null };
    seq = m.seq + 1;
    const entry = dlqEntryOf({ seq: m.seq, subject: m.subject, headers: m.header, data: m.data });
    const summary = eventsDlqSummaryOf(entry, m.time);
    if (opts.sources && !opts.sources.includes(summary.source)) continue;
    entries.push(summary);
  }
  // A full page: whether anything follows is for the next request to find.
  return { entries, nextSeq: seq };
}

/** How many entries the events DLQ holds per subject token (`dlq.{source}`), read from the stream's info. */
export async function countEventsDlq(jsm: JetStreamManager): Promise<Record<string, number>> {
  const info = await jsm.streams.info(DLQ_STREAM, { subjects_filter: `${DLQ_SUBJECT_PREFIX}.>` });
  const counts: Record<string, number> = {};
  for (const [subject, n] of Object.entries(info.state.subjects ?? {}))
    counts[subject.slice(DLQ_SUBJECT_PREFIX.length + 1)] = n;
  return counts;
}

/**
 * Replays an entry (replayDlqEntry, optionally with a corrected body) and deletes it from the DLQ
 * once the hub stream has the copy. A crash in between leaves both: a second replay is one row all
 * the same (the warehouse key). One that fails again comes back with its new reason.
 */
export async function replayAndRemoveDlqEntry(
  js: JetStreamClient,
  jsm: JetStreamManager,
  entry: DlqEntry,
  fixedBody?: Uint8Array,
): Promise<{ stream: string; seq: number }> {
  const to = await replayDlqEntry(js, entry, fixedBody);
  await deleteStoredMessage(jsm, DLQ_STREAM, entry.seq);
  return to;
}

/** Deletes an entry of the events DLQ for good; false when there was none. */
export function dropDlqEntry(jsm: JetStreamManager, seq: number): Promise<boolean> {
  return deleteStoredMessage(jsm, DLQ_STREAM, seq);
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
