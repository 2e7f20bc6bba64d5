import { headers as natsHeaders } from "@nats-io/nats-core";
import type { JsMsg } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { createEnricher, enricherFromPortable, openGeoDatabase } from "@tributary/enrich";
import { mapMessage, packMessages } from "@tributary/loader";
import { parseEnrichment } from "@tributary/schema";
import { ENRICHED_STREAM, EventHeader } from "@tributary/streams";
import { Outcome } from "../src/stage-part.js";
import { prepareBatchWith } from "../src/stage-worker.js";

const geo = openGeoDatabase();
const UAS = [
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
];
const IPS = ["8.8.8.8", "1.1.1.1", "81.2.69.142", "2a00:1450:4001:80b::200e"];

/** A hub message as nats.js would hand it over (a sourced copy: Nats-Stream-Source carries the region's sequence). */
function hubMessage(n: number, over: Record<string, string> = {}, data?: string): JsMsg {
  const h = natsHeaders();
  const values: Record<string, string> = {
    [EventHeader.MsgId]: `shop:e${n}`,
    [EventHeader.Source]: "shop",
    [EventHeader.Region]: "us",
    [EventHeader.ReceivedAt]: new Date(Date.UTC(2026, 11, 1, 12, 0, n)).toISOString(),
    [EventHeader.EventType]: "link.clicked",
    "Nats-Stream-Source": `EVENTS_US ${100 + n} EVENTS_US >`,
    traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01`,
    ...over,
  };
  for (const [k, v] of Object.entries(values)) h.set(k, v);
  const body =
    data ??
    JSON.stringify({
      event_id: `e${n}`,
      type: "link.clicked",
      occurred_at: new Date(Date.UTC(2026, 11, 1, 12, 0, n)).toISOString(),
      data: { link_id: `l${n % 3}`, ip: IPS[n % IPS.length], user_agent: UAS[n % UAS.length], campaign: "spring" },
    });
  return {
    subject: "events.us.shop.link.clicked",
    seq: 1000 + n,
    headers: h,
    data: new TextEncoder().encode(body),
  } as unknown as JsMsg;
}

/** Message i of a prepared batch: its publish subject, header block as text and body. */
function output(part: ReturnType<typeof prepareBatchWith>, i: number) {
  const bytes = new Uint8Array(part.bytes);
  const start = i === 0 ? 0 : part.ends[i * 3 - 1]!;
  const [headEnd, bodyEnd, enrichmentEnd] = [part.ends[i * 3]!, part.ends[i * 3 + 1]!, part.ends[i * 3 + 2]!];
  const text = (a: number, b: number) => new TextDecoder().decode(bytes.subarray(a, b));
  return { head: text(start, headEnd), body: text(headEnd, bodyEnd), enrichment: text(bodyEnd, enrichmentEnd) };
}

describe("the enrich stage's worker task", () => {
  const options = { geo, ip: { mode: "truncate" as const, hashKey: "a-secret-key-of-32-bytes-length!" } };

  it("prepares each event as the one-thread enricher does: the same reduced body and columns, less the verdicts settled in order", () => {
    const msgs = Array.from({ length: 40 }, (_, n) => hubMessage(n));
    const oneThread = createEnricher(options);
    // A worker's enricher is rebuilt from the stage's portable options (the same visitor key).
    const part = prepareBatchWith(enricherFromPortable(oneThread.portable()!), packMessages(msgs));

    expect(part.count).toBe(40);
    for (let i = 0; i < msgs.length; i++) {
      const mapped = mapMessage(msgs[i]!);
      if (!mapped.ok) throw new Error(mapped.reason);
      const expected = oneThread.prepare(mapped.row, mapped.body);
      const out = output(part, i);
      expect(part.outcome[i]).toBe(Outcome.Enriched);
      expect(part.subjects[i]).toBe("enriched.events.us.shop.link.clicked");
      expect(part.keys[i]).toBe(`shop:e${i}`);
      expect(out.body).toBe(expected.row.payload);
      expect(out.body).not.toContain(IPS[i % IPS.length]);
      expect(part.uniqueKey[i]).toBe(expected.pending.uniqueKey);
      expect(part.firstHit[i]).toBe(expected.pending.suspicion?.firstHit ?? -1);
      // The enrichment head plus the stateful columns is the enrichment the loader reads.
      const full = parseEnrichment(
        `${out.enrichment},"is_unique":true,"is_suspicious":false,"suspicious_reason":null}`,
      );
      expect(full).toEqual({
        ...expected.row.enriched,
        is_unique: true,
        is_suspicious: false,
        suspicious_reason: null,
      });
      // The header block: the hub message's own headers, the region's sequence, the key, the stream expected.
      expect(out.head.startsWith("NATS/1.0\r\n")).toBe(true);
      expect(out.head).toContain(`${EventHeader.RegionSeq}: ${100 + i}\r\n`);
      expect(out.head).toContain(`${EventHeader.MsgId}: shop:e${i}\r\n`);
      expect(out.head).toContain(`Nats-Expected-Stream: ${ENRICHED_STREAM}\r\n`);
      expect(out.head).toContain("traceparent: 00-");
      expect(out.head).not.toContain("Nats-Stream-Source");
      expect(out.head.endsWith("\r\n")).toBe(true);
    }
  });

  it("forwards what it cannot map, and a replay that carries its verdicts, as they came", () => {
    const replayed = hubMessage(2, {
      [EventHeader.MsgId]: "",
      [EventHeader.OriginalMsgId]: "shop:e2",
      [EventHeader.Enrichment]: '{"is_bot":false}',
    });
    const part = prepareBatchWith(createEnricher(options), packMessages([hubMessage(1, {}, "not json"), replayed]));

    expect([...part.outcome]).toEqual([Outcome.Unmapped, Outcome.Forwarded]);
    expect(output(part, 0).body).toBe(""); // the message's own bytes go on
    expect(output(part, 1).head).toContain(`${EventHeader.Enrichment}: {"is_bot":false}\r\n`);
    expect(output(part, 1).head).not.toContain(`${EventHeader.MsgId}:`);
    expect(part.keys[1]).toBe("shop:e2");
  });

  it("with enrichment off, forwards every event with the stage's headers only", () => {
    const part = prepareBatchWith(undefined, packMessages([hubMessage(0), hubMessage(1)]));
    expect([...part.outcome]).toEqual([Outcome.Forwarded, Outcome.Forwarded]);
    expect(output(part, 1).enrichment).toBe("");
    expect(output(part, 1).head).toContain(`${EventHeader.RegionSeq}: 101\r\n`);
  });
});
