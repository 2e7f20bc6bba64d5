import { randomBytes } from "node:crypto";
import type { JetStreamClient, JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import { AddressPolicy, DestinationSender, eventFromMessage, routes, type SendResult } from "@tributary/delivery";
import {
  DELIVERIES_STREAM,
  deliveryLogSubject,
  deliveryReplaySubject,
  eventSubject,
  firstSeqAtOrAfter,
  ENRICHED_STREAM,
  nextBySubject,
  replayHeaders,
} from "@tributary/streams";
import { signStandardWebhooks, type SigningKey } from "@tributary/verify";
import { ManagementError } from "./errors.js";

/** Where an event is found again: what the warehouse knows of it. */
export interface EventLocation {
  key: string;
  source: string;
  type: string;
  region: string;
  /** ISO time the gateway received it: the hub stored it then or later. */
  receivedAt: string;
}

/** How far past an event's receipt its subject is read looking for it (a region's backlog after an outage). */
const LOCATE_SCAN = 50_000;

/** The hub stream's copy of an event: read by its subject from the time it was received. */
export async function locateEvent(jsm: JetStreamManager, event: EventLocation): Promise<StoredMsg> {
  const subject = eventSubject(event.region, event.source, event.type);
  let seq = await firstSeqAtOrAfter(jsm, ENRICHED_STREAM, new Date(Date.parse(event.receivedAt) - 1000));
  for (let scanned = 0; seq !== undefined && scanned < LOCATE_SCAN; scanned++) {
    const m = await nextBySubject(jsm, ENRICHED_STREAM, seq, subject);
    if (!m) break;
    if (eventFromMessage(m.header, m.data)?.key === event.key) return m;
    seq = m.seq + 1;
  }
  throw new ManagementError("event_not_found", `event ${event.key} is no longer in the hub stream`);
}

/** Puts one stored event back for one subscription only (DELIVERY_REPLAY): the same key, so the same webhook-id. */
export async function resendStored(js: JetStreamClient, subscription: string, m: StoredMsg): Promise<void> {
  const event = eventFromMessage(m.header, m.data);
  await js.publish(deliveryReplaySubject(subscription), m.data, {
    headers: replayHeaders(m.header, { key: event?.key, from: `${ENRICHED_STREAM}:${m.seq}` }),
  });
}

export interface BulkFilter {
  sources?: string[];
  types?: string[];
  from: Date;
  to: Date;
  /** Only events whose last attempt for this subscription had this outcome (the delivery log). */
  outcome?: "delivered" | "failed";
}

export interface BulkResult {
  matched: number;
  resent: number;
  scanned: number;
  /** True when it stopped at `limit` or the scan budget before `to`. */
  truncated: boolean;
}

/** The keys whose last logged attempt for `subscription` in the window had `outcome` (failed = dead-lettered). */
async function keysByOutcome(jsm: JetStreamManager, subscription: string, filter: BulkFilter): Promise<Set<string>> {
  const last = new Map<string, string>();
  let seq = await firstSeqAtOrAfter(jsm, DELIVERIES_STREAM, filter.from);
  while (seq !== undefined) {
    const m = await nextBySubject(jsm, DELIVERIES_STREAM, seq, deliveryLogSubject(subscription));
    if (!m) break;
    const record = m.json<{ event_key: string; outcome: string }>();
    last.set(record.event_key, record.outcome);
    seq = m.seq + 1;
  }
  const wanted = filter.outcome === "failed" ? "dlq" : "delivered";
  return new Set([...last].filter(([, outcome]) => outcome === wanted).map(([key]) => key));
}

/**
 * Resends, or with `dryRun` counts, the hub stream's events in [from, to] that the subscription
 * takes and the filter picks. Bounded by `limit` resends and `maxScan` messages read.
 */
export async function bulkResend(
  deps: { js: JetStreamClient; jsm: JetStreamManager },
  subscription: { id: string; sources: readonly string[]; types: readonly string[] },
  filter: BulkFilter & { dryRun: boolean; limit: number; maxScan: number },
): Promise<BulkResult> {
  const keys = filter.outcome ? await keysByOutcome(deps.jsm, subscription.id, filter) : undefined;
  const result: BulkResult = { matched: 0, resent: 0, scanned: 0, truncated: false };
  let seq = await firstSeqAtOrAfter(deps.jsm, ENRICHED_STREAM, filter.from);
  while (seq !== undefined) {
    const m = await nextBySubject(deps.jsm, ENRICHED_STREAM, seq, "events.>");
    if (!m || m.time > filter.to) break;
    if (result.scanned >= filter.maxScan || result.matched >= filter.limit) {
      result.truncated = true;
      break;
    }
    result.scanned++;
    seq = m.seq + 1;
    const event = eventFromMessage(m.header, m.data);
    if (!event || !routes(subscription, event)) continue;
    if (filter.sources?.length && !filter.sources.includes(event.source)) continue;
    if (filter.types?.length && !filter.types.includes(event.type)) continue;
    if (keys && !keys.has(event.key)) continue;
    result.matched++;
    if (!filter.dryRun) {
      await resendStored(deps.js, subscription.id, m);
      result.resent++;
    }
  }
  return result;
}

/** The body of a test send: a sample event, marked as a test. */
export function sampleEvent(subscription: string, now: Date): Uint8Array {
  return Buffer.from(
    JSON.stringify({
      type: "tributary.test",
      event_id: `test_${randomBytes(8).toString("hex")}`,
      occurred_at: now.toISOString(),
      data: { subscription, message: "a test event sent from the management API" },
    }),
  );
}

/**
 * Sends one sample event to the subscription's URL, signed like a real delivery (Standard
 * Webhooks headers with every signing secret), through the same address policy; answers what the
 * endpoint answered, or why there was no answer.
 */
export async function testSend(
  target: { url: string; timeoutMs: number; allowPrivate: readonly string[]; headers: Record<string, string> },
  keys: readonly SigningKey[],
  body: Uint8Array,
  now: Date,
): Promise<{ webhookId: string; result?: SendResult; error?: string }> {
  const webhookId = `msg_test_${randomBytes(12).toString("hex")}`;
  const sender = new DestinationSender(target.url, target.timeoutMs, 1, AddressPolicy.create(target.allowPrivate));
  try {
    const signed =
      keys.length > 0
        ? signStandardWebhooks({ id: webhookId, timestampSeconds: Math.floor(now.getTime() / 1000), body }, keys)
        : {};
    const result = await sender.send(body, { ...target.headers, "content-type": "application/json", ...signed });
    return { webhookId, result };
  } catch (err) {
    return {
      webhookId,
      error: err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err),
    };
  } finally {
    await sender.close();
  }
}
