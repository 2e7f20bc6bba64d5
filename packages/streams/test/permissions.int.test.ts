import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { startNatsServer, type NatsServer } from "@tributary/testkit";
import {
  connectNats,
  deliveriesStreamConfig,
  deliveryConsumerConfig,
  deliveryDlqStreamConfig,
  deliveryFilterSubjects,
  deliveryReplayConsumerConfig,
  deliveryReplayStreamConfig,
  ensureStream,
  eventSubject,
  enrichedStreamConfig,
  ENRICHED_LOADER_SUBJECTS,
  loaderConsumerConfig,
  publishEvent,
  readDestinationRange,
  renderHubServerConfig,
} from "../src/index.js";

const cred = (user: string) => ({ user, password: `${user}-pw` });
/** crm takes demo's link.clicked only: one filter subject, so nats-server can pin it. */
const CRM = { name: "crm", sources: ["demo"], types: ["link.clicked"] };
const CRM_FILTERS = deliveryFilterSubjects(CRM.sources, CRM.types);

describe("NATS users at the hub: replies, consumers and reads stay each user's own", () => {
  let dir: string;
  let hub: NatsServer;
  const conns: NatsConnection[] = [];
  let admin: JetStreamManager;

  const connectAs = async (user: string) => {
    const nc = await connectNats({ servers: [hub.url], name: `perm-${user}`, user, pass: `${user}-pw` });
    conns.push(nc);
    return nc;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "streams-perms-"));
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
          delivery: { credential: cred("delivery"), destinations: [CRM] },
        }),
    });
    const nc = await connectAs("admin");
    admin = await jetstreamManager(nc);
    // The enriched stream takes events directly here (no region, no stage): what the enrich stage would publish.
    await ensureStream(admin, {
      ...enrichedStreamConfig({ maxBytes: 64 * 1024 ** 2 }),
      subjects: ["enriched.>", "events.>"],
    });
    for (const config of [deliveryDlqStreamConfig(), deliveryReplayStreamConfig(), deliveriesStreamConfig()])
      await ensureStream(admin, { ...config, max_bytes: 64 * 1024 ** 2 });
    const js = jetstream(nc);
    for (const [i, [source, type]] of [
      ["demo", "link.clicked"],
      ["billing", "charge.paid"],
      ["demo", "install.tracked"],
      ["demo", "link.clicked"],
    ].entries())
      await publishEvent(js, {
        subject: eventSubject("us", source!, type!),
        body: new TextEncoder().encode(`{"i":${i}}`),
        eventKey: `${source}:perm-${i}`,
        source: source!,
        region: "us",
        eventType: type!,
        receivedAt: new Date(),
      });
  });
  afterAll(async () => {
    for (const nc of conns) await nc.close().catch(() => undefined);
    await hub?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("M8 - a user cannot read another user's replies: the aggregator's pulled events never reach the delivery user's subscriptions", async () => {
    const delivery = await connectAs("delivery");
    const sniffed: string[] = [];
    const refused: string[] = [];
    for (const subject of ["_INBOX.>", "_INBOX_aggregator.>"])
      delivery.subscribe(subject, {
        callback: (err, msg) => {
          if (err) refused.push(err.message);
          else sniffed.push(msg.subject);
        },
      });
    await delivery.flush().catch(() => undefined);

    const aggregator = await connectAs("aggregator");
    const jsm = await jetstreamManager(aggregator);
    await jsm.consumers.add(
      "EVENTS_ENRICHED",
      loaderConsumerConfig({
        durable: "warehouse-loader",
        maxAckPending: 10,
        filterSubjects: ENRICHED_LOADER_SUBJECTS,
      }),
    );
    const consumer = await jetstream(aggregator).consumers.get("EVENTS_ENRICHED", "warehouse-loader");
    const pulled: string[] = [];
    for await (const m of await consumer.fetch({ max_messages: 4, expires: 2_000 })) {
      pulled.push(m.subject);
      m.ack();
    }
    expect(pulled).toHaveLength(4); // the aggregator got its events, through its own inbox
    // At each start it puts its durable back at the ack floor (apps/aggregator resume.ts); no one else's.
    await aggregator.flush();
    expect((await jsm.consumers.reset("EVENTS_ENRICHED", "warehouse-loader")).reset_seq).toBeGreaterThan(4);
    const strict = await jetstreamManager(aggregator, { timeout: 2_000 });
    await expect(strict.consumers.reset("EVENTS_ENRICHED", "delivery-crm")).rejects.toThrow(/permissions violation/i);
    await new Promise((r) => setTimeout(r, 300));
    expect(sniffed).toEqual([]);
    expect(refused.join("\n")).toMatch(/Permissions Violation for Subscription to "_INBOX\.>"/);
    // The delivery user's own replies still reach it.
    expect((await (await jetstreamManager(delivery)).streams.info("EVENTS_ENRICHED")).config.name).toBe(
      "EVENTS_ENRICHED",
    );
  });

  it("M8 - the delivery user cannot create its consumers with another filter, through the legacy create, or as another destination's replay", async () => {
    const nc = await connectAs("delivery");
    const jsm = await jetstreamManager(nc, { timeout: 2_000 });
    const crm = deliveryConsumerConfig({
      destination: "crm",
      filterSubjects: CRM_FILTERS,
      maxAckPending: 16,
      ackWaitMs: 30_000,
    });
    const request = (subject: string, config: object) =>
      nc.request(subject, JSON.stringify({ stream_name: "EVENTS_ENRICHED", config }), { timeout: 2_000 });
    // Every event of the hub, through its own durable: refused.
    await expect(jsm.consumers.add("EVENTS_ENRICHED", { ...crm, filter_subject: "events.>" })).rejects.toThrow(
      /Permissions Violation/,
    );
    await expect(
      request("$JS.API.CONSUMER.CREATE.EVENTS_ENRICHED.delivery-crm.events.>", { ...crm, filter_subject: "events.>" }),
    ).rejects.toThrow(/Permissions Violation/);
    // The older create subject carries no filter, so the server could not check one: refused.
    await expect(
      request("$JS.API.CONSUMER.DURABLE.CREATE.EVENTS_ENRICHED.delivery-crm", { ...crm, filter_subject: "events.>" }),
    ).rejects.toThrow(/Permissions Violation/);
    // Its replay consumer reading another destination's replays: refused.
    const replay = deliveryReplayConsumerConfig({ destination: "crm", maxAckPending: 16, ackWaitMs: 30_000 });
    await expect(
      jsm.consumers.add("DELIVERY_REPLAY", { ...replay, filter_subject: "redeliver.other" }),
    ).rejects.toThrow(/Permissions Violation/);
    // Exactly its own configs: created, as the delivery process creates them.
    expect((await jsm.consumers.add("EVENTS_ENRICHED", crm)).config.filter_subject).toBe("events.*.demo.link.clicked");
    expect((await jsm.consumers.add("DELIVERY_REPLAY", replay)).name).toBe("delivery-crm-replay");
    // Once it exists (as it does from the process's first start), nats-server keeps it a pull
    // consumer: it cannot be turned into a push consumer copying EVENTS into another stream.
    await expect(jsm.consumers.add("EVENTS_ENRICHED", { ...crm, deliver_subject: "dlq.forged" })).rejects.toThrow();
    expect((await jsm.consumers.info("EVENTS_ENRICHED", "delivery-crm")).config.deliver_subject).toBeUndefined();
  });

  it("M8 - the delivery user reads no hub event by sequence; a time range gives exactly its destination's events", async () => {
    const nc = await connectAs("delivery");
    const jsm = await jetstreamManager(nc, { timeout: 2_000 });
    await expect(jsm.streams.getMessage("EVENTS_ENRICHED", { seq: 2 })).rejects.toThrow(/Permissions Violation/);
    await expect(
      nc.request("$JS.API.DIRECT.GET.EVENTS_ENRICHED", JSON.stringify({ seq: 2 }), { timeout: 2_000 }),
    ).rejects.toThrow(/Permissions Violation/);

    const read: string[] = [];
    for await (const m of readDestinationRange(jetstream(nc), jsm, {
      destination: "crm",
      filterSubjects: CRM_FILTERS,
      from: new Date(Date.now() - 60_000),
      to: new Date(),
    }))
      read.push(`${m.seq} ${m.subject}`);
    expect(read).toEqual(["1 events.us.demo.link.clicked", "4 events.us.demo.link.clicked"]);
    // The read's consumer is gone once it is done.
    const names = (await admin.consumers.list("EVENTS_ENRICHED").next()).map((c) => c.name);
    expect(names).not.toContain("delivery-crm-scan");
    // An empty range reads nothing.
    const none: number[] = [];
    for await (const m of readDestinationRange(jetstream(nc), jsm, {
      destination: "crm",
      filterSubjects: CRM_FILTERS,
      from: new Date(Date.now() + 60_000),
      to: new Date(Date.now() + 120_000),
    }))
      none.push(m.seq);
    expect(none).toEqual([]);
  });
});
