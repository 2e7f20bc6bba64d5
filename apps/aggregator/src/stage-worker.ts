// The enrich stage's stateless work on a worker thread (piscina task): for each hub message of a
// packed batch, the enriched message to publish, less what only the stage's thread can decide
// (is_unique, is_suspicious, suspicious_reason: they depend on every event seen before).
import { enricherFromPortable, type Enricher } from "@tributary/enrich";
import { decodeHeaders, mapMessage, unpackMessage, workerData, type PackedMessages } from "@tributary/loader/wire";
import type { EnrichedFields } from "@tributary/schema";
import {
  ENRICHED_PUBLISH_PREFIX,
  ENRICHED_STREAM,
  enrichedSubject,
  EventHeader,
  regionSeqOf,
} from "@tributary/streams";
import { Outcome, type PreparedPart, type StageWorkerData } from "./stage-part.js";

const options = workerData as StageWorkerData | undefined;
const workerEnricher: Enricher | undefined = options?.enrich ? enricherFromPortable(options.enrich) : undefined;
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
/** The stateful columns, settled on the stage's thread and appended to the enrichment JSON there. */
const STATEFUL = new Set<keyof EnrichedFields>(["is_unique", "is_suspicious", "suspicious_reason"]);

/** The NATS header block of the hub message's headers that the enriched copy keeps, and the stage's own. */
function headerHead(block: Uint8Array, extra: Array<[string, string]>): string {
  // The hub message's block as it came: its first line, then `Name: value` lines. The server's own
  // (Nats-*) are left out; Nats-Msg-Id goes back in with the stage's headers.
  let out = "NATS/1.0\r\n";
  const text = new TextDecoder().decode(block);
  for (const line of text.split("\r\n").slice(1)) {
    if (line === "" || line.startsWith("Nats-")) continue;
    const name = line.slice(0, line.indexOf(":"));
    if (name === EventHeader.RegionSeq || name === EventHeader.Enrichment) continue;
    out += `${line}\r\n`;
  }
  for (const [name, value] of extra) out += `${name}: ${value}\r\n`;
  return out;
}

/** The enrichment as JSON, without the stateful columns and the closing brace (the stage appends them). */
function enrichmentHead(enriched: EnrichedFields): string {
  const rest: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(enriched))
    if (!STATEFUL.has(name as keyof EnrichedFields)) rest[name] = value;
  return JSON.stringify(rest).slice(0, -1);
}

/** The worker's task: a batch prepared with the enricher rebuilt on this worker. */
export function prepareBatch(packed: PackedMessages): PreparedPart {
  return prepareBatchWith(workerEnricher, packed);
}

/** A batch prepared with the given enricher (undefined: enrichment off); pure, for tests on any thread. */
export function prepareBatchWith(enricher: Enricher | undefined, packed: PackedMessages): PreparedPart {
  const n = packed.count;
  const heads: Uint8Array[] = [];
  const bodies: Uint8Array[] = [];
  const enrichments: Uint8Array[] = [];
  const part: Omit<PreparedPart, "bytes" | "ends"> = {
    count: n,
    subjects: [],
    outcome: new Uint8Array(n),
    keys: [],
    uniqueKey: [],
    firstHit: new Int32Array(n).fill(-1),
    burstKey: [],
  };
  for (let i = 0; i < n; i++) {
    let h: ReturnType<typeof decodeHeaders> | undefined;
    const msg = unpackMessage(packed, i, (block) => (h = decodeHeaders(block)));
    // A replay's own key header is Tributary-Original-Msg-Id: no msgID, the stream must not drop it.
    const msgId = h?.get(EventHeader.MsgId) || "";
    const extra: Array<[string, string]> = [
      [EventHeader.RegionSeq, String(regionSeqOf(msg))],
      ...(msgId ? ([[EventHeader.MsgId, msgId]] as Array<[string, string]>) : []),
      ["Nats-Expected-Stream", ENRICHED_STREAM],
    ];
    part.subjects[i] = `${ENRICHED_PUBLISH_PREFIX}.${enrichedSubject(msg.subject)}`;
    part.keys[i] = msgId || h?.get(EventHeader.OriginalMsgId) || "";
    part.uniqueKey[i] = null;
    part.burstKey[i] = null;
    let body = EMPTY;
    let enrichment = EMPTY;
    // A DLQ replay of an enriched event carries its verdicts already: they stay.
    const replayedEnriched = h?.has(EventHeader.Enrichment) === true;
    if (enricher && !replayedEnriched) {
      const mapped = safeMap(msg);
      if (!mapped || !mapped.ok) part.outcome[i] = Outcome.Unmapped;
      else {
        try {
          const prepared = enricher.prepare(mapped.row, mapped.body);
          part.outcome[i] = Outcome.Enriched;
          part.uniqueKey[i] = prepared.pending.uniqueKey;
          part.firstHit[i] = prepared.pending.suspicion?.firstHit ?? -1;
          part.burstKey[i] = prepared.pending.suspicion?.burstKey ?? null;
          body = encoder.encode(prepared.row.payload);
          enrichment = encoder.encode(enrichmentHead(prepared.row.enriched!));
        } catch {
          // A bug, not an event's content: forwarded as it is, the loader's own checks decide.
          part.outcome[i] = Outcome.Unmapped;
        }
      }
    }
    // A replayed enriched event keeps its Tributary-Enrichment header as it came.
    const keep = replayedEnriched
      ? ([[EventHeader.Enrichment, h!.get(EventHeader.Enrichment)]] as Array<[string, string]>)
      : [];
    heads.push(encoder.encode(headerHead(packedHeaders(packed, i), [...extra, ...keep])));
    bodies.push(body);
    enrichments.push(enrichment);
  }
  let size = 0;
  for (let i = 0; i < n; i++) size += heads[i]!.length + bodies[i]!.length + enrichments[i]!.length;
  const bytes = new Uint8Array(size);
  const ends = new Uint32Array(n * 3);
  let at = 0;
  for (let i = 0; i < n; i++)
    for (const [k, b] of [heads[i]!, bodies[i]!, enrichments[i]!].entries()) {
      bytes.set(b, at);
      at += b.length;
      ends[i * 3 + k] = at;
    }
  return { ...part, bytes: bytes.buffer, ends };
}

/** The raw header block of message `i` (PackedMessages' layout: subject, reply, headers, body). */
function packedHeaders(packed: PackedMessages, i: number): Uint8Array {
  const replyEnd = packed.ends[i * 4 + 1]!;
  const headersEnd = packed.ends[i * 4 + 2]!;
  return new Uint8Array(packed.bytes, replyEnd, headersEnd - replyEnd);
}

/** One message never fails its batch. */
function safeMap(msg: ReturnType<typeof unpackMessage>) {
  try {
    return mapMessage(msg);
  } catch {
    return undefined;
  }
}

export default prepareBatch;
