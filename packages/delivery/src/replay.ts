import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import {
  DEFAULT_DELIVERY_REPLAY_LIMIT,
  deliveryFilterSubjects,
  deliveryReplaySubject,
  ENRICHED_STREAM,
  readDestinationRange,
  replayHeaders,
} from "@tributary/streams";
import { eventFromMessage, routes } from "./event.js";

/** Why a range replay stopped before `to`: the replay limit, the scan budget, or its signal (a deadline, a caller gone). */
export type RangeReplayStop = "limit" | "scan_budget" | "aborted";

export interface RangeReplayResult {
  replayed: number;
  scanned: number;
  /** True when it stopped before the end of the range (`stopped` says why, `resumeFrom` where to go on). */
  truncated: boolean;
  stopped?: RangeReplayStop;
  /**
   * The storage time of the first event not handled: a replay from it goes on where this one
   * stopped (the events stored in that same millisecond before it may be sent again, with their
   * same ids).
   */
  resumeFrom?: Date;
}

/**
 * Delivers a time range of the hub stream again to one destination: every event stored in
 * [from, to] that the destination takes (its sources and types; the filter and transform run as
 * usual) is copied to `redeliver.{destination}`. Each carries its key, so the destination sees the
 * same id as the first time. (A destination's DLQ is replayed by `replayDeliveryDlq` of
 * `@tributary/streams`.)
 *
 * Bounded: it stops after `limit` events replayed, after `maxScan` events read, or when `signal`
 * aborts, and says where to resume. A week of a busy hub is millions of events; the caller picks
 * how much one call may read.
 */
export async function replayDeliveryRange(
  js: JetStreamClient,
  jsm: JetStreamManager,
  destination: { name: string; sources: readonly string[]; types: readonly string[] },
  range: { from: Date; to: Date; limit?: number; maxScan?: number; signal?: AbortSignal },
): Promise<RangeReplayResult> {
  const limit = range.limit ?? DEFAULT_DELIVERY_REPLAY_LIMIT;
  const maxScan = range.maxScan ?? Number.POSITIVE_INFINITY;
  let replayed = 0;
  let scanned = 0;
  const stop = (stopped: RangeReplayStop, resumeFrom: Date): RangeReplayResult => ({
    replayed,
    scanned,
    truncated: true,
    stopped,
    resumeFrom,
  });
  if (range.signal?.aborted) return stop("aborted", range.from);
  // Read through the destination's own filter subjects (its NATS user may read no other event of
  // the hub stream), from the range's start. Leaving the loop early deletes the scan consumer.
  for await (const m of readDestinationRange(js, jsm, {
    destination: destination.name,
    filterSubjects: deliveryFilterSubjects(destination.sources, destination.types),
    from: range.from,
    to: range.to,
  })) {
    if (range.signal?.aborted) return stop("aborted", m.time);
    if (scanned >= maxScan) return stop("scan_budget", m.time);
    scanned++;
    const event = eventFromMessage(m.headers, m.data);
    if (!event || !routes(destination, event)) continue;
    if (replayed >= limit) return stop("limit", m.time);
    await js.publish(deliveryReplaySubject(destination.name), m.data, {
      headers: replayHeaders(m.headers, { key: event.key, from: `${ENRICHED_STREAM}:${m.seq}` }),
    });
    replayed++;
  }
  return { replayed, scanned, truncated: false };
}
