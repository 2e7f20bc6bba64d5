import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAggregatorHttp } from "@tributary/aggregator";
import { loadAggregatorSettings } from "@tributary/aggregator/config";
import { buildApiApp } from "@tributary/api/app";
import { buildApp as buildDeliveryApp, DeliveryService, loadDeliveryConfig } from "@tributary/delivery-app";
import { buildGateway, resolveGatewayConfig } from "@tributary/gateway";
import { OWN_AUTH } from "@tributary/runtime";
import { connectNats, enrichedStreamConfig, ensureStream } from "@tributary/streams";
import { startTelemetry, type Telemetry } from "@tributary/telemetry";
import { startNatsServer, type NatsServer } from "@tributary/testkit";
import { DuckDbSink } from "@tributary/warehouse";
import { key, openRoutes, readRoutes, type Route } from "./route-table.js";

/**
 * The routes anyone may call, as docs/architecture.md lists them (between its `public-routes`
 * markers): read from the document, so the test and the documentation cannot drift apart.
 */
function documentedPublicRoutes(): Set<string> {
  const doc = readFileSync(new URL("../../../docs/architecture.md", import.meta.url), "utf8");
  const block = /<!-- public-routes -->([\s\S]*?)<!-- \/public-routes -->/.exec(doc)?.[1] ?? "";
  const routes = new Set<string>();
  for (const [, methods, url] of block.matchAll(/`((?:[A-Z]+\/)*[A-Z]+) (\/[^`\s]*)`/g))
    for (const method of methods!.split("/")) routes.add(`${method} ${url}`);
  return routes;
}

const API_TOKEN = "api-token-0123456789abcdef";
const OPERATOR_TOKEN = "operator-token-0123456789abcdef";
const ADMIN_TOKEN = "admin-token-0123456789abcdef";
const SOURCE_SECRET = "source-secret-0123456789abcdef";

let dir: string;
let nats: NatsServer;
let sink: DuckDbSink;
let telemetry: Telemetry;
let service: DeliveryService;
let closeNats: () => Promise<void>;
const apps: FastifyInstance[] = [];
let files = 0;

function configFile(config: Record<string, unknown>): string {
  const file = join(dir, `config-${files++}.json`);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** The routes of an app as built, and the ones that answered without credentials. */
async function check(
  app: FastifyInstance,
  from?: readonly string[],
): Promise<{ seen: Route[]; table: Route[]; open: string[] }> {
  apps.push(app);
  const { seen, table } = await readRoutes(app);
  const all = new Map([...table, ...seen].map((route) => [key(route), route]));
  const publicRoutes = documentedPublicRoutes();
  const guarded = [...all.values()].filter((route) => !publicRoutes.has(key(route)));
  return { seen, table, open: await openRoutes(app, guarded, from) };
}

const sorted = (routes: readonly Route[]) => routes.map(key).sort();

const aggregator = (config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
  buildAggregatorHttp(
    loadAggregatorSettings(
      { OPERATOR_TOKEN, API_TOKEN, ...env },
      configFile({ warehouseUrl: `duckdb://${join(dir, "w.duckdb")}`, ...config }),
    ),
    sink,
    telemetry,
    () => undefined,
  );

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tributary-routes-"));
  sink = await DuckDbSink.open(join(dir, "w.duckdb"));
  await sink.migrate();
  telemetry = startTelemetry({ serviceName: "tributary-routes", serviceVersion: "0", env: {} });
  // The delivery process needs NATS at build time: its deliverers and the streams they read.
  nats = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
  const nc = await connectNats({ servers: [nats.url], name: "routes" });
  // The stream destinations read (the aggregator's enrich stage writes it).
  await ensureStream(await jetstreamManager(nc), enrichedStreamConfig());
  const loaded = loadDeliveryConfig(
    { TRIBUTARY_NATS_URL: nats.url },
    configFile({
      destinations: [
        // Nothing is published in this test, so nothing is ever sent (and .invalid never resolves).
        { name: "crm", url: "https://crm.invalid/in", start: "new", signing: { type: "none" } },
      ],
    }),
  );
  service = await DeliveryService.start({
    nc,
    destinations: loaded.config.destinations,
    signingKeys: loaded.signingKeys,
    ackWaitMs: loaded.config.ackWaitMs,
    manageStreams: true,
    log: { info() {}, warn() {}, error() {} },
  });
  closeNats = async () => {
    await service.stop();
    await nc.drain();
  };
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await closeNats?.();
  await sink?.close();
  await telemetry?.shutdown();
  await nats?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("every route of every app refuses a request without credentials unless it is public", () => {
  it("the documented public list is the ingest routes, the probes and the console's static files", () => {
    expect([...documentedPublicRoutes()].sort()).toEqual(
      [
        "GET /console",
        "GET /console/",
        "GET /console/*",
        "HEAD /console",
        "HEAD /console/",
        "HEAD /console/*",
        "GET /healthz",
        "GET /readyz",
        "HEAD /healthz",
        "HEAD /readyz",
        "POST /v1/sources/:sourceId/batch",
        "POST /v1/sources/:sourceId/events",
      ].sort(),
    );
  });

  it("H4 - aggregator with its tokens (production): nothing open", async () => {
    const { seen, table, open } = await check(
      aggregator({
        host: "0.0.0.0",
        api: { tokens: [{ id: "reader", env: "API_TOKEN", sources: ["*"] }] },
        operatorToken: { env: "OPERATOR_TOKEN" },
      }),
    );
    expect(open).toEqual([]);
    // Every route went through the onRoute hooks, so through the deny-by-default guard too.
    expect(sorted(seen)).toEqual(sorted(table));
    expect(sorted(seen)).toEqual(expect.arrayContaining(["GET /metrics", "GET /v1/stats", "GET /v1/events"]));
  });

  it("H4 - aggregator with api.enabled false and no token at all: nothing open, and no /v1/events", async () => {
    const { seen, table, open } = await check(aggregator({ api: { enabled: false } }));
    expect(open).toEqual([]);
    expect(sorted(seen)).toEqual(sorted(table));
    expect(sorted(table)).not.toContain("GET /v1/events");
  });

  it("H4 - aggregator with the local-development switches on: nothing open to a remote caller", async () => {
    const { open } = await check(aggregator({ operatorLoopback: true, api: { anonymousLoopback: true } }), [
      "10.0.0.5",
      "127.0.0.6",
    ]);
    expect(open).toEqual([]);
  });

  it("H4 - delivery with its admin token, and without one: nothing open", async () => {
    for (const adminToken of [ADMIN_TOKEN, undefined]) {
      const { seen, table, open } = await check(
        buildDeliveryApp({
          service: () => service,
          natsConnected: () => true,
          adminToken,
          telemetry,
        }),
      );
      expect(open).toEqual([]);
      expect(sorted(seen)).toEqual(sorted(table));
      expect(sorted(seen)).toEqual(
        expect.arrayContaining(["GET /metrics", "GET /v1/stats", "POST /v1/destinations/:name/replay"]),
      );
    }
  });

  it("H4 - standalone API: nothing open", async () => {
    const { seen, table, open } = await check(
      buildApiApp({ warehouse: sink, tokens: [{ id: "reader", token: API_TOKEN, sources: ["*"] }] }),
    );
    expect(open).toEqual([]);
    expect(sorted(seen)).toEqual(sorted(table));
    expect(sorted(seen)).toEqual(expect.arrayContaining(["GET /v1/events", "GET /v1/openapi.json"]));
  });

  it("gateway: only its ingest routes and probes are open on its public port (/v1/stats and /metrics are on its operations port)", async () => {
    const config = resolveGatewayConfig(
      {
        region: "us",
        sources: {
          demo: { scheme: { type: "webhook-hmac-sha256" }, secrets: [{ id: "k1", env: "DEMO_SECRET" }] },
        },
      },
      { DEMO_SECRET: SOURCE_SECRET },
    );
    const { app } = buildGateway({ config, telemetry, stream: () => undefined });
    const { table, open } = await check(app);
    expect(sorted(table)).toEqual(
      expect.arrayContaining(["POST /v1/sources/:sourceId/events", "POST /v1/sources/:sourceId/batch"]),
    );
    expect(open).toEqual([]);
  });
});

describe("the route list is read from each app, not kept by hand", () => {
  it("a route added to an app that answers without credentials is reported", async () => {
    const app = aggregator({ operatorToken: { env: "OPERATOR_TOKEN" } });
    // As a later change might: a route claiming its own auth that has none.
    void app.register(async (extra) => {
      extra.get("/v1/debug/rows", { config: { ...OWN_AUTH } }, async () => ({ rows: [] }));
    });
    const { open } = await check(app, ["10.0.0.5"]);
    expect(open).toEqual([
      "GET /v1/debug/rows answered 200 to 10.0.0.5 without credentials",
      "HEAD /v1/debug/rows answered 200 to 10.0.0.5 without credentials",
    ]);
  });

  it("a route registered where no onRoute hook sees it is still in the table, and is checked", async () => {
    const app = Fastify();
    app.get("/v1/early", async () => ({ early: true }));
    void app.register(async (later) => {
      later.get("/v1/later", async () => ({ later: true }));
    });
    const { seen, table, open } = await check(app, ["10.0.0.5"]);
    expect(sorted(seen)).toEqual(["GET /v1/later", "HEAD /v1/later"]);
    expect(sorted(table)).toEqual(["GET /v1/early", "GET /v1/later", "HEAD /v1/early", "HEAD /v1/later"]);
    expect(open).toHaveLength(4);
  });
});
