import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Fastify from "fastify";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectNats,
  ensureStream,
  eventSubject,
  enrichedStreamConfig,
  hubStreamConfig,
  publishEvent,
} from "@tributary/streams";
import { freePorts, startNatsServer, startService, type NatsServer } from "@tributary/testkit";

const AGGREGATOR_MAIN = fileURLToPath(import.meta.resolve("@tributary/aggregator/main"));
const DELIVERY_MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const ADMIN_TOKEN = "admin-token-0123456789abcdef";
const OPERATOR_TOKEN = "operator-token-0123456789abcdef";

let dir: string;
let server: NatsServer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tributary-delivery-e2e-"));
  server = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
});
afterAll(async () => {
  await server?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("hub side end to end - delivery process and aggregator", () => {
  it("events reach the warehouse and a destination; every attempt (a retry included) is queryable in the warehouse's delivery log", async () => {
    const nc = await connectNats({ servers: [server.url], name: "e2e" });
    // The hub stream takes events.> directly (no region to source); the aggregator's enrich stage
    // writes the enriched stream, which the delivery process and the loader read.
    const jsm = await jetstreamManager(nc);
    const hub = hubStreamConfig({ regions: [] });
    await ensureStream(jsm, { ...hub, subjects: [...(hub.subjects ?? []), "events.>"] });
    await ensureStream(jsm, enrichedStreamConfig());
    const seen = new Map<string, number>();
    const dest = Fastify({ forceCloseConnections: true });
    dest.post("/in", async (request, reply) => {
      const id = String(request.headers["webhook-id"]);
      seen.set(id, (seen.get(id) ?? 0) + 1);
      return reply.code(seen.get(id) === 1 && id.endsWith("-3") ? 503 : 200).send(); // one event needs a retry
    });
    const url = `${await dest.listen({ host: "127.0.0.1", port: 0 })}/in`;
    const [deliveryPort, aggregatorPort] = await freePorts(2);
    const configPath = join(dir, "delivery.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        port: deliveryPort,
        adminToken: { env: "ADMIN_TOKEN" },
        allowPrivate: ["127.0.0.0/8"], // the test destinations are on loopback
        destinations: [
          { name: "crm", url, start: "all", signing: { type: "none" }, retry: { initialDelayMs: 50, maxDelayMs: 100 } },
        ],
      }),
    );
    // Stats, the delivery log and the admin API want their tokens.
    const aggregatorConfig = join(dir, "aggregator.json");
    writeFileSync(aggregatorConfig, JSON.stringify({ operatorToken: { env: "OPERATOR_TOKEN" } }));
    const delivery = await startService({
      name: "delivery",
      entry: DELIVERY_MAIN,
      env: { TRIBUTARY_CONFIG: configPath, TRIBUTARY_NATS_URL: server.url, TRIBUTARY_LOG_LEVEL: "warn", ADMIN_TOKEN },
      readyUrl: `http://127.0.0.1:${deliveryPort}/readyz`,
    });
    // Started after the delivery process, which creates the DELIVERIES stream the aggregator loads.
    const aggregator = await startService({
      name: "aggregator",
      entry: AGGREGATOR_MAIN,
      env: {
        TRIBUTARY_CONFIG: aggregatorConfig,
        OPERATOR_TOKEN,
        TRIBUTARY_NATS_URL: server.url,
        TRIBUTARY_PORT: String(aggregatorPort),
        TRIBUTARY_WAREHOUSE_URL: `duckdb://${join(dir, "w.duckdb")}`,
        TRIBUTARY_LOG_LEVEL: "warn",
      },
      readyUrl: `http://127.0.0.1:${aggregatorPort}/readyz`,
    });
    try {
      const js = jetstream(nc);
      const keys: string[] = [];
      for (let i = 0; i < 20; i++) {
        const key = `demo:x-${i}`;
        keys.push(key);
        await publishEvent(js, {
          subject: eventSubject("us", "demo", "link.clicked"),
          body: new TextEncoder().encode(
            JSON.stringify({
              event: "link.clicked",
              timestamp: new Date().toISOString(),
              data: { link_id: `lnk_${i}` },
            }),
          ),
          eventKey: key,
          source: "demo",
          region: "us",
          eventType: "link.clicked",
          receivedAt: new Date(),
        });
      }
      const api = `http://127.0.0.1:${aggregatorPort}`;
      const operator = { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } };
      await until(
        async () => ((await (await fetch(`${api}/v1/stats`, operator)).json()) as { rows: number }).rows === 20,
        "20 rows in the warehouse",
      );
      await until(() => keys.every((k) => seen.has(k)), "20 events at the destination");
      await until(
        async () =>
          ((await (await fetch(`${api}/v1/deliveries?destination=crm`, operator)).json()) as { total: number })
            .total === 21,
        "21 attempts in the delivery log",
      );
      const history = (await (await fetch(`${api}/v1/deliveries?event_key=demo:x-3`, operator)).json()) as {
        data: Array<{ attempt: number; outcome: string; status: number }>;
      };
      expect(history.data.map((d) => [d.attempt, d.outcome, d.status])).toEqual([
        [2, "delivered", 200],
        [1, "retry", 503],
      ]);
      const stats = (await (
        await fetch(`http://127.0.0.1:${deliveryPort}/v1/stats`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        })
      ).json()) as {
        destinations: { crm: { delivered: number; retried: number; consumer: { pending: number } } };
      };
      expect(stats.destinations.crm).toMatchObject({ delivered: 20, retried: 1, consumer: { pending: 0 } });
    } finally {
      expect(await delivery.stop()).toBe(0);
      expect(await aggregator.stop()).toBe(0);
      await dest.close();
      await nc.close();
    }
  });
});
