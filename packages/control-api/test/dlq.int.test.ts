import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlStore, SealingKeys } from "@tributary/control";
import {
  auditStreamConfig,
  connectNats,
  deadLetterDelivery,
  deadLetterEvent,
  deadLetterLogRecord,
  deliveriesStreamConfig,
  DELIVERY_DLQ_STREAM,
  DELIVERY_REPLAY_STREAM,
  deliveryDlqStreamConfig,
  deliveryReplayStreamConfig,
  DLQ_BODY_OMITTED,
  DLQ_STREAM,
  dlqStreamConfig,
  enrichedStreamConfig,
  ensureConsumer,
  ensureStream,
  EventHeader,
  eventSubject,
  HUB_STREAM,
  publishEvent,
  renderHubServerConfig,
} from "@tributary/streams";
import { startNatsServer, type NatsServer } from "@tributary/testkit";
import { MAX_REPLAY_BODY_BYTES } from "../src/dlq-common.js";
import { callerOf, conformsOf, DEFAULT_TOKENS, host, type Caller, type Conforms } from "./host.js";

const cred = (user: string) => ({ user, password: `${user}-pw` });
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/**
 * Both DLQs through the management routes, on a hub whose users are the topology's: the routes run
 * as the `control` user (controlPermissions), the dead letters are written by the real writers
 * (deadLetterDelivery, deadLetterEvent, deadLetterLogRecord) as the admin.
 */
describe("management routes - dead letters of a subscription and of the loader, on a real hub", () => {
  let dir: string;
  let hub: NatsServer;
  const conns: NatsConnection[] = [];
  let admin: { js: JetStreamClient; jsm: JetStreamManager };
  let app: FastifyInstance;
  let call: Caller;
  let conforms: Conforms;
  const logs: string[] = [];
  let consumers = 0;

  const connectAs = async (user: string) => {
    const nc = await connectNats({ servers: [hub.url], name: `dlq-${user}`, user, pass: `${user}-pw` });
    conns.push(nc);
    return nc;
  };

  /** An event stored in the enriched stream, taken by a consumer of its own: what a deliverer or the loader holds. */
  const held = async (key: string, body: string, source = "shop") => {
    await publishEvent(admin.js, {
      subject: eventSubject("us", source, "link.clicked"),
      body: new TextEncoder().encode(body),
      eventKey: key,
      source,
      region: "us",
      eventType: "link.clicked",
      receivedAt: new Date(),
    });
    return take("EVENTS_ENRICHED", eventSubject("us", source, "link.clicked"));
  };
  const take = async (stream: string, filter: string) => {
    const durable = `take-${++consumers}`;
    await ensureConsumer(admin.jsm, stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.Last, // the message just published
      filter_subject: filter,
    });
    const msg = await (await admin.js.consumers.get(stream, durable)).next({ expires: 5_000 });
    if (!msg) throw new Error(`nothing in ${stream}`);
    return msg;
  };
  const rejected = (destination: string) => ({
    destination,
    reason: "rejected: HTTP 400",
    status: 400,
    attempts: 1,
    response: '{"error":"unknown customer"}',
  });
  const count = async (stream: string) => (await admin.jsm.streams.info(stream)).state.messages;
  const last = async (stream: string) => {
    const info = await admin.jsm.streams.info(stream);
    return (await admin.jsm.streams.getMessage(stream, { seq: info.state.last_seq }))!;
  };
  const audit = async (kind: string) => (await call("admin", "GET", `/v1/audit?kind=${kind}`)).body!.data as any[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "control-api-dlq-"));
    hub = await startNatsServer({
      name: "hub",
      dir: join(dir, "hub"),
      leafnodeListener: true,
      config: (ctx) =>
        renderHubServerConfig({
          insecurePlaintext: true,
          storeDir: ctx.storeDir,
          port: ctx.port,
          leafnodePort: ctx.leafnodePort,
          admin: cred("admin"),
          aggregator: cred("aggregator"),
          aggregatorDurable: "warehouse-loader",
          leafs: [{ region: "us", credential: cred("leaf-us") }],
          control: cred("control"),
        }),
    });
    // Provisioned as the admin, as the provisioning does: the bucket, the audit stream, the event and DLQ streams.
    const nc = await connectAs("admin");
    admin = { js: jetstream(nc), jsm: await jetstreamManager(nc) };
    await ControlStore.hub(admin.js);
    await ensureStream(admin.jsm, auditStreamConfig());
    // Small streams: a test server's storage is bounded.
    const small = { max_bytes: 64 * 1024 ** 2 };
    await ensureStream(admin.jsm, { ...enrichedStreamConfig(), ...small, subjects: ["enriched.>", "events.>"] });
    await ensureStream(admin.jsm, { name: HUB_STREAM, subjects: ["replay.>"], ...small });
    for (const config of [
      dlqStreamConfig(),
      deliveryDlqStreamConfig(),
      deliveryReplayStreamConfig(),
      deliveriesStreamConfig(),
    ])
      await ensureStream(admin.jsm, { ...config, ...small });

    // The routes' own connection: the control user, with only what controlPermissions grants.
    const control = await connectAs("control");
    const js = jetstream(control);
    const connection = {
      store: await ControlStore.open(js, { writable: true }),
      js,
      jsm: await jetstreamManager(control),
    };
    const keys = SealingKeys.parse(`k1:${randomBytes(32).toString("base64")}`, "test");
    ({ app } = await host({ connection: () => connection, keys }, logs, {
      ...DEFAULT_TOKENS,
      "shop-reader": { scope: "read", sources: ["shop"] },
      "shop-admin": { scope: "admin", sources: ["shop"] },
    }));
    call = callerOf(app);
    conforms = conformsOf(app);
    for (const id of ["crm", "other"])
      expect(
        (await call("writer", "POST", "/v1/subscriptions", { id, url: `https://${id}.example.com/hooks` })).status,
      ).toBe(201);
  });
  afterAll(async () => {
    await app?.close();
    for (const nc of conns) await nc.close();
    await hub?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a subscription's DLQ - listed oldest first with reasons (a scoped token sees its sources' only), paged, each entry inspected with its headers and body", async () => {
    await deadLetterDelivery(admin.js, await held("shop:e1", '{"n":1}'), rejected("crm"));
    await deadLetterDelivery(admin.js, await held("billing:e2", '{"n":2}', "billing"), rejected("crm"));
    await deadLetterDelivery(admin.js, await held("shop:e3", '{"n":3}'), rejected("other"));

    const listed = await call("reader", "GET", "/v1/subscriptions/crm/dlq");
    expect(listed.status).toBe(200);
    conforms("GET", "/v1/subscriptions/{id}/dlq", 200, listed.body);
    expect(listed.body!.total).toBe(2);
    expect(listed.body!.nextSeq).toBeNull();
    expect(listed.body!.data).toMatchObject([
      {
        eventKey: "shop:e1",
        source: "shop",
        eventType: "link.clicked",
        reason: "rejected: HTTP 400",
        status: 400,
        attempts: 1,
      },
      { eventKey: "billing:e2", source: "billing", response: '{"error":"unknown customer"}', omittedBytes: 0 },
    ]);
    const [first, second] = listed.body!.data as Array<{ seq: number }>;

    // A token of shop only: shop's entries, and no total (it would count the others').
    const scoped = await call("shop-reader", "GET", "/v1/subscriptions/crm/dlq");
    expect(scoped.body!.data.map((e: { eventKey: string }) => e.eventKey)).toEqual(["shop:e1"]);
    expect(scoped.body!.total).toBeNull();

    const page1 = await call("reader", "GET", "/v1/subscriptions/crm/dlq?limit=1");
    expect(page1.body!.data).toHaveLength(1);
    const page2 = await call("reader", "GET", `/v1/subscriptions/crm/dlq?limit=1&fromSeq=${page1.body!.nextSeq}`);
    expect(page2.body!.data[0].seq).toBe(second!.seq);

    const shown = await call("reader", "GET", `/v1/subscriptions/crm/dlq/${first!.seq}`);
    expect(shown.status).toBe(200);
    conforms("GET", "/v1/subscriptions/{id}/dlq/{seq}", 200, shown.body);
    expect(shown.body).toMatchObject({ eventKey: "shop:e1", body: '{"n":1}', reason: "rejected: HTTP 400" });
    expect(shown.body!.headers[EventHeader.OriginalMsgId]).toEqual(["shop:e1"]);
    expect(shown.body!.headers[EventHeader.Source]).toEqual(["shop"]);

    // Not another subscription's entry, not another source's for a scoped token, not an unknown subscription.
    const notFound = async (token: string, url: string) => (await call(token, "GET", url)).body!.error.code;
    expect(await notFound("reader", `/v1/subscriptions/other/dlq/${first!.seq}`)).toBe("dlq_entry_not_found");
    expect(await notFound("shop-reader", `/v1/subscriptions/crm/dlq/${second!.seq}`)).toBe("dlq_entry_not_found");
    expect(await notFound("reader", "/v1/subscriptions/nope/dlq")).toBe("resource_not_found");
    expect((await call("reader", "GET", "/v1/subscriptions/crm/dlq/0")).status).toBe(400);
  });

  it("a subscription's DLQ - a replay takes write and a JSON object; refused, nothing moves; done, the (corrected) event waits on redeliver.{id} with its key, the entry is gone, the change audited", async () => {
    const [entry, billing] = (await call("reader", "GET", "/v1/subscriptions/crm/dlq")).body!.data as Array<{
      seq: number;
    }>;
    const url = `/v1/subscriptions/crm/dlq/${entry!.seq}/replay`;
    const replays = await count(DELIVERY_REPLAY_STREAM);
    const refusals = [
      await call("reader", "POST", url, {}),
      await call("writer", "POST", url, { body: '{"n": 1,' }),
      await call("writer", "POST", url, { body: "[1, 2]" }),
      await call("writer", "POST", url, { body: "x".repeat(MAX_REPLAY_BODY_BYTES + 1) }),
    ];
    expect(refusals.map((r) => [r.status, r.body!.error.code])).toEqual([
      [403, "forbidden_scope"],
      [400, "invalid_replay_body"],
      [400, "invalid_replay_body"],
      [400, "invalid_parameter"],
    ]);
    expect(refusals[1]!.body!.error).toMatchObject({ field: "body", message: expect.stringMatching(/not JSON/) });
    expect(await count(DELIVERY_REPLAY_STREAM)).toBe(replays);
    expect((await call("reader", "GET", `/v1/subscriptions/crm/dlq/${entry!.seq}`)).status).toBe(200);

    const corrected = '{"n":1,"customer":"c-42"}';
    const replayed = await call("writer", "POST", url, { body: corrected });
    expect(replayed.status).toBe(202);
    conforms("POST", "/v1/subscriptions/{id}/dlq/{seq}/replay", 202, replayed.body);
    expect(replayed.body).toMatchObject({ seq: entry!.seq, eventKey: "shop:e1", corrected: true });
    expect(replayed.body!.replayedTo.stream).toBe(DELIVERY_REPLAY_STREAM);
    const copy = await last(DELIVERY_REPLAY_STREAM);
    expect(copy.subject).toBe("redeliver.crm");
    expect(text(copy.data)).toBe(corrected);
    expect(copy.header.get(EventHeader.OriginalMsgId)).toBe("shop:e1");
    expect(copy.header.get(EventHeader.ReplayedFrom)).toBe(`${DELIVERY_DLQ_STREAM}:${entry!.seq}`);
    expect(copy.header.has(EventHeader.DlqReason)).toBe(false);
    expect((await call("reader", "GET", `/v1/subscriptions/crm/dlq/${entry!.seq}`)).status).toBe(404);
    expect((await call("writer", "POST", url, {})).body!.error.code).toBe("dlq_entry_not_found");

    // No corrected body: the entry's own bytes.
    const plain = await call("writer", "POST", `/v1/subscriptions/crm/dlq/${billing!.seq}/replay`, {});
    expect(plain.status).toBe(202);
    expect(plain.body!.corrected).toBe(false);
    expect(text((await last(DELIVERY_REPLAY_STREAM)).data)).toBe('{"n":2}');

    const records = (await audit("subscriptions")).filter((r) => r.action === "dlq_replay");
    expect(records).toMatchObject([
      { actor: "writer", id: "crm", detail: { seq: entry!.seq, eventKey: "shop:e1", corrected: true } },
      { actor: "writer", id: "crm", detail: { seq: billing!.seq, eventKey: "billing:e2", corrected: false } },
    ]);
    expect(JSON.stringify(records)).not.toContain("c-42"); // the audit keeps no body
  });

  it("a subscription's DLQ - an entry keeping a reference whose origin is gone is shown without a body and replays only with one; a drop takes write, is final and audited", async () => {
    const h = natsHeaders();
    h.set(EventHeader.OriginalMsgId, "shop:big");
    h.set(EventHeader.Source, "shop");
    h.set(EventHeader.DlqReason, "rejected: HTTP 413");
    h.set(EventHeader.DlqOrigin, "EVENTS_ENRICHED:99999");
    h.set(DLQ_BODY_OMITTED, "2000000");
    const { seq } = await admin.js.publish("delivery-dlq.crm", new Uint8Array(0), { headers: h });

    const shown = await call("reader", "GET", `/v1/subscriptions/crm/dlq/${seq}`);
    expect(shown.body).toMatchObject({ eventKey: "shop:big", omittedBytes: 2000000, body: null });
    const url = `/v1/subscriptions/crm/dlq/${seq}/replay`;
    expect((await call("writer", "POST", url, {})).body!.error.code).toBe("dlq_entry_empty");
    expect((await call("writer", "POST", url, { body: '{"n":"small again"}' })).status).toBe(202);

    const other = (await call("reader", "GET", "/v1/subscriptions/other/dlq")).body!.data[0] as { seq: number };
    const drop = `/v1/subscriptions/other/dlq/${other.seq}`;
    expect((await call("reader", "DELETE", drop)).body!.error.code).toBe("forbidden_scope");
    expect((await call("writer", "DELETE", `/v1/subscriptions/crm/dlq/${other.seq}`)).status).toBe(404);
    expect((await call("writer", "DELETE", drop)).status).toBe(204);
    expect((await call("writer", "DELETE", drop)).body!.error.code).toBe("dlq_entry_not_found");
    expect((await call("reader", "GET", "/v1/subscriptions/other/dlq")).body).toMatchObject({ data: [], total: 0 });
    expect((await audit("subscriptions")).filter((r) => r.action === "dlq_drop")).toMatchObject([
      { actor: "writer", id: "other", detail: { seq: other.seq, eventKey: "shop:e3", reason: "rejected: HTTP 400" } },
    ]);
  });

  it("the loader's DLQ - listed with counts per source (a scoped token sees its own), each entry inspected; a delivery-log record is not replayable", async () => {
    await deadLetterEvent(admin.js, await held("shop:p1", '{"event": broken'), "invalid_json: Unexpected token b");
    await deadLetterEvent(admin.js, await held("billing:p2", '{"amount": "x"}', "billing"), "warehouse_failed: 22P02");
    await admin.js.publish("deliveries.crm", '{"destination":"crm","event_key":"shop:e1","attempt":"one"}');
    await deadLetterLogRecord(admin.js, await take("DELIVERIES", "deliveries.crm"), "warehouse_failed: attempt");

    const listed = await call("reader", "GET", "/v1/dlq");
    expect(listed.status).toBe(200);
    conforms("GET", "/v1/dlq", 200, listed.body);
    expect(listed.body!.counts).toEqual({ shop: 1, billing: 1, "_delivery-log": 1 });
    expect(listed.body!.data).toMatchObject([
      {
        eventKey: "shop:p1",
        source: "shop",
        region: "us",
        eventType: "link.clicked",
        reason: "invalid_json: Unexpected token b",
      },
      { eventKey: "billing:p2", source: "billing", origin: expect.stringMatching(/^EVENTS_ENRICHED:\d+$/) },
      { source: "", reason: "warehouse_failed: attempt" },
    ]);
    const scoped = await call("shop-reader", "GET", "/v1/dlq");
    expect(scoped.body).toMatchObject({ counts: { shop: 1 }, data: [{ eventKey: "shop:p1" }], nextSeq: null });
    expect((await call("shop-reader", "GET", "/v1/dlq?source=billing")).body).toEqual({
      data: [],
      counts: {},
      nextSeq: null,
    });
    expect((await call("reader", "GET", "/v1/dlq?source=billing")).body!.data).toMatchObject([
      { eventKey: "billing:p2" },
    ]);
    const paged = await call("reader", "GET", "/v1/dlq?limit=2");
    expect(paged.body!.data).toHaveLength(2);
    expect((await call("reader", "GET", `/v1/dlq?fromSeq=${paged.body!.nextSeq}`)).body!.data).toHaveLength(1);

    const [shop, billing, log] = listed.body!.data as Array<{ seq: number }>;
    const shown = await call("reader", "GET", `/v1/dlq/${shop!.seq}`);
    conforms("GET", "/v1/dlq/{seq}", 200, shown.body);
    expect(shown.body).toMatchObject({ body: '{"event": broken', replayable: true });
    expect(shown.body!.headers[EventHeader.OriginalMsgId]).toEqual(["shop:p1"]);
    expect((await call("reader", "GET", `/v1/dlq/${log!.seq}`)).body).toMatchObject({ replayable: false });
    expect((await call("shop-reader", "GET", `/v1/dlq/${billing!.seq}`)).body!.error.code).toBe("dlq_entry_not_found");
    expect((await call("shop-reader", "GET", `/v1/dlq/${log!.seq}`)).body!.error.code).toBe("dlq_entry_not_found");
  });

  it("the loader's DLQ - a replay or a drop takes admin; a bad body or a delivery-log record changes nothing; a corrected event goes to replay.{source} with its key, the entry goes, each change audited", async () => {
    const [shop, billing, log] = (await call("reader", "GET", "/v1/dlq")).body!.data as Array<{ seq: number }>;
    const hubBefore = await count(HUB_STREAM);
    const refusals = [
      await call("writer", "POST", `/v1/dlq/${shop!.seq}/replay`, {}),
      await call("admin", "POST", `/v1/dlq/${shop!.seq}/replay`, { body: "{broken" }),
      await call("admin", "POST", `/v1/dlq/${log!.seq}/replay`, {}),
      await call("shop-admin", "POST", `/v1/dlq/${billing!.seq}/replay`, {}),
      await call("writer", "DELETE", `/v1/dlq/${log!.seq}`),
    ];
    expect(refusals.map((r) => [r.status, r.body!.error.code])).toEqual([
      [403, "forbidden_scope"],
      [400, "invalid_replay_body"],
      [409, "dlq_entry_not_replayable"],
      [404, "dlq_entry_not_found"],
      [403, "forbidden_scope"],
    ]);
    expect(await count(HUB_STREAM)).toBe(hubBefore);
    expect(await count(DLQ_STREAM)).toBe(3);

    const corrected = '{"event":"link.clicked","event_id":"p1","data":{"link_id":"l1"}}';
    const replayed = await call("shop-admin", "POST", `/v1/dlq/${shop!.seq}/replay`, { body: corrected });
    expect(replayed.status).toBe(202);
    conforms("POST", "/v1/dlq/{seq}/replay", 202, replayed.body);
    expect(replayed.body).toMatchObject({ eventKey: "shop:p1", corrected: true, replayedTo: { stream: HUB_STREAM } });
    const copy = await last(HUB_STREAM);
    expect(copy.subject).toBe("replay.shop");
    expect(text(copy.data)).toBe(corrected);
    expect(copy.header.get(EventHeader.OriginalMsgId)).toBe("shop:p1");
    expect(copy.header.get(EventHeader.ReplayedFrom)).toBe(`${DLQ_STREAM}:${shop!.seq}`);
    expect((await call("reader", "GET", `/v1/dlq/${shop!.seq}`)).status).toBe(404);

    expect((await call("admin", "POST", `/v1/dlq/${billing!.seq}/replay`, {})).status).toBe(202);
    expect(text((await last(HUB_STREAM)).data)).toBe('{"amount": "x"}');
    expect((await call("admin", "DELETE", `/v1/dlq/${log!.seq}`)).status).toBe(204);
    expect((await call("admin", "DELETE", `/v1/dlq/${log!.seq}`)).body!.error.code).toBe("dlq_entry_not_found");
    expect(await count(DLQ_STREAM)).toBe(0);
    expect((await call("reader", "GET", "/v1/dlq")).body).toEqual({ data: [], counts: {}, nextSeq: null });

    expect(await audit("dlq")).toMatchObject([
      { actor: "shop-admin", action: "dlq_replay", id: "shop", detail: { eventKey: "shop:p1", corrected: true } },
      { actor: "admin", action: "dlq_replay", id: "billing", detail: { eventKey: "billing:p2", corrected: false } },
      { actor: "admin", action: "dlq_drop", id: "_delivery-log", detail: { seq: log!.seq } },
    ]);
    expect((await call("admin", "GET", "/v1/audit?kind=dlq&id=shop")).body!.data).toHaveLength(1);
  });

  it("nothing refused by NATS: every operation above ran as the control user", () => {
    expect(logs.filter((line) => /permissions? violation|control_unavailable/i.test(line))).toEqual([]);
  });
});
