import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  DLQ_STREAM,
  ENRICHED_STREAM,
  eventKeyOf,
  EventHeader,
  HUB_ENRICH_DURABLE,
  HUB_STREAM,
  regionalStreamName,
  readStreamRange,
} from "@tributary/streams";
import { aggregatorEndpoint, connectAdmin, regionOf, type OperatorContext } from "./context.js";
import { serviceJson } from "./http.js";

export interface RegionReconciliation {
  region: string;
  stream: string;
  /** The sequences the regional stream still holds (older ones aged out). */
  streamFirstSeq: number;
  streamLastSeq: number;
  /** Rows of this region in the warehouse, as runs of region_seq. */
  rowRanges: number;
  /** Stream sequences with no row of their own. */
  gapSeqs: number;
  /** Of those: the key has a row (the same event loaded from another region or an earlier copy). */
  loadedAsAnotherCopy: number;
  /** Of those: set aside as poison, waiting in EVENTS_DLQ (`tributary dlq list`). */
  inDlq: number;
  /** Of those: not loaded yet (the hub or the loader still had work in flight when checked). */
  pending: number;
  /** Of those: received before the warehouse's events retention: their rows were deleted by design. */
  expired: number;
  /** Rows of this region erased in place (anonymised): present, and reported, never lost. */
  erased: number;
  /** Of those: acknowledged into the stream and in no row — lost. */
  lost: Array<{ seq: number; key: string }>;
  /** Region sequences held by more than one row. */
  doubles: Array<{ seq: number; keys: string[] }>;
}

export interface Reconciliation {
  at: string;
  regions: RegionReconciliation[];
  /** True when nothing was lost and nothing doubled. */
  clean: boolean;
}

/** The parts of [first, last] no range covers, as runs. */
export function complement(
  first: number,
  last: number,
  ranges: ReadonlyArray<readonly [number, number]>,
): Array<[number, number]> {
  const gaps: Array<[number, number]> = [];
  let next = first;
  for (const [a, b] of ranges) {
    if (b < next) continue;
    if (a > last) break;
    if (a > next) gaps.push([next, Math.min(a - 1, last)]);
    next = Math.max(next, b + 1);
  }
  if (next <= last) gaps.push([next, last]);
  return gaps;
}

function aggregatorJson<T>(context: OperatorContext, path: string, init?: RequestInit): Promise<T> {
  return serviceJson<T>(aggregatorEndpoint(context), path, init);
}

const KEY_CHUNK = 10_000;

async function presentKeys(context: OperatorContext, keys: string[]): Promise<Set<string>> {
  const present = new Set<string>();
  for (let i = 0; i < keys.length; i += KEY_CHUNK) {
    const { present: found } = await aggregatorJson<{ present: string[] }>(context, "/v1/reconcile/keys", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ keys: keys.slice(i, i + KEY_CHUNK) }),
    });
    for (const k of found) present.add(k);
  }
  return present;
}

/** The original keys of the events waiting in the DLQ (headers only). */
async function dlqKeys(nc: NatsConnection, jsm: JetStreamManager): Promise<Set<string>> {
  const info = await jsm.streams.info(DLQ_STREAM).catch(() => undefined);
  const keys = new Set<string>();
  if (!info || info.state.messages === 0) return keys;
  await readStreamRange(
    nc,
    { stream: DLQ_STREAM, fromSeq: info.state.first_seq, toSeq: info.state.last_seq, headersOnly: true },
    (msg) => {
      const key = msg.headers?.get("Tributary-Original-Msg-Id");
      if (key) keys.add(key);
    },
  );
  return keys;
}

/** Whether the hub still has work in flight for the loader (then gaps may be pending, not lost): sourcing, the enrich stage, the loader. */
async function inFlight(jsm: JetStreamManager, durable: string): Promise<boolean> {
  const stage = await jsm.consumers.info(HUB_STREAM, HUB_ENRICH_DURABLE);
  const consumer = await jsm.consumers.info(ENRICHED_STREAM, durable);
  const info = await jsm.streams.info(HUB_STREAM);
  const waiting = stage.num_pending + stage.num_ack_pending + consumer.num_pending + consumer.num_ack_pending;
  return waiting > 0 || (info.sources ?? []).some((src) => src.lag > 0);
}

async function reconcileRegion(
  context: OperatorContext,
  region: string,
  busy: boolean,
  inDlq: ReadonlySet<string>,
): Promise<RegionReconciliation> {
  const stream = regionalStreamName(region);
  const nc = await connectAdmin(context, regionOf(context, region).url);
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const info = await jsm.streams.info(stream);
    const first = info.state.first_seq;
    const last = info.state.last_seq;
    const [{ ranges, erased, retainedSince }, { doubles }] = await Promise.all([
      aggregatorJson<{ ranges: Array<[number, number]>; erased?: number; retainedSince?: string | null }>(
        context,
        `/v1/reconcile/${region}/ranges`,
      ),
      aggregatorJson<{ doubles: Array<{ seq: number; keys: string[] }> }>(context, `/v1/reconcile/${region}/doubles`),
    ]);
    const result: RegionReconciliation = {
      region,
      stream,
      streamFirstSeq: first,
      streamLastSeq: last,
      rowRanges: ranges.length,
      gapSeqs: 0,
      loadedAsAnotherCopy: 0,
      inDlq: 0,
      pending: 0,
      expired: 0,
      erased: erased ?? 0,
      lost: [],
      doubles,
    };
    const retainedFrom = retainedSince ? Date.parse(retainedSince) : undefined;
    if (info.state.messages === 0) return result;
    // Only the gaps are read from the stream, headers only: cost follows the gaps, not the rows.
    const gapKeys: Array<{ seq: number; key: string; receivedMs: number }> = [];
    for (const [a, b] of complement(first, last, ranges)) {
      await readStreamRange(nc, { stream, fromSeq: a, toSeq: b, headersOnly: true }, (msg) => {
        gapKeys.push({
          seq: msg.seq,
          key: eventKeyOf(msg.headers) ?? "",
          receivedMs: Date.parse(msg.headers?.get(EventHeader.ReceivedAt) || "") || msg.info.timestampNanos / 1e6,
        });
      });
    }
    result.gapSeqs = gapKeys.length;
    const present = await presentKeys(
      context,
      gapKeys.map((g) => g.key).filter((k) => k !== ""),
    );
    for (const gap of gapKeys) {
      if (present.has(gap.key)) result.loadedAsAnotherCopy++;
      else if (retainedFrom !== undefined && gap.receivedMs < retainedFrom) result.expired++;
      else if (inDlq.has(gap.key)) result.inDlq++;
      // The loader does not load in sequence order (flushes run side by side, a batch handed back
      // comes again later): while it has work in flight, any gap may still be on its way.
      else if (busy) result.pending++;
      else result.lost.push({ seq: gap.seq, key: gap.key });
    }
    return result;
  } finally {
    await nc.close();
  }
}

/**
 * The audit: for each region, every sequence its stream still holds must have a row with that
 * (region, region_seq) — or, for an event accepted twice (another region, a resend after the
 * duplicate window), a row under the same key. Sequences without either are lost; a sequence held
 * by two rows is doubled. Works on ranges: the warehouse answers with runs of sequences, and only
 * the gaps are read back from the stream.
 */
export async function reconcile(
  context: OperatorContext,
  opts: { regions?: string[]; settleMs?: number } = {},
): Promise<Reconciliation> {
  const regions = opts.regions ?? Object.keys(context.regions);
  // Wait (up to settleMs) for the hub and the loader to finish what they have in flight: only then
  // is a gap a loss rather than an event on its way.
  const deadline = Date.now() + (opts.settleMs ?? 30_000);
  const hub = await connectAdmin(context, context.hub.url);
  let busy: boolean;
  let inDlq: Set<string>;
  try {
    const jsm = await jetstreamManager(hub, { checkAPI: false });
    busy = await inFlight(jsm, context.durable);
    while (busy && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      busy = await inFlight(jsm, context.durable);
    }
    inDlq = await dlqKeys(hub, jsm);
  } finally {
    await hub.close();
  }
  const results: RegionReconciliation[] = [];
  for (const region of regions) results.push(await reconcileRegion(context, region, busy, inDlq));
  return {
    at: new Date().toISOString(),
    regions: results,
    clean: results.every((r) => r.lost.length === 0 && r.doubles.length === 0),
  };
}
