import { headers as createHeaders } from "@nats-io/nats-core";
import { jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import {
  EventHeader,
  eventKeyOf,
  ID_PATTERN,
  regionalStreamName,
  replaySubject,
  readStreamRange,
} from "@tributary/streams";
import { connectAdmin, OperatorError, regionOf, type OperatorContext } from "./context.js";

export interface ReplayRange {
  region: string;
  fromSeq?: number;
  since?: Date;
  /** Last sequence (inclusive); default: the stream's last sequence when the replay starts. */
  toSeq?: number;
}

export interface ReplayProgress {
  replayed: number;
  /** Messages in the range (an estimate with --since: up to the last sequence). */
  total: number;
}

export interface ReplayResult {
  region: string;
  stream: string;
  fromSeq: number;
  toSeq: number;
  replayed: number;
}

/** Publishes in flight at once: enough to keep the hub busy, few enough to bound memory. */
const IN_FLIGHT = 256;

/**
 * Reloads a range of a region's stream into the warehouse: each message is published again into
 * the hub stream (`replay.{source}`) with its original key (in `Tributary-Original-Msg-Id`), headers and bytes, and its region
 * sequence, so the loader treats it as the same event. The warehouse's unique key makes a replay of
 * rows already loaded a no-op, so a range can be replayed as often as needed.
 */
export async function replayRange(
  context: OperatorContext,
  range: ReplayRange,
  onProgress?: (p: ReplayProgress) => void,
): Promise<ReplayResult> {
  const stream = regionalStreamName(range.region);
  const regionNc = await connectAdmin(context, regionOf(context, range.region).url);
  const hubNc = await connectAdmin(context, context.hub.url);
  try {
    const info = await (await jetstreamManager(regionNc, { checkAPI: false })).streams.info(stream);
    const toSeq = Math.min(range.toSeq ?? info.state.last_seq, info.state.last_seq);
    const fromSeq = Math.max(range.fromSeq ?? info.state.first_seq, info.state.first_seq);
    if (range.fromSeq !== undefined && range.fromSeq < info.state.first_seq && !range.since) {
      // Older events aged out of the region: say so rather than pretend they were replayed.
      console.error(
        `tributary: ${stream} starts at sequence ${info.state.first_seq}; ${range.fromSeq}–${info.state.first_seq - 1} aged out and cannot be replayed from it`,
      );
    }
    if (range.fromSeq !== undefined && range.toSeq !== undefined && range.fromSeq > range.toSeq) {
      throw new OperatorError("bad_argument", `--from-seq ${range.fromSeq} is after --to ${range.toSeq}`);
    }
    const total = Math.max(0, toSeq - fromSeq + 1);
    const hub = jetstream(hubNc);
    const inFlight = new Set<Promise<unknown>>();
    let replayed = 0;
    const publish = (msg: JsMsg) => {
      const h = createHeaders();
      for (const [name, values] of msg.headers ?? []) {
        if (name.startsWith("Nats-")) continue;
        for (const value of values) h.append(name, value);
      }
      // The key rides in Tributary-Original-Msg-Id: as Nats-Msg-Id the hub's duplicate window would
      // drop the replay of an event it took minutes ago.
      const key = eventKeyOf(msg.headers);
      if (key) h.set(EventHeader.OriginalMsgId, key);
      h.set(EventHeader.RegionSeq, String(msg.seq));
      h.set(EventHeader.ReplayedFrom, `${stream}:${msg.seq}`);
      const source = msg.headers?.get(EventHeader.Source) ?? "";
      return hub.publish(replaySubject(ID_PATTERN.test(source) ? source : "unknown"), msg.data, { headers: h });
    };
    await readStreamRange(
      regionNc,
      { stream, ...(range.since ? { since: range.since } : { fromSeq }), toSeq },
      async (msg) => {
        const p = publish(msg).then(() => {
          replayed++;
          onProgress?.({ replayed, total });
        });
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p)).catch(() => undefined);
        if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
      },
    );
    await Promise.all(inFlight);
    return { region: range.region, stream, fromSeq, toSeq, replayed };
  } finally {
    await Promise.all([regionNc.close(), hubNc.close()]);
  }
}
