import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { startNatsServer, type NatsServer } from "@tributary/testkit";
import {
  connectNats,
  DELIVERY_DLQ_STREAM,
  DLQ_STREAM,
  ENRICHED_STREAM,
  ERASURE_CONSUMER,
  eraseHubCopies,
  erasurePermissions,
  EventHeader,
  HUB_STREAM,
  inboxPermission,
  purgeSourceFromHub,
} from "../src/index.js";

/** The four hub streams erasure reads, as plain streams on their subjects (no sourcing needed here). */
const STREAMS: Record<string, string[]> = {
  [HUB_STREAM]: ["events.>", "replay.>"],
  [ENRICHED_STREAM]: ["x-events.>", "replayed.>", "derived.>"],
  [DLQ_STREAM]: ["dlq.>"],
  [DELIVERY_DLQ_STREAM]: ["delivery-dlq.>"],
};

describe("erasure of stream copies (a real nats-server, as the management API's user)", () => {
  let server: NatsServer;
  let admin: NatsConnection;
  let control: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  const adminJs = () => jetstream(admin);

  beforeAll(async () => {
    const allow = JSON.stringify(["$JS.API.INFO", ...erasurePermissions()]);
    server = await startNatsServer({
      extraConfig: `authorization { users: [
        { user: "admin", password: "a" },
        { user: "control", password: "c", permissions: { publish: { allow: ${allow} }, subscribe: { allow: ${JSON.stringify([inboxPermission("control")])} } } }
      ] }`,
    });
    admin = await connectNats({ servers: [server.url], name: "admin", user: "admin", pass: "a" });
    control = await connectNats({ servers: [server.url], name: "control", user: "control", pass: "c" });
    const adminJsm = await jetstreamManager(admin);
    for (const [name, subjects] of Object.entries(STREAMS)) await adminJsm.streams.add({ name, subjects });
    js = jetstream(control);
    jsm = await jetstreamManager(control, { checkAPI: false });
  });
  afterAll(async () => {
    await control?.close();
    await admin?.close();
    await server?.cleanup();
  });

  const put = async (subject: string, h: Record<string, string>): Promise<void> => {
    const headers = natsHeaders();
    for (const [k, v] of Object.entries(h)) headers.set(k, v);
    await adminJs().publish(subject, JSON.stringify({ ip: "203.0.113.7" }), { headers });
  };
  const count = async (stream: string) => (await (await jetstreamManager(admin)).streams.info(stream)).state.messages;

  it("deletes exactly the named events' copies, their derived events and DLQ entries, and a visitor's set-aside events by their enrichment", async () => {
    const now = new Date().toISOString();
    const enrichment = (visitor: string) => JSON.stringify({ visitor_hash: visitor });
    for (const key of ["shop:a", "shop:b"]) {
      await put("events.us.shop.click", { [EventHeader.MsgId]: key });
      await put("x-events.us.shop.click", { [EventHeader.MsgId]: key, [EventHeader.Enrichment]: enrichment("h_v") });
      await put("delivery-dlq.crm", { [EventHeader.OriginalMsgId]: key, [EventHeader.Source]: "shop" });
    }
    await put("derived.us.shop.click.flagged", { [EventHeader.DerivedFrom]: "shop:a" });
    // Set aside by the loader, never a row: found by the visitor hash its enrichment carries.
    await put("dlq.shop", { [EventHeader.OriginalMsgId]: "shop:c", [EventHeader.Enrichment]: enrichment("h_v") });
    await put("dlq.shop", { [EventHeader.OriginalMsgId]: "shop:d", [EventHeader.Enrichment]: enrichment("h_other") });

    const counts = await eraseHubCopies(js, jsm, [{ event_key: "shop:a", source: "shop", received_at: now }], {
      visitorHashes: ["h_v"],
    });

    expect(counts).toEqual({ [HUB_STREAM]: 1, [ENRICHED_STREAM]: 2, [DLQ_STREAM]: 1, [DELIVERY_DLQ_STREAM]: 1 });
    expect(await count(HUB_STREAM)).toBe(1);
    expect(await count(ENRICHED_STREAM)).toBe(1);
    expect(await count(DLQ_STREAM)).toBe(1);
    expect(await count(DELIVERY_DLQ_STREAM)).toBe(1);
    // Its one consumer is gone after, and again: nothing left to delete.
    expect(
      await (await jetstreamManager(admin)).consumers.info(HUB_STREAM, ERASURE_CONSUMER).catch(() => null),
    ).toBeNull();
    const again = await eraseHubCopies(js, jsm, [{ event_key: "shop:a", source: "shop", received_at: now }]);
    expect(Object.values(again).every((n) => n === 0)).toBe(true);
  });

  it("purges a source's subjects and deletes its destinations' DLQ entries, leaving other sources", async () => {
    await put("events.eu.pay.charge", { [EventHeader.MsgId]: "pay:1" });
    await put("replay.pay", { [EventHeader.OriginalMsgId]: "pay:2" });
    await put("dlq.pay", { [EventHeader.OriginalMsgId]: "pay:3" });
    await put("delivery-dlq.crm", { [EventHeader.OriginalMsgId]: "pay:1", [EventHeader.Source]: "pay" });
    const before = {
      hub: await count(HUB_STREAM),
      dlq: await count(DLQ_STREAM),
      deliveryDlq: await count(DELIVERY_DLQ_STREAM),
    };

    const counts = await purgeSourceFromHub(js, jsm, "pay");

    expect(counts).toMatchObject({ [HUB_STREAM]: 2, [DLQ_STREAM]: 1, [DELIVERY_DLQ_STREAM]: 1 });
    expect(await count(HUB_STREAM)).toBe(before.hub - 2);
    expect(await count(DLQ_STREAM)).toBe(before.dlq - 1);
    expect(await count(DELIVERY_DLQ_STREAM)).toBe(before.deliveryDlq - 1);
  });

  it("the user may create no consumer but erasure's own on these streams", async () => {
    await expect(
      control.request(
        `$JS.API.CONSUMER.CREATE.${HUB_STREAM}.enricher`,
        JSON.stringify({ stream_name: HUB_STREAM, config: { name: "enricher" } }),
        { timeout: 2000 },
      ),
    ).rejects.toThrow(/Permissions Violation/);
  });
});
