import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyEnrichment, type WarehouseRow } from "@tributary/schema";
import { freePorts, startClickHouse, startService, type ClickHouseTestServer, type Service } from "@tributary/testkit";
import { ClickHouseSink } from "@tributary/warehouse";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const TOKEN = "acme-token-0123456789abcdef";

function row(n: number, source: string): WarehouseRow {
  const at = new Date(Date.UTC(2026, 10, 29, 12, n % 3));
  return {
    event_key: `${source}:e${n}`,
    source,
    event_id: `e${n}`,
    event_type: "link.clicked",
    schema_version: null,
    occurred_at: at,
    received_at: at,
    region: "us",
    region_seq: n,
    payload: JSON.stringify({ event: "link.clicked", data: { n } }),
    enriched: { ...emptyEnrichment(), geo_country: "US", device_type: n % 2 ? "mobile" : "desktop" },
  };
}

describe("standalone API on ClickHouse (real processes)", () => {
  let server: ClickHouseTestServer;
  let api: Service | undefined;
  let dir: string;
  let url: string;

  beforeAll(async () => {
    server = await startClickHouse();
    const sink = await ClickHouseSink.open(server.url("apidb"));
    await sink.migrate();
    await sink.insertBatch(Array.from({ length: 120 }, (_, i) => row(i, "acme")));
    await sink.insertBatch(Array.from({ length: 30 }, (_, i) => row(i, "globex")));
    await sink.insertBatch(Array.from({ length: 60 }, (_, i) => row(i, "acme"))); // a resend
    await sink.close();
    dir = mkdtempSync(join(tmpdir(), "tributary-api-standalone-"));
    const [port] = await freePorts(1);
    url = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, "api.json"),
      JSON.stringify({
        host: "127.0.0.1",
        port,
        logLevel: "warn",
        warehouseUrl: server.url("apidb"),
        tokens: [{ id: "acme", env: "ACME_TOKEN", sources: ["acme"] }],
      }),
    );
    api = await startService({
      name: "api",
      entry: MAIN,
      env: { TRIBUTARY_CONFIG: join(dir, "api.json"), ACME_TOKEN: TOKEN },
      readyUrl: `${url}/readyz`,
    });
  });
  afterAll(async () => {
    await api?.kill();
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.status, body: (await res.json()) as any };
  };

  it("standalone - pages every row once, analytics equal the distinct rows, scope and params enforced", async () => {
    const keys: string[] = [];
    let cursor: string | null = null;
    do {
      const { status, body } = await get(`/v1/events?limit=50${cursor ? `&cursor=${cursor}` : ""}`);
      expect(status).toBe(200);
      keys.push(...body.data.map((e: { event_key: string }) => e.event_key));
      cursor = body.next_cursor;
    } while (cursor);
    expect(keys).toHaveLength(120);
    expect(new Set(keys).size).toBe(120);
    const devices = (await get("/v1/analytics/devices")).body;
    expect(Object.fromEntries(devices.data.map((r: { key: string; events: number }) => [r.key, r.events]))).toEqual({
      mobile: 60,
      desktop: 60,
    });
    expect(devices.freshness.newest_loaded_at).toMatch(/Z$/);
    expect((await get("/v1/analytics/minutes")).body.data.map((r: { events: number }) => r.events)).toEqual([
      40, 40, 40,
    ]);
    expect((await get("/v1/events?source=globex")).status).toBe(403);
    expect((await get("/v1/events?received_to=soon")).body.error).toMatchObject({
      code: "invalid_parameter",
      field: "received_to",
    });
    expect((await fetch(`${url}/v1/events`)).status).toBe(401);
  });
});
