import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "@tributary/config";
import { HTTP_SERVER_LIMITS } from "@tributary/runtime";
import { connectNats, ensureStream, eventSubject, enrichedStreamConfig, publishEvent } from "@tributary/streams";
import { startTelemetry, type Telemetry } from "@tributary/telemetry";
import { startNatsServer, type NatsServer } from "@tributary/testkit";
import { buildApp, DeliveryService, loadDeliveryConfig, type DeliveryAppDeps } from "../src/index.js";

const ADMIN = "admin-token-0123456789abcdef";
const bearer = { authorization: `Bearer ${ADMIN}` };
const quiet = { info() {}, warn() {}, error() {} };

let dir: string;
let server: NatsServer;
let nc: NatsConnection;
let js: JetStreamClient;
let service: DeliveryService;
let telemetry: Telemetry;
let receiver: FastifyInstance;
const apps: FastifyInstance[] = [];
let configCount = 0;

/** The delivery config from a file, the way main loads it. */
function configFrom(config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  const file = join(dir, `delivery-${configCount++}.json`);
  writeFileSync(file, JSON.stringify(config));
  return loadDeliveryConfig({ TRIBUTARY_NATS_URL: server.url, ...env }, file);
}

async function publish(count: number): Promise<void> {
  for (let i = 0; i < count; i++)
    await publishEvent(js, {
      subject: eventSubject("us", "demo", "link.clicked"),
      body: new TextEncoder().encode(JSON.stringify({ event: "link.clicked", data: { i } })),
      eventKey: `demo:r-${i}`,
      source: "demo",
      region: "us",
      eventType: "link.clicked",
      receivedAt: new Date(),
    });
}

function app(deps: Partial<DeliveryAppDeps> = {}): FastifyInstance {
  const built = buildApp({ service: () => service, natsConnected: () => !nc.isClosed(), ...deps });
  apps.push(built);
  return built;
}

const FROM = new Date(Date.now() - 60_000).toISOString();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tributary-delivery-closed-"));
  server = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
  nc = await connectNats({ servers: [server.url], name: "test" });
  await ensureStream(await jetstreamManager(nc), { ...enrichedStreamConfig(), subjects: ["enriched.>", "events.>"] });
  js = jetstream(nc);
  // These tests are about the admin API; the destination is a receiver on loopback that takes everything.
  receiver = Fastify();
  receiver.post("/in", async () => ({ ok: true }));
  const url = `${await receiver.listen({ host: "127.0.0.1", port: 0 })}/in`;
  const loaded = configFrom({
    allowPrivate: ["127.0.0.0/8"],
    destinations: [{ name: "crm", url, start: "all", signing: { type: "none" } }],
  });
  service = await DeliveryService.start({
    nc,
    destinations: loaded.config.destinations,
    signingKeys: loaded.signingKeys,
    ackWaitMs: loaded.config.ackWaitMs,
    manageStreams: true,
    log: quiet,
  });
  await publish(30);
  telemetry = startTelemetry({ serviceName: "tributary-delivery", serviceVersion: "0", env: {} });
});
afterAll(async () => {
  for (const built of apps) await built.close();
  await service?.stop();
  await nc?.drain();
  await telemetry?.shutdown();
  await receiver?.close();
  await server?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("delivery admin API - fails closed", () => {
  it("L3 - the admin token is checked before the body is read: a refused replay with a broken body is 401, not 400", async () => {
    const res = await app({ adminToken: ADMIN }).inject({
      method: "POST",
      url: "/v1/destinations/crm/replay",
      headers: { "content-type": "application/json" },
      payload: '{"from": "not a date", ',
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: "unauthorized" } });
  });

  it("L3 - an admin token shorter than 16 characters is a config error", () => {
    let caught: unknown;
    try {
      configFrom({ adminToken: { env: "ADMIN_TOKEN" } }, { ADMIN_TOKEN: "short-token" });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).field).toBe("adminToken");
    expect(configFrom({ adminToken: { env: "ADMIN_TOKEN" } }, { ADMIN_TOKEN: ADMIN }).adminToken).toBe(ADMIN);
  });

  it("M5 - /v1/stats and /metrics need the admin token, from loopback too; the probes stay open", async () => {
    const built = app({ adminToken: ADMIN, telemetry });
    for (const url of ["/v1/stats", "/metrics"]) {
      for (const remoteAddress of ["127.0.0.1", "10.0.0.5"])
        expect([url, remoteAddress, (await built.inject({ url, remoteAddress })).statusCode]).toEqual([
          url,
          remoteAddress,
          401,
        ]);
      expect((await built.inject({ url, remoteAddress: "10.0.0.5", headers: bearer })).statusCode).toBe(200);
    }
    for (const url of ["/healthz", "/readyz"])
      expect((await built.inject({ url, remoteAddress: "10.0.0.5" })).statusCode).toBe(200);
  });

  it("L3 - /v1/stats reads each destination's lag from NATS at most once however many ask at once", async () => {
    const built = app({ adminToken: ADMIN });
    const read = service.lag.bind(service);
    let reads = 0;
    service.lag = async (name) => {
      reads++;
      return read(name);
    };
    try {
      const answers = await Promise.all(
        Array.from({ length: 25 }, () => built.inject({ url: "/v1/stats", headers: bearer })),
      );
      for (const res of answers) {
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({ destinations: { crm: { consumer: { pending: expect.any(Number) } } } });
      }
      expect(reads).toBe(1);
    } finally {
      service.lag = read;
    }
  });

  it("L2 - without a token and without adminLoopback nobody passes, a loopback caller neither", async () => {
    const built = app();
    for (const remoteAddress of ["127.0.0.1", "::1", "10.0.0.5"]) {
      const res = await built.inject({ url: "/v1/destinations/crm/dlq", remoteAddress });
      expect([remoteAddress, res.statusCode]).toEqual([remoteAddress, 403]);
      expect(res.json()).toMatchObject({ error: { code: "admin_token_required" } });
    }
  });

  it("L2 - adminLoopback (local development) lets exactly 127.0.0.1 and ::1 through without a token, not 127.0.0.6; it needs a loopback host", async () => {
    const built = app({ adminLoopback: true });
    for (const remoteAddress of ["127.0.0.1", "::1"])
      expect((await built.inject({ url: "/v1/destinations/crm/dlq", remoteAddress })).statusCode).toBe(200);
    for (const remoteAddress of ["127.0.0.6", "::ffff:127.0.0.6"])
      expect((await built.inject({ url: "/v1/destinations/crm/dlq", remoteAddress })).statusCode).toBe(403);
    let caught: unknown;
    try {
      configFrom({ host: "0.0.0.0", adminLoopback: true });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).field).toBe("adminLoopback");
  });

  it("L8 - a range replay stops at its scan budget and says where to resume; resuming reaches the rest", async () => {
    const built = app({ adminToken: ADMIN, replay: { maxScan: 12, timeoutMs: 20_000 } });
    const replay = (from: string) =>
      built.inject({
        method: "POST",
        url: "/v1/destinations/crm/replay",
        headers: bearer,
        payload: { from, to: new Date().toISOString() },
      });
    const first = await replay(FROM);
    expect(first.statusCode).toBe(202);
    const body = first.json() as { scanned: number; truncated: boolean; stopped: string; resume_from: string };
    expect(body).toMatchObject({ scanned: 12, replayed: 12, truncated: true, stopped: "scan_budget" });
    expect(Date.parse(body.resume_from)).toBeGreaterThanOrEqual(Date.parse(FROM));
    let scanned = body.scanned;
    let resume: string | null = body.resume_from;
    for (let i = 0; resume !== null && i < 10; i++) {
      const next = (await replay(resume)).json() as { scanned: number; resume_from: string | null };
      scanned += next.scanned;
      resume = next.resume_from;
    }
    // Resuming at the stopping event's time: the events of that millisecond may come twice (same ids).
    expect(resume).toBeNull();
    expect(scanned).toBeGreaterThanOrEqual(30);
  });

  it("L8 - a range replay past its time budget stops and says where to resume", async () => {
    const built = app({ adminToken: ADMIN, replay: { maxScan: 100_000, timeoutMs: 0 } });
    const res = await built.inject({
      method: "POST",
      url: "/v1/destinations/crm/replay",
      headers: bearer,
      payload: { from: FROM, to: new Date().toISOString() },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ truncated: true, stopped: "time_budget", resume_from: expect.any(String) });
  });

  it("L8 - one range replay at a time: another one meanwhile is 409 replay_in_progress", async () => {
    const built = app({ adminToken: ADMIN });
    const replay = () =>
      built.inject({
        method: "POST",
        url: "/v1/destinations/crm/replay",
        headers: bearer,
        payload: { from: FROM, to: new Date().toISOString() },
      });
    const statuses = (await Promise.all([replay(), replay()])).map((res) => res.statusCode).sort();
    expect(statuses).toEqual([202, 409]);
    expect((await replay()).statusCode).toBe(202);
  });

  it("M3 - a body trickled in is cut off at the request timeout (408)", async () => {
    const built = app({
      adminToken: ADMIN,
      limits: { ...HTTP_SERVER_LIMITS, headersTimeoutMs: 300, requestTimeoutMs: 600, timeoutCheckIntervalMs: 100 },
    });
    await built.listen({ host: "127.0.0.1", port: 0 });
    const port = (built.server.address() as { port: number }).port;
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, "127.0.0.1", () =>
        socket.write(
          `POST /v1/destinations/crm/dlq/replay HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\n` +
            "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
        ),
      );
      let text = "";
      socket.on("data", (chunk) => (text += chunk.toString()));
      socket.on("error", () => undefined);
      const timer = setTimeout(() => {
        socket.destroy();
        resolve("still open after 5 s");
      }, 5_000);
      socket.on("close", () => {
        clearTimeout(timer);
        resolve(text || "closed");
      });
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });
});
