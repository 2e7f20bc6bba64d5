import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "@tributary/config";
import { HTTP_SERVER_LIMITS } from "@tributary/runtime";
import { emptyEnrichment } from "@tributary/schema";
import { startTelemetry, type Telemetry } from "@tributary/telemetry";
import { DuckDbSink } from "@tributary/warehouse";
import { buildAggregatorHttp, buildHttp } from "../src/app.js";
import { loadAggregatorSettings, type AggregatorSettings } from "../src/config.js";

const OPERATOR = "operator-token-0123456789abcdef";
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The aggregator's settings from a config file, the way main loads them. */
function settingsFrom(dir: string, config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): AggregatorSettings {
  const file = join(dir, `aggregator-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ warehouseUrl: `duckdb://${join(dir, "w.duckdb")}`, ...config }));
  return loadAggregatorSettings(env, file);
}

describe("aggregator HTTP - fails closed", () => {
  let dir: string;
  let sink: DuckDbSink;
  let telemetry: Telemetry;
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tributary-agg-closed-"));
    sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    await sink.migrate();
    const at = new Date();
    await sink.insertBatch([
      {
        event_key: "demo:e1",
        source: "demo",
        event_id: "e1",
        event_type: "link.clicked",
        schema_version: null,
        occurred_at: at,
        received_at: at,
        region: "us",
        region_seq: 1,
        payload: JSON.stringify({ event: "link.clicked", data: { ip: "203.0.113.7" } }),
        enriched: emptyEnrichment(),
      },
    ]);
    telemetry = startTelemetry({ serviceName: "tributary-aggregator", serviceVersion: "0", env: {} });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await sink?.close();
    await telemetry?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  async function aggregator(config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<FastifyInstance> {
    const app = buildAggregatorHttp(settingsFrom(dir, config, env), sink, telemetry, () => undefined);
    apps.push(app);
    await app.ready();
    return app;
  }

  it("H4 - api.enabled false no longer serves events without a token", async () => {
    const app = await aggregator({ api: { enabled: false } });
    for (const remoteAddress of ["10.0.0.5", "127.0.0.1"]) {
      const res = await app.inject({ url: "/v1/events?limit=1000", remoteAddress });
      expect([remoteAddress, res.statusCode]).not.toEqual([remoteAddress, 200]);
      expect(res.body).not.toContain("203.0.113.7");
    }
  });

  it("L2 - without operatorLoopback a loopback caller gets no operator endpoint without the token (an in-pod forwarder is loopback)", async () => {
    const app = await aggregator({});
    for (const url of ["/v1/reconcile/us/ranges", "/v1/deliveries"]) {
      const res = await app.inject({ url, remoteAddress: "127.0.0.1" });
      expect([url, res.statusCode]).toEqual([url, 403]);
      expect(res.json()).toMatchObject({ error: { code: "operator_token_required" } });
    }
  });

  it("L2 - operatorLoopback (local development) lets exactly 127.0.0.1 and ::1 through, not 127.0.0.6", async () => {
    const app = await aggregator({ operatorLoopback: true });
    for (const remoteAddress of ["127.0.0.1", "::1"])
      expect((await app.inject({ url: "/v1/reconcile/us/ranges", remoteAddress })).statusCode).toBe(200);
    for (const remoteAddress of ["127.0.0.6", "::ffff:127.0.0.6", "10.0.0.5"])
      expect([remoteAddress, (await app.inject({ url: "/v1/reconcile/us/ranges", remoteAddress })).statusCode]).toEqual(
        [remoteAddress, 403],
      );
  });

  it("L2 - operatorLoopback and api.anonymousLoopback need a loopback listen address (a config error, not a silent opening)", () => {
    for (const config of [
      { host: "0.0.0.0", operatorLoopback: true },
      { host: "0.0.0.0", api: { anonymousLoopback: true } },
    ]) {
      let caught: unknown;
      try {
        settingsFrom(dir, config);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).field).toMatch(/^(operatorLoopback|api\.anonymousLoopback)$/);
    }
  });

  it("M5 - /v1/stats and /metrics need the operator token, from loopback too", async () => {
    const app = await aggregator({ operatorToken: { env: "OPERATOR_TOKEN" } }, { OPERATOR_TOKEN: OPERATOR });
    for (const url of ["/v1/stats", "/metrics"]) {
      for (const remoteAddress of ["127.0.0.1", "10.0.0.5"])
        expect([url, remoteAddress, (await app.inject({ url, remoteAddress })).statusCode]).toEqual([
          url,
          remoteAddress,
          401,
        ]);
      expect((await app.inject({ url, remoteAddress: "10.0.0.5", headers: bearer(OPERATOR) })).statusCode).toBe(200);
    }
    // The probes stay open: Kubernetes calls them without credentials.
    expect((await app.inject({ url: "/healthz", remoteAddress: "10.0.0.5" })).statusCode).toBe(200);
  });

  it("M3 - a body trickled in is cut off at the request timeout (408)", async () => {
    const app = buildHttp({
      reader: sink,
      loader: () => undefined,
      reconcile: sink,
      operatorToken: OPERATOR,
      limits: { ...HTTP_SERVER_LIMITS, headersTimeoutMs: 300, requestTimeoutMs: 600, timeoutCheckIntervalMs: 100 },
    });
    apps.push(app);
    await app.listen({ host: "127.0.0.1", port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, "127.0.0.1", () =>
        socket.write(
          `POST /v1/reconcile/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OPERATOR}\r\n` +
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
