import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import { headers as createHeaders } from "@nats-io/nats-core";
import type { NatsConnection } from "@nats-io/transport-node";
import { startNatsServer, waitFor, type NatsServer } from "@tributary/testkit";
import {
  connectNats,
  countEventsDlq,
  deadLetterDelivery,
  deadLetterEvent,
  DELIVERY_DLQ_STREAM,
  DELIVERY_REPLAY_STREAM,
  deliveryDlqStreamConfig,
  deliveryReplayStreamConfig,
  DeliveryDlqHeader,
  DLQ_STREAM,
  dlqEntryOf,
  dlqStreamConfig,
  dropDlqEntry,
  eventsDlqSummaryOf,
  findDlqEntry,
  listEventsDlq,
  replayAndRemoveDlqEntry,
  ensureConsumer,
  ensureStream,
  EventHeader,
  eventSubject,
  HUB_STREAM,
  listDeliveryDlq,
  publishEvent,
  readDlqEntry,
  regionalStreamConfig,
  regionalStreamName,
  replayDeliveryDlq,
  replayDlqEntry,
  DLQ_BODY_OMITTED,
  DLQ_WRITE_ATTEMPTS,
  dlqRetryDelayMs,
} from "../src/index.js";

const body = new TextEncoder().encode('{"event":"link.clicked","data":{"link_id":42}}');
const REGION_STREAM = regionalStreamName("us");

/**
 * The DLQ formats on a real nats-server: a region's stream sourced into `EVENTS` (on one server,
 * so its events carry `Nats-Stream-Source` as at the hub), the events DLQ and the delivery streams.
 * Each test reads the hub through its own durable consumer.
 */
describe("DLQ formats", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let consumers = 0;

  beforeAll(async () => {
    server = await startNatsServer({ domain: "hub" });
    nc = await connectNats({ servers: [server.url], name: "dlq-test" });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });
  beforeEach(async () => {
    for (const name of [HUB_STREAM, REGION_STREAM, DLQ_STREAM, DELIVERY_DLQ_STREAM, DELIVERY_REPLAY_STREAM])
      await jsm.streams.delete(name).catch(() => false);
    await ensureStream(jsm, regionalStreamConfig({ region: "us" }));
    await ensureStream(jsm, { name: HUB_STREAM, subjects: ["replay.>"], sources: [{ name: REGION_STREAM }] });
    await ensureStream(jsm, dlqStreamConfig());
    await ensureStream(jsm, deliveryDlqStreamConfig());
    await ensureStream(jsm, deliveryReplayStreamConfig());
  });

  /** Accepted in region us (as the gateway does); resolves with its sequence in the region's stream. */
  async function publish(key: string, extraHeaders: Record<string, string> = {}, bytes = body): Promise<number> {
    const receipt = await publishEvent(js, {
      subject: eventSubject("us", "demo", "link.clicked"),
      body: bytes,
      eventKey: key,
      source: "demo",
      region: "us",
      eventType: "link.clicked",
      receivedAt: new Date("2026-11-23T10:00:00.000Z"),
      extraHeaders,
    });
    return receipt.seq;
  }

  /** The first message of `stream` (of `filter`) for a fresh durable consumer (explicit ack, 1 s ack wait). */
  async function take(stream: string, filter?: string): Promise<{ msg: JsMsg; durable: string }> {
    const durable = `take-${++consumers}`;
    await ensureConsumer(jsm, stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      ack_wait: 1e9,
      ...(filter ? { filter_subject: filter } : {}),
    });
    const msg = await (await js.consumers.get(stream, durable)).next({ expires: 5_000 });
    if (!msg) throw new Error(`no message in ${stream}`);
    return { msg, durable };
  }

  const count = async (stream: string) => (await jsm.streams.info(stream)).state.messages;
  const names = (h: Iterable<[string, string[]]>) => [...h].map(([name]) => name);

  it("events DLQ - a sourced poison event keeps its bytes, headers, key and region sequence; the reason is one line; the event is terminated", async () => {
    await publish("demo:earlier");
    const regionSeq = await publish("demo:poison-1", { traceparent: "00-abc-def-01" });
    const { msg, durable } = await take(HUB_STREAM, "events.*.demo.link.clicked").then(async (first) => {
      first.msg.ack();
      const next = await (await js.consumers.get(HUB_STREAM, first.durable)).next({ expires: 5_000 });
      return { msg: next!, durable: first.durable };
    });
    expect(msg.headers?.get("Nats-Stream-Source")).toMatch(new RegExp(`^${REGION_STREAM} ${regionSeq} `));
    expect(await deadLetterEvent(js, msg, "schema_violation: data.link_id must be string\r\nat line 2")).toBe("stored");

    const entry = await readDlqEntry(jsm, 1);
    expect(entry).toMatchObject({
      seq: 1,
      subject: "dlq.demo",
      reason: "schema_violation: data.link_id must be string at line 2",
      origin: `${HUB_STREAM}:${msg.seq}`,
      eventKey: "demo:poison-1",
    });
    expect(entry.data).toEqual(body);
    expect(entry.headers.get(EventHeader.Source)).toBe("demo");
    expect(entry.headers.get("traceparent")).toBe("00-abc-def-01");
    // No Nats-* (the DLQ must not dedupe entries away; the server refuses Nats-Stream-Source on a
    // publish): the region's sequence is kept as Tributary-Region-Seq.
    expect(names(entry.headers).filter((name) => name.startsWith("Nats-"))).toEqual([]);
    expect(entry.headers.get(EventHeader.RegionSeq)).toBe(String(regionSeq));

    // Terminated: not handed out again after the ack wait.
    await new Promise((r) => setTimeout(r, 1_300));
    expect(await jsm.consumers.info(HUB_STREAM, durable)).toMatchObject({ num_ack_pending: 0, num_redelivered: 0 });

    // The same entry read from a message of the stream (the CLI reads ranges this way).
    const stored = await jsm.streams.getMessage(DLQ_STREAM, { seq: 1 });
    expect(dlqEntryOf({ seq: 1, subject: stored!.subject, headers: stored!.header, data: stored!.data })).toEqual(
      entry,
    );
  });

  it("events DLQ - a replay goes to replay.{source} with the key as Tributary-Original-Msg-Id, the region's sequence and no DLQ headers; the entry stays", async () => {
    await publish("demo:earlier");
    const regionSeq = await publish("demo:poison-2");
    const { msg, durable } = await take(HUB_STREAM);
    msg.ack();
    await deadLetterEvent(js, (await (await js.consumers.get(HUB_STREAM, durable)).next({ expires: 5_000 }))!, "x");
    const entry = await readDlqEntry(jsm, 1);
    expect(entry.eventKey).toBe("demo:poison-2");

    const fixed = new TextEncoder().encode('{"event":"link.clicked","data":{"link_id":"42"}}');
    const first = await replayDlqEntry(js, entry, fixed);
    expect(first.stream).toBe(HUB_STREAM);
    const copy = await jsm.streams.getMessage(HUB_STREAM, { seq: first.seq });
    expect(copy!.subject).toBe("replay.demo");
    expect(copy!.data).toEqual(fixed);
    expect(copy!.header.get(EventHeader.OriginalMsgId)).toBe("demo:poison-2");
    expect(copy!.header.get(EventHeader.RegionSeq)).toBe(String(regionSeq));
    expect(copy!.header.get(EventHeader.ReplayedFrom)).toBe(`${DLQ_STREAM}:1`);
    expect(copy!.header.get(EventHeader.Source)).toBe("demo");
    for (const name of [EventHeader.MsgId, EventHeader.DlqReason, EventHeader.DlqOrigin])
      expect(copy!.header.has(name)).toBe(false);

    // A second replay is stored too (the warehouse key, not the hub, makes it a no-op); the
    // original bytes go when no corrected body is given. The entry is still in the DLQ.
    const second = await replayDlqEntry(js, entry);
    expect(second.seq).toBeGreaterThan(first.seq);
    expect((await jsm.streams.getMessage(HUB_STREAM, { seq: second.seq }))!.data).toEqual(body);
    expect(await count(DLQ_STREAM)).toBe(1);
  });

  it("events DLQ - an event published straight into the hub has no region sequence to keep; replayed and dead-lettered again, it keeps its key and only the new reason", async () => {
    const h = createHeaders();
    h.set(EventHeader.MsgId, "demo:foreign");
    h.set(EventHeader.Source, "demo");
    await js.publish("replay.demo", body, { headers: h });
    const { msg } = await take(HUB_STREAM);
    await deadLetterEvent(js, msg, "missing_headers: Tributary-Region");
    expect((await readDlqEntry(jsm, 1)).headers.has(EventHeader.RegionSeq)).toBe(false);
    const { seq: replayedSeq } = await replayDlqEntry(js, await readDlqEntry(jsm, 1));
    expect((await jsm.streams.getMessage(HUB_STREAM, { seq: replayedSeq }))!.header.has(EventHeader.RegionSeq)).toBe(
      false,
    );

    const { msg: copy } = await take(HUB_STREAM, "replay.>").then(async (first) => {
      first.msg.ack(); // the original
      const next = await (await js.consumers.get(HUB_STREAM, first.durable)).next({ expires: 5_000 });
      return { msg: next! };
    });
    expect(copy.seq).toBe(replayedSeq);
    expect(await deadLetterEvent(js, copy, "missing_headers: still")).toBe("stored");
    const entry = await readDlqEntry(jsm, 2);
    expect(entry).toMatchObject({ eventKey: "demo:foreign", reason: "missing_headers: still" });
    expect(entry.headers.values(EventHeader.DlqReason)).toEqual(["missing_headers: still"]);
    expect(entry.headers.values(EventHeader.DlqOrigin)).toEqual([`${HUB_STREAM}:${replayedSeq}`]);

    const { seq } = await replayDlqEntry(js, entry);
    const again = await jsm.streams.getMessage(HUB_STREAM, { seq });
    expect(again!.header.values(EventHeader.ReplayedFrom)).toEqual([`${DLQ_STREAM}:2`]);
    expect(again!.header.get(EventHeader.OriginalMsgId)).toBe("demo:foreign");
  });

  it("events DLQ - what operators read: pages of some sources' entries within a scan budget, counts per source; a replay removes the entry, a drop is final, a missing one is false", async () => {
    const sources = ["demo", "billing", "demo", "shop"];
    for (const [i, source] of sources.entries()) await publish(`${source}:p-${i}`, { [EventHeader.Source]: source });
    const { msg: first, durable } = await take(HUB_STREAM);
    const consumer = await js.consumers.get(HUB_STREAM, durable);
    for (let i = 0, msg = first; i < sources.length; i++, msg = (await consumer.next({ expires: 5_000 }))!)
      await deadLetterEvent(js, msg, `warehouse_failed: ${i}`);
    expect(await countEventsDlq(jsm)).toEqual({ demo: 2, billing: 1, shop: 1 });
    const all = await listEventsDlq(jsm);
    expect(all.nextSeq).toBeNull();
    expect(all.entries.map((e) => [e.seq, e.source, e.eventKey, e.reason])).toEqual([
      [1, "demo", "demo:p-0", "warehouse_failed: 0"],
      [2, "billing", "billing:p-1", "warehouse_failed: 1"],
      [3, "demo", "demo:p-2", "warehouse_failed: 2"],
      [4, "shop", "shop:p-3", "warehouse_failed: 3"],
    ]);
    expect(all.entries[0]).toMatchObject({
      region: "us",
      eventType: "link.clicked",
      bytes: body.length,
      omittedBytes: 0,
    });
    // One source: its subject alone. Two: the rest skipped, within the scan budget (then a page may be short).
    expect((await listEventsDlq(jsm, { sources: ["demo"], limit: 1 })).entries.map((e) => e.seq)).toEqual([1]);
    expect(await listEventsDlq(jsm, { sources: ["demo"], fromSeq: 2 })).toMatchObject({
      nextSeq: null,
      entries: [{ seq: 3 }],
    });
    const short = await listEventsDlq(jsm, { sources: ["demo", "shop"], fromSeq: 2, maxScan: 1 });
    expect(short).toEqual({ entries: [], nextSeq: 3 });
    expect((await listEventsDlq(jsm, { sources: ["demo", "shop"], fromSeq: 3 })).entries.map((e) => e.seq)).toEqual([
      3, 4,
    ]);
    expect(await listEventsDlq(jsm, { sources: [] })).toEqual({ entries: [], nextSeq: null });

    const found = await findDlqEntry(jsm, 2);
    expect(eventsDlqSummaryOf(found!.entry, found!.at)).toEqual(all.entries[1]);
    const to = await replayAndRemoveDlqEntry(js, jsm, found!.entry);
    expect((await jsm.streams.getMessage(HUB_STREAM, { seq: to.seq }))!.subject).toBe("replay.billing");
    expect(await findDlqEntry(jsm, 2)).toBeUndefined();
    expect(await dropDlqEntry(jsm, 1)).toBe(true);
    expect(await dropDlqEntry(jsm, 1)).toBe(false); // deleted already
    expect(await dropDlqEntry(jsm, 99)).toBe(false); // past the end
    expect(await countEventsDlq(jsm)).toEqual({ demo: 1, shop: 1 });
  });

  it("events DLQ - a missing entry is an error naming its sequence; a failed DLQ write naks the event instead of dropping it", async () => {
    await expect(readDlqEntry(jsm, 99)).rejects.toThrow("no DLQ entry with sequence 99");

    await publish("demo:poison-4");
    const { msg, durable } = await take(HUB_STREAM);
    await jsm.streams.delete(DLQ_STREAM);
    expect(await deadLetterEvent(js, msg, "schema_violation: x")).toBe("retrying");
    const info = await jsm.consumers.info(HUB_STREAM, durable);
    expect(info.num_ack_pending + info.num_pending).toBe(1); // nak'ed: it will be delivered again
  });

  it("delivery DLQ - an entry keeps the event and says why (status, attempts, one-line response, when); the event is acked; listed oldest first", async () => {
    await publish("demo:d-0");
    await publish("demo:d-1");
    const before = Date.now();
    const { msg: first, durable } = await take(HUB_STREAM);
    expect(
      await deadLetterDelivery(js, first, {
        destination: "crm",
        reason: "rejected: HTTP 422",
        status: 422,
        attempts: 1,
        response: '{"error":\n"unknown customer"}',
      }),
    ).toBe("stored");
    const second = await (await js.consumers.get(HUB_STREAM, durable)).next({ expires: 5_000 });
    await deadLetterDelivery(js, second!, {
      destination: "crm",
      reason: "attempts_exhausted: 3 attempts, last: HTTP 500",
      status: 500,
      attempts: 3,
      response: "",
    });
    // Acked (the ack is sent without waiting for its answer).
    const acked = await waitFor("the acks", async () => {
      const info = await jsm.consumers.info(HUB_STREAM, durable);
      return info.num_ack_pending === 0 ? info : undefined;
    });
    expect(acked).toMatchObject({ num_ack_pending: 0, num_pending: 0, num_redelivered: 0 });

    const entries = await listDeliveryDlq(jsm, "crm");
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      seq: 1,
      eventKey: "demo:d-0",
      reason: "rejected: HTTP 422",
      status: 422,
      attempts: 1,
      response: '{"error": "unknown customer"}',
    });
    expect(new Date(entries[0]!.at).getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(entries[1]).toMatchObject({ seq: 2, eventKey: "demo:d-1", status: 500, attempts: 3, response: "" });
    expect(await listDeliveryDlq(jsm, "crm", { limit: 1, fromSeq: 2 })).toEqual([entries[1]]);
    expect(await listDeliveryDlq(jsm, "other")).toEqual([]);

    const stored = await jsm.streams.getMessage(DELIVERY_DLQ_STREAM, { seq: 1 });
    expect(stored!.subject).toBe("delivery-dlq.crm");
    expect(stored!.data).toEqual(body);
    expect(stored!.header.get(DeliveryDlqHeader.Destination)).toBe("crm");
    expect(stored!.header.get(EventHeader.DlqOrigin)).toBe(`${HUB_STREAM}:${first.seq}`);
    expect(names(stored!.header).filter((name) => name.startsWith("Nats-"))).toEqual([]);
  });

  it("delivery DLQ - a replay copies entries to redeliver.{destination} with their key and deletes them, up to the limit; dead-lettered again, a copy carries only the new reason", async () => {
    for (let i = 0; i < 3; i++) await publish(`demo:r-${i}`);
    const rejected = { destination: "crm", reason: "rejected: HTTP 400", status: 400, attempts: 1, response: "no" };
    const { msg, durable } = await take(HUB_STREAM);
    await deadLetterDelivery(js, msg, rejected);
    const consumer = await js.consumers.get(HUB_STREAM, durable);
    for (let i = 1; i < 3; i++) await deadLetterDelivery(js, (await consumer.next({ expires: 5_000 }))!, rejected);

    expect(await replayDeliveryDlq(js, jsm, "crm", { limit: 2 })).toEqual({ replayed: 2, skipped: 0 });
    expect((await listDeliveryDlq(jsm, "crm")).map((e) => e.eventKey)).toEqual(["demo:r-2"]);
    expect(await replayDeliveryDlq(js, jsm, "crm")).toEqual({ replayed: 1, skipped: 0 });
    expect(await count(DELIVERY_DLQ_STREAM)).toBe(0);
    expect(await count(DELIVERY_REPLAY_STREAM)).toBe(3);

    const copy = await jsm.streams.getMessage(DELIVERY_REPLAY_STREAM, { seq: 1 });
    expect(copy!.subject).toBe("redeliver.crm");
    expect(copy!.data).toEqual(body);
    expect(copy!.header.get(EventHeader.OriginalMsgId)).toBe("demo:r-0");
    expect(copy!.header.get(EventHeader.ReplayedFrom)).toBe(`${DELIVERY_DLQ_STREAM}:1`);
    for (const name of [EventHeader.DlqReason, EventHeader.DlqOrigin, ...Object.values(DeliveryDlqHeader)])
      expect(copy!.header.has(name)).toBe(false);

    // The copy fails again: its new entry has the same key and one reason.
    const { msg: again } = await take(DELIVERY_REPLAY_STREAM);
    await deadLetterDelivery(js, again, { ...rejected, reason: "rejected: HTTP 410", status: 410, response: "" });
    const [entry] = await listDeliveryDlq(jsm, "crm");
    expect(entry).toMatchObject({ eventKey: "demo:r-0", reason: "rejected: HTTP 410", status: 410, response: "" });
    const stored = await jsm.streams.getMessage(DELIVERY_DLQ_STREAM, { seq: entry!.seq });
    expect(stored!.header.values(EventHeader.DlqReason)).toEqual(["rejected: HTTP 410"]);
    expect(stored!.header.has(DeliveryDlqHeader.Response)).toBe(false);
  });
  it("M12 - an event too large for a DLQ entry is stored as a reference to its origin (not nak'ed forever); reading or replaying it takes the bytes from there", async () => {
    // A DLQ whose entries may be 2 KiB: an event of 2,000 bytes plus the entry's headers does not fit.
    const big = new TextEncoder().encode(JSON.stringify({ event: "link.clicked", data: { pad: "x".repeat(1_950) } }));
    for (const name of [DLQ_STREAM, DELIVERY_DLQ_STREAM]) {
      const { config } = await jsm.streams.info(name);
      await jsm.streams.update(name, { ...config, max_msg_size: 2_048 });
    }
    await publish("demo:big-1", {}, big);
    await publish("demo:big-2", {}, big);
    const { msg, durable } = await take(HUB_STREAM);
    expect(await deadLetterEvent(js, msg, "schema_violation: too big to keep")).toBe("stored");
    const entry = await readDlqEntry(jsm, 1);
    expect(entry.headers.get(DLQ_BODY_OMITTED)).toBe(String(big.length));
    expect(entry).toMatchObject({
      eventKey: "demo:big-1",
      omittedBytes: big.length,
      origin: `${HUB_STREAM}:${msg.seq}`,
    });
    expect(entry.data).toEqual(big); // from the origin, which still has it
    const replayed = await replayDlqEntry(js, entry);
    const copy = await jsm.streams.getMessage(HUB_STREAM, { seq: replayed.seq });
    expect(copy!.data).toEqual(big);
    expect(copy!.header.has(DLQ_BODY_OMITTED)).toBe(false);

    const second = await (await js.consumers.get(HUB_STREAM, durable)).next({ expires: 5_000 });
    const rejected = { destination: "crm", reason: "rejected: HTTP 413", status: 413, attempts: 1, response: "" };
    expect(await deadLetterDelivery(js, second!, rejected)).toBe("stored");
    expect(await replayDeliveryDlq(js, jsm, "crm")).toEqual({ replayed: 1, skipped: 0 });
    const redelivered = await jsm.streams.getMessage(DELIVERY_REPLAY_STREAM, { seq: 1 });
    expect(redelivered!.data).toEqual(big);
  });

  it("M12 - a DLQ that keeps refusing is retried with a growing backoff, then the event is given up (abandoned, terminated), never redelivered forever", async () => {
    expect([1, 2, 3, 10].map(dlqRetryDelayMs)).toEqual([5_000, 10_000, 20_000, 300_000]);
    await publish("demo:full-1");
    await publish("demo:full-2");
    const { msg, durable } = await take(HUB_STREAM);
    await jsm.streams.delete(DELIVERY_DLQ_STREAM); // every write now fails, as with a full DLQ
    const rejected = { destination: "crm", reason: "rejected: HTTP 400", status: 400, attempts: 1, response: "" };
    expect(await deadLetterDelivery(js, msg, rejected, 1)).toBe("retrying");
    const last = await (await js.consumers.get(HUB_STREAM, durable)).next({ expires: 5_000 });
    expect(last!.headers?.get(EventHeader.MsgId)).toBe("demo:full-2"); // the first waits out its backoff
    expect(await deadLetterDelivery(js, last!, rejected, DLQ_WRITE_ATTEMPTS)).toBe("abandoned");
    // The first is still to come back (after 5 s); the abandoned one never will.
    await new Promise((r) => setTimeout(r, 1_500));
    const info = await jsm.consumers.info(HUB_STREAM, durable);
    expect(info.num_ack_pending + info.num_pending).toBe(1);
    expect(info.delivered.stream_seq).toBe(last!.info.streamSequence);
  });
});
