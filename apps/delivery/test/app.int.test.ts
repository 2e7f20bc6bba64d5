import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNats, ensureStream, eventSubject, enrichedStreamConfig, publishEvent } from "@tributary/streams";
import { freePorts, startNatsServer, startService, type NatsServer } from "@tributary/testkit";
import { buildApp, DeliveryService, loadDeliveryConfig } from "../src/index.js";

const SECRET = "whsec_" + Buffer.from("delivery-app-test-secret-00001").toString("base64");
let dir: string;
let server: NatsServer;
let nc: NatsConnection;
let js: JetStreamClient;
let dest: FastifyInstance;
let destUrl: string;
const received: string[] = [];
let rejecting = true;

async function publish(count: number, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = `demo:${prefix}-${i}`;
    await publishEvent(js, {
      subject: eventSubject("us", "demo", "link.clicked"),
      body: new TextEncoder().encode(JSON.stringify({ event: "link.clicked", data: { i } })),
      eventKey: key,
      source: "demo",
      region: "us",
      eventType: "link.clicked",
      receivedAt: new Date(),
    });
    keys.push(key);
  }
  return keys;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tributary-delivery-app-"));
  server = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
  nc = await connectNats({ servers: [server.url], name: "test" });
  await ensureStream(await jetstreamManager(nc), { ...enrichedStreamConfig(), subjects: ["enriched.>", "events.>"] });
  js = jetstream(nc);
  dest = Fastify({ forceCloseConnections: true });
  dest.post("/in", async (request, reply) => {
    const id = String(request.headers["webhook-id"]);
    received.push(id);
    return reply.code(rejecting && id.endsWith("-0") ? 400 : 200).send({ ok: true });
  });
  destUrl = `${await dest.listen({ host: "127.0.0.1", port: 0 })}/in`;
});
afterAll(async () => {
  await nc?.close();
  await dest?.close();
  await server?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("delivery app - stats and admin API", () => {
  it("delivers, reports per-destination stats with lag, lists and replays the DLQ, replays a range; admin needs the token", async () => {
    const configPath = join(dir, "delivery.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        adminToken: { env: "ADMIN_TOKEN" },
        allowPrivate: ["127.0.0.0/8"], // the test destinations are on loopback
        destinations: [
          {
            name: "crm",
            url: destUrl,
            start: "all",
            sources: ["demo"],
            signing: { secrets: [{ id: "k", env: "CRM_SECRET" }] },
            retry: { initialDelayMs: 20, maxDelayMs: 100 },
          },
        ],
      }),
    );
    const loaded = loadDeliveryConfig(
      { CRM_SECRET: SECRET, ADMIN_TOKEN: "secret-token-0123456789", TRIBUTARY_NATS_URL: server.url },
      configPath,
    );
    const svcNc = await connectNats({ servers: [server.url], name: "delivery" });
    const service = await DeliveryService.start({
      nc: svcNc,
      destinations: loaded.config.destinations,
      signingKeys: loaded.signingKeys,
      ackWaitMs: loaded.config.ackWaitMs,
      manageStreams: true,
      log: { info() {}, warn() {}, error() {} },
    });
    const app = buildApp({
      service: () => service,
      natsConnected: () => !svcNc.isClosed(),
      adminToken: loaded.adminToken,
    });
    const auth = { authorization: "Bearer secret-token-0123456789" };
    try {
      const keys = await publish(10, "a");
      await until(
        () =>
          service.deliverers.get("crm")!.deliverer.stats.delivered === 9 &&
          service.deliverers.get("crm")!.deliverer.stats.dlq === 1,
        "9 delivered, 1 rejected",
      );
      expect((await app.inject({ url: "/readyz" })).statusCode).toBe(200);
      expect((await app.inject({ url: "/v1/stats" })).statusCode).toBe(401);
      const stats = (await app.inject({ url: "/v1/stats", headers: auth })).json() as {
        destinations: { crm: { delivered: number; dlq: number; breakerState: string; consumer: { pending: number } } };
      };
      expect(stats.destinations.crm).toMatchObject({
        delivered: 9,
        dlq: 1,
        breakerState: "closed",
        consumer: { pending: 0 },
      });

      expect((await app.inject({ url: "/v1/destinations/crm/dlq" })).statusCode).toBe(401);
      expect((await app.inject({ url: "/v1/destinations/nope/dlq", headers: auth })).json()).toMatchObject({
        error: { code: "unknown_destination" },
      });
      const dlq = (await app.inject({ url: "/v1/destinations/crm/dlq", headers: auth })).json() as {
        data: Array<{ eventKey: string; status: number; reason: string }>;
      };
      expect(dlq.data).toEqual([
        expect.objectContaining({ eventKey: "demo:a-0", status: 400, reason: "rejected: HTTP 400" }),
      ]);

      rejecting = false;
      const replay = await app.inject({
        method: "POST",
        url: "/v1/destinations/crm/dlq/replay",
        headers: auth,
        payload: {},
      });
      expect(replay.statusCode).toBe(202);
      expect(replay.json()).toMatchObject({ replayed: 1 });
      await until(
        () => service.deliverers.get("crm")!.deliverer.stats.delivered === 10,
        "the replayed entry delivered",
      );
      expect(new Set(received)).toEqual(new Set(keys));

      const bad = await app.inject({
        method: "POST",
        url: "/v1/destinations/crm/replay",
        headers: auth,
        payload: { from: "2030-01-02T00:00:00Z", to: "2030-01-01T00:00:00Z" },
      });
      expect(bad.json()).toMatchObject({ error: { code: "invalid_range" } });
      const range = await app.inject({
        method: "POST",
        url: "/v1/destinations/crm/replay",
        headers: auth,
        payload: { from: new Date(Date.now() - 60_000).toISOString(), to: new Date().toISOString() },
      });
      expect(range.json()).toMatchObject({ replayed: 10 });
      await until(() => service.deliverers.get("crm")!.deliverer.stats.delivered === 20, "the range delivered again");
    } finally {
      await service.stop();
      await svcNc.drain();
      await app.close();
    }
  });

  it("the process killed with SIGKILL mid-delivery and restarted: every event delivered, extra requests only as retries with the same id", async () => {
    const got: Array<{ id: string; attempt: number }> = [];
    const slow = Fastify({ forceCloseConnections: true });
    slow.post("/slow", async (request, reply) => {
      got.push({ id: String(request.headers["webhook-id"]), attempt: Number(request.headers["tributary-attempt"]) });
      await new Promise((r) => setTimeout(r, 20));
      return reply.code(204).send();
    });
    const slowUrl = `${await slow.listen({ host: "127.0.0.1", port: 0 })}/slow`;
    const configPath = join(dir, "kill.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        port: 0,
        ackWaitMs: 2_000,
        allowPrivate: ["127.0.0.0/8"], // the test destinations are on loopback
        destinations: [
          {
            name: "killed",
            url: slowUrl,
            start: "new",
            sources: ["demo"],
            timeoutMs: 1_000,
            maxInFlight: 4,
            signing: { type: "none" },
          },
        ],
      }),
    );
    const env = { TRIBUTARY_CONFIG: configPath, TRIBUTARY_NATS_URL: server.url, TRIBUTARY_LOG_LEVEL: "warn" };
    const entry = join(import.meta.dirname, "../dist/main.js");
    let svc = await startService({ name: "delivery", entry, env });
    try {
      await until(
        async () =>
          (await jetstreamManager(nc)).consumers.info("EVENTS_ENRICHED", "delivery-killed").then(
            () => true,
            () => false,
          ),
        "the process's consumer",
        15_000,
      );
      const keys = await publish(300, "k");
      await until(() => got.length >= 60, "some deliveries before the kill");
      await svc.kill();
      const beforeRestart = new Set(got.map((g) => g.id)).size;
      expect(beforeRestart).toBeLessThan(300);
      svc = await startService({ name: "delivery", entry, env });
      await until(() => keys.every((k) => got.some((g) => g.id === k)), "all 300 after the restart", 30_000);
      expect(new Set(got.map((g) => g.id))).toEqual(new Set(keys));
      // A repeat is a redelivery of an event the killed process had in hand: same id, a later attempt.
      const attempts = new Map<string, number[]>();
      for (const g of got) attempts.set(g.id, [...(attempts.get(g.id) ?? []), g.attempt]);
      for (const list of attempts.values()) expect(new Set(list).size).toBe(list.length);
      expect([...attempts.values()].filter((l) => l.length > 1).length).toBeLessThanOrEqual(4 * 4); // at most max_ack_pending (maxInFlight × 4) were unacked
    } finally {
      expect(await svc.stop()).toBe(0);
      await slow.close();
    }
  });

  it("the process starts from its config, delivers, and drains on SIGTERM", async () => {
    received.length = 0;
    const configPath = join(dir, "process.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        port: 0,
        allowPrivate: ["127.0.0.0/8"], // the test destinations are on loopback
        destinations: [{ name: "proc", url: destUrl, start: "new", signing: { type: "none" } }],
      }),
    );
    const svc = await startService({
      name: "delivery",
      entry: join(import.meta.dirname, "../dist/main.js"),
      env: { TRIBUTARY_CONFIG: configPath, TRIBUTARY_NATS_URL: server.url, TRIBUTARY_LOG_LEVEL: "warn" },
    });
    try {
      await until(
        async () =>
          (await jetstreamManager(nc)).consumers.info("EVENTS_ENRICHED", "delivery-proc").then(
            () => true,
            () => false,
          ),
        "the process's consumer",
        15_000,
      );
      const keys = await publish(20, "p");
      await until(() => keys.every((k) => received.includes(k)), "20 deliveries from the process");
    } finally {
      expect(await svc.stop()).toBe(0);
    }
  });

  it("started before the hub stream is provisioned (a Helm Job still running), the process waits unready, then delivers", async () => {
    received.length = 0;
    const fresh = await startNatsServer({ domain: "hub", dir: join(dir, "nats-fresh") });
    const freshNc = await connectNats({ servers: [fresh.url], name: "test-fresh" });
    const configPath = join(dir, "early.json");
    const [port] = await freePorts(1);
    writeFileSync(
      configPath,
      JSON.stringify({
        port,
        allowPrivate: ["127.0.0.0/8"], // the test destinations are on loopback
        adminLoopback: true, // stats read from this host without a token, as on a developer's machine
        destinations: [{ name: "early", url: destUrl, start: "all", signing: { type: "none" } }],
      }),
    );
    const svc = await startService({
      name: "delivery",
      entry: join(import.meta.dirname, "../dist/main.js"),
      env: { TRIBUTARY_CONFIG: configPath, TRIBUTARY_NATS_URL: fresh.url, TRIBUTARY_LOG_LEVEL: "warn" },
    });
    try {
      await until(
        () => svc.output().includes("waiting for it to be provisioned"),
        "the process to say it waits",
        10_000,
      );
      expect(svc.process.exitCode).toBeNull();
      // Unready, and its stats say so rather than "no destinations".
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
      const stats = await fetch(`http://127.0.0.1:${port}/v1/stats`);
      expect(stats.status).toBe(503);
      expect(((await stats.json()) as { error: { code: string } }).error.code).toBe("not_ready");
      // A SIGTERM while waiting is a clean stop.
      const other = await startService({
        name: "delivery-2",
        entry: join(import.meta.dirname, "../dist/main.js"),
        env: {
          TRIBUTARY_CONFIG: configPath,
          TRIBUTARY_NATS_URL: fresh.url,
          TRIBUTARY_LOG_LEVEL: "warn",
          TRIBUTARY_PORT: "0",
        },
      });
      await until(
        () => other.output().includes("waiting for it to be provisioned"),
        "the second process to wait",
        10_000,
      );
      expect(await other.stop()).toBe(0);
      await ensureStream(await jetstreamManager(freshNc), {
        ...enrichedStreamConfig(),
        subjects: ["enriched.>", "events.>"],
      });
      const freshJs = jetstream(freshNc);
      await publishEvent(freshJs, {
        subject: eventSubject("us", "demo", "link.clicked"),
        body: new TextEncoder().encode("{}"),
        eventKey: "demo:early-1",
        source: "demo",
        region: "us",
        eventType: "link.clicked",
        receivedAt: new Date(),
      });
      await until(() => received.includes("demo:early-1"), "the event, once the stream exists", 20_000);
    } finally {
      // Everything is cleaned up before the exit code is judged (a failed expect must not leak a server).
      const code = await svc.stop();
      await freshNc.close();
      await fresh.cleanup();
      expect(code).toBe(0);
    }
  });
});
