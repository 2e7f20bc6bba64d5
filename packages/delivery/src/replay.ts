import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import {
  DEFAULT_DELIVERY_REPLAY_LIMIT,
  deliveryFilterSubjects,
  deliveryReplaySubject,
  HUB_STREAM,
  readDestinationRange,
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
  let replayed = 0;
  let scanned = 0;
  // Read through the destination's own filter subjects (its NATS user may read no other event of
  // the hub stream), from the range's start.
  for await (const m of readDestinationRange(js, jsm, {
    destination: destination.name,
    filterSubjects: deliveryFilterSubjects(destination.sources, destination.types),
    from: range.from,
    to: range.to,
  })) {
    scanned++;
    const event = eventFromMessage(m.headers, m.data);
    if (!event || !routes(destination, event)) continue;
    if (replayed >= limit) return { replayed, scanned, truncated: true };
    await js.publish(deliveryReplaySubject(destination.name), m.data, {
      headers: replayHeaders(m.headers, { key: event.key, from: `${HUB_STREAM}:${m.seq}` }),
    });
    replayed++;
  }
  return { replayed, scanned, truncated: false };
}
