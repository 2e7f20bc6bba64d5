import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyEnrichment, type WarehouseRow } from "@tributary/schema";
import { DuckDbSink, type EventQueries } from "@tributary/warehouse";
import { registerQueryApi, type QueryApiDeps } from "../src/index.js";

const DEMO = "demo-token-0123456789abcdef";
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

/** A stored event whose payload is `bytes` long (a padded string in the body). */
function row(n: number, source: string, bytes: number): WarehouseRow {
  const at = new Date(Date.UTC(2026, 10, 29, 12, n % 60));
  const payload = JSON.stringify({ event: "link.clicked", data: { n, pad: "x".repeat(Math.max(0, bytes - 60)) } });
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
    payload,
    enriched: emptyEnrichment(),
  };
}

describe("query API - hardening", () => {
  let dir: string;
  let sink: DuckDbSink;
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tributary-api-hardening-"));
    sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    await sink.migrate();
    // 40 events of ~100 KB each in "demo", a few small ones in "other".
    await sink.insertBatch(Array.from({ length: 40 }, (_, i) => row(i, "demo", 100_000)));
    await sink.insertBatch(Array.from({ length: 3 }, (_, i) => row(i, "other", 200)));
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function build(deps: Partial<QueryApiDeps> = {}): Promise<FastifyInstance> {
    const app = Fastify();
    apps.push(app);
    await registerQueryApi(app, {
      queries: sink,
      tokens: [{ id: "demo", token: DEMO, sources: ["demo"] }],
      rateLimit: { max: 10_000, windowMs: 60_000 },
      ...deps,
    });
    await app.ready();
    return app;
  }

  it("L1 - /v1/events/:key answers the same 404 for another source's event as for one that does not exist", async () => {
    const app = await build();
    const exists = await app.inject({ url: "/v1/events/other%3Ae1", headers: auth(DEMO) });
    const missing = await app.inject({ url: "/v1/events/other%3Anope", headers: auth(DEMO) });
    expect(exists.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    // Nothing in the answer tells the two apart: not the code, not the message, not the field.
    const strip = (body: string) => body.replace("other:e1", "KEY").replace("other:nope", "KEY");
    expect(strip(exists.body)).toBe(strip(missing.body));
    expect(exists.json()).toMatchObject({ error: { code: "not_found" } });
    // The token's own event is there.
    expect((await app.inject({ url: "/v1/events/demo%3Ae1", headers: auth(DEMO) })).statusCode).toBe(200);
  });

  it("L1 - failed authentication is rate limited per address: wrong tokens count, and beyond the limit it is 429 before any check", async () => {
    const app = await build({ rateLimit: { max: 3, windowMs: 60_000 } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push(
        (await app.inject({ url: "/v1/events", remoteAddress: "10.0.0.9", headers: auth(`guess-${i}-0123456789abc`) }))
          .statusCode,
      );
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    // Guesses from one address do not lock a real token out: its own budget is untouched.
    expect((await app.inject({ url: "/v1/events", remoteAddress: "10.0.0.9", headers: auth(DEMO) })).statusCode).toBe(
      200,
    );
  });

  it("L2 - anonymous loopback reads are for 127.0.0.1 and ::1 only, not 127.0.0.6 (a mesh sidecar's source address)", async () => {
    const app = await build({ anonymousLoopback: true });
    expect((await app.inject({ url: "/v1/events?limit=1", remoteAddress: "127.0.0.1" })).statusCode).toBe(200);
    expect((await app.inject({ url: "/v1/events?limit=1", remoteAddress: "::1" })).statusCode).toBe(200);
    for (const remoteAddress of ["127.0.0.6", "127.1.0.1", "::ffff:127.0.0.6"])
      expect([remoteAddress, (await app.inject({ url: "/v1/events?limit=1", remoteAddress })).statusCode]).toEqual([
        remoteAddress,
        401,
      ]);
  });

  it("M7 - list pages leave the payload out unless include_payload=true", async () => {
    const app = await build();
    const plain = (await app.inject({ url: "/v1/events?limit=2", headers: auth(DEMO) })).json();
    expect(plain.data).toHaveLength(2);
    for (const event of plain.data) {
      expect(event).not.toHaveProperty("payload");
      expect(event).toMatchObject({ object: "event", source: "demo" });
    }
    expect(Buffer.byteLength(JSON.stringify(plain))).toBeLessThan(10_000);
    const full = (await app.inject({ url: "/v1/events?limit=2&include_payload=true", headers: auth(DEMO) })).json();
    expect(full.data[0].payload).toMatchObject({ event: "link.clicked" });
  });

  it("M7 - a page stops at the byte budget and returns the cursor; paging on reaches every row once, and the warehouse is never asked for more than the budget holds", async () => {
    const asked: number[] = [];
    // The real warehouse, with the page sizes it is asked for written down.
    const queries: EventQueries = {
      listEvents: (filter, page) => {
        asked.push(page.limit);
        return sink.listEvents(filter, page);
      },
      getEvent: (key) => sink.getEvent(key),
      analytics: (query) => sink.analytics(query),
      revenue: (query) => sink.revenue(query),
      freshness: (sources) => sink.freshness(sources),
    };
    const app = await build({ queries, maxPageBytes: 1_000_000 });
    const keys: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { statusCode: number; body: string; json(): any } = await app.inject({
        url: `/v1/events?limit=1000&include_payload=true${cursor ? `&cursor=${cursor}` : ""}`,
        headers: auth(DEMO),
      });
      expect(res.statusCode).toBe(200);
      // One row may cross the line; no page is much over the budget.
      expect(res.body.length).toBeLessThan(1_000_000 + 110_000);
      const body = res.json() as { data: Array<{ event_key: string }>; next_cursor: string | null };
      keys.push(...body.data.map((e) => e.event_key));
      cursor = body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(4);
    expect(keys).toHaveLength(40);
    expect(new Set(keys).size).toBe(40);
    // Rows are ~100 KB: no single read may ask for more than the 1 MB budget can hold (plus the first probe).
    expect(Math.max(...asked)).toBeLessThanOrEqual(16);
  });
});
