import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateConfig } from "@tributary/config";
import { DestinationSchema } from "@tributary/delivery";
import {
  connectNats,
  deliveriesStreamConfig,
  deliveryDlqStreamConfig,
  deliveryPermissions,
  deliveryReplayStreamConfig,
  ensureStream,
  eventSubject,
  enrichedStreamConfig,
  publishEvent,
} from "@tributary/streams";
import { startNatsServer, type NatsServer } from "@tributary/testkit";
import type { NatsConnection } from "@nats-io/transport-node";
import { buildApp, DeliveryService } from "../src/index.js";

const list = (items: string[]) => `[${items.map((s) => JSON.stringify(s)).join(", ")}]`;
let dir: string;
let server: NatsServer;
let admin: NatsConnection;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tributary-delivery-perms-"));
  const perms = deliveryPermissions(["crm"]);
  server = await startNatsServer({
    domain: "hub",
    dir: join(dir, "nats"),
    extraConfig: `authorization { users: [
      { user: "admin", password: "a" },
      { user: "delivery", password: "d", permissions: { publish: { allow: ${list(perms.publish)} }, subscribe: { allow: ${list(perms.subscribe)} } } }
    ] }`,
  });
  admin = await connectNats({ servers: [server.url], name: "admin", user: "admin", pass: "a" });
  const jsm = await jetstreamManager(admin);
  await ensureStream(jsm, { ...enrichedStreamConfig(), subjects: ["enriched.>", "events.>"] });
  for (const config of [deliveryDlqStreamConfig(), deliveryReplayStreamConfig(), deliveriesStreamConfig()])
    await ensureStream(jsm, config);
});
afterAll(async () => {
  await admin?.close();
  await server?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("delivery user - least privilege", () => {
  it("deliveryPermissions(['crm']) is enough to deliver, dead-letter, log, list and replay the DLQ and a range; nothing of another destination", async () => {
    const received: string[] = [];
    let reject = true;
    const dest = Fastify({ forceCloseConnections: true });
    dest.post("/in", async (request, reply) => {
      const id = String(request.headers["webhook-id"]);
      received.push(id);
      return reply.code(reject && id.endsWith("-0") ? 410 : 200).send();
    });
    const url = `${await dest.listen({ host: "127.0.0.1", port: 0 })}/in`;
    const nc = await connectNats({ servers: [server.url], name: "delivery", user: "delivery", pass: "d" });
    const config = validateConfig(DestinationSchema, {
      name: "crm",
      url,
      start: "all",
      signing: { type: "none" },
      allowPrivate: ["127.0.0.0/8"],
    });
    const service = await DeliveryService.start({
      nc,
      destinations: [config],
      signingKeys: new Map(),
      ackWaitMs: 10_000,
      manageStreams: false,
      log: { info() {}, warn() {}, error() {} },
    });
    // inject comes from 127.0.0.1: the local-development switch lets it use the admin API.
    const app = buildApp({ service: () => service, natsConnected: () => true, adminLoopback: true });
    try {
      const js = jetstream(admin);
      for (let i = 0; i < 5; i++) {
        await publishEvent(js, {
          subject: eventSubject("us", "demo", "link.clicked"),
          body: new TextEncoder().encode(`{"i":${i}}`),
          eventKey: `demo:p-${i}`,
          source: "demo",
          region: "us",
          eventType: "link.clicked",
          receivedAt: new Date(),
        });
      }
      const stats = () => service.deliverers.get("crm")!.deliverer.stats;
      const deadline = Date.now() + 15_000;
      while (stats().delivered + stats().dlq < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(stats()).toMatchObject({ delivered: 4, dlq: 1, logFailures: 0, dlqWriteFailures: 0 });
      // The attempt records are published without waiting for their PubAck (on the delivery
      // connection), after the counters move: wait for them to be stored, then count exactly.
      const logged = () =>
        admin
          .request("$JS.API.STREAM.INFO.DELIVERIES")
          .then((m) => m.json<{ state: { messages: number } }>().state.messages);
      const logDeadline = Date.now() + 5_000;
      while ((await logged()) < 5 && Date.now() < logDeadline) await new Promise((r) => setTimeout(r, 25));
      expect(await logged()).toBe(5);

      const listed = (await app.inject({ url: "/v1/destinations/crm/dlq" })).json() as { data: unknown[] };
      expect(listed.data).toHaveLength(1);
      reject = false;
      expect(
        (await app.inject({ method: "POST", url: "/v1/destinations/crm/dlq/replay", payload: {} })).json(),
      ).toMatchObject({ replayed: 1 });
      expect(
        (
          await app.inject({
            method: "POST",
            url: "/v1/destinations/crm/replay",
            payload: { from: new Date(Date.now() - 60_000).toISOString(), to: new Date().toISOString() },
          })
        ).json(),
      ).toMatchObject({ replayed: 5 });
      const until = Date.now() + 15_000;
      while (stats().delivered < 10 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
      expect(stats().delivered).toBe(10);
      expect((await app.inject({ url: "/v1/stats" })).json()).toMatchObject({
        destinations: { crm: { consumer: { pending: 0 } } },
      });

      // Another destination's consumer is out of reach.
      await expect(
        jetstreamManager(nc).then((jsm) => jsm.consumers.info("EVENTS_ENRICHED", "delivery-other")),
      ).rejects.toThrow();
      await expect(
        jetstreamManager(nc).then((jsm) => jsm.consumers.info("EVENTS_ENRICHED", "warehouse-loader")),
      ).rejects.toThrow();
    } finally {
      await service.stop();
      await nc.drain();
      await app.close();
      await dest.close();
    }
  });
});
