import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import {
  DEFAULT_DELIVERY_REPLAY_LIMIT,
  deliveryReplaySubject,
  firstSeqAtOrAfter,
  HUB_STREAM,
  nextBySubject,
  replayHeaders,
} from "@tributary/streams";
import { eventFromMessage, routes } from "./event.js";

/**
 * Delivers a time range of the hub stream again to one destination: every event stored in
 * [from, to] that the destination takes (its sources and types; the filter and transform run as
 * usual) is copied to `redeliver.{destination}`. Each carries its key, so the destination sees the
 * same id as the first time. (A destination's DLQ is replayed by `replayDeliveryDlq` of
 * `@tributary/streams`.)
 */
export async function replayDeliveryRange(
  js: JetStreamClient,
  jsm: JetStreamManager,
  destination: { name: string; sources: readonly string[]; types: readonly string[] },
  range: { from: Date; to: Date; limit?: number },
): Promise<{ replayed: number; scanned: number; truncated: boolean }> {
  const limit = range.limit ?? DEFAULT_DELIVERY_REPLAY_LIMIT;
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
      headers: replayHeaders(m.header, { key: event.key, from: `${HUB_STREAM}:${m.seq}` }),
    });
    replayed++;
  }
  return { replayed, scanned, truncated: false };
}
