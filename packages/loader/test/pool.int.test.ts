import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterEach, describe, expect, it } from "vitest";
import { createEnricher, openGeoDatabase, type Enricher } from "@tributary/enrich";
import { ensureConsumer, loaderConsumerConfig } from "@tributary/streams";
import { waitFor } from "@tributary/testkit";
import { DuckDbSink } from "@tributary/warehouse";
import { MappingPool, rowFromMessage } from "../src/index.js";
import { wireParts } from "../src/packed.js";
import { LoaderBench } from "./harness.js";

const enricherOf = (): Enricher =>
  createEnricher({
    geo: openGeoDatabase(),
    ip: { mode: "truncate" },
    suspicious: [{ rule: "bot" }, { rule: "burst", maxPerMinute: 3 }],
    visitorKey: new Uint8Array(32).fill(9),
  });

/** Clicks from a few visitors (so uniqueness and bursts have something to decide), and some poison. */
function body(i: number): string {
  if (i % 97 === 13) return "{not json";
  if (i % 89 === 5) return JSON.stringify({ event: "link.clicked", timestamp: "not a time", data: {} });
  const ua =
    i % 5 === 0
      ? "Twitterbot/1.0"
      : `Mozilla/5.0 (X11; Linux x86_64; rv:${120 + (i % 3)}.0) Gecko/20100101 Firefox/120.0`;
  return JSON.stringify({
    event: "link.clicked",
    timestamp: new Date(Date.UTC(2026, 11, 7, 10, Math.floor(i / 50))).toISOString(),
    data: { link_id: `l${i % 4}`, ip: `203.0.113.${i % 6}`, user_agent: ua, referrer: "https://t.co/x" },
  });
}

/** Every column but the load stamps, and the rollup's sums, as JSON-safe values. */
async function contents(path: string): Promise<unknown> {
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  const read = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjectsJS();
  const events = await read(
    "SELECT * EXCLUDE (loaded_at, load_seq) REPLACE (occurred_at::VARCHAR AS occurred_at, received_at::VARCHAR AS received_at, payload::VARCHAR AS payload) FROM events ORDER BY event_key",
  );
  const rollup = await read(
    "SELECT minute::VARCHAR AS m, campaign, country, device, sum(events)::INT AS e, sum(unique_events)::INT AS u, sum(suspicious_events)::INT AS s FROM events_rollup_minute GROUP BY ALL ORDER BY ALL",
  );
  const sums = await read(
    "SELECT count(*)::INT AS e, count(*) FILTER (is_unique)::INT AS u, count(*) FILTER (is_suspicious)::INT AS s FROM events",
  );
  c.closeSync();
  instance.closeSync();
  return JSON.parse(
    JSON.stringify({ events, rollup, sums }, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v)),
  );
}

describe("the mapping pool (parse, validate, map and enrich on worker threads)", () => {
  const benches: LoaderBench[] = [];
  const pools: MappingPool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
    await Promise.all(benches.splice(0).map((b) => b.close()));
  });

  /** One backlog loaded by a fresh loader (through `pool`, or on its own thread), and what it left. */
  async function load(pool: MappingPool | undefined, enricher: Enricher) {
    const dir = mkdtempSync(join(tmpdir(), "tributary-pool-"));
    const path = join(dir, "w.duckdb");
    const b = await LoaderBench.start(() => DuckDbSink.open(path));
    benches.push(b);
    const keys = await b.publish(3_000, { body, headers: { "Tributary-Received-At": "2026-12-07T10:00:00.000Z" } });
    const poison = keys.filter((_, i) => i % 97 === 13 || i % 89 === 5).length;
    const { loader, close } = await b.loader(
      pool ? { mapper: pool, toRow: undefined } : { toRow: (msg) => rowFromMessage(msg, enricher) },
    );
    await waitFor(
      "the backlog loaded",
      async () => (loader.counters.loaded === 3_000 - poison && (await b.dlqCount()) === poison ? true : undefined),
      40_000,
    );
    expect(await b.sink.countEvents()).toBe(3_000 - poison);
    const counters = { ...loader.counters };
    await close();
    await b.sink.close();
    return { contents: await contents(path), counters, dlq: await b.dlqCount() };
  }

  it("exactly once, the same rows, verdicts, rollups and DLQ entries as mapping on the loader's thread, for 1 and 2 workers", async () => {
    const inThread = await load(undefined, enricherOf());
    for (const workers of [1, 2]) {
      const enricher = enricherOf();
      const pool = new MappingPool({ workers, enricher });
      pools.push(pool);
      const pooled = await load(pool, enricher);
      expect(pooled.contents).toEqual(inThread.contents);
      expect(pooled.dlq).toBe(inThread.dlq);
      expect(pooled.counters.poison).toBe(inThread.counters.poison);
      expect(pooled.counters.loaded).toBe(inThread.counters.loaded);
    }
    const { sums } = inThread.contents as { sums: Array<{ e: number; u: number; s: number }> };
    expect(sums[0]!.u).toBeGreaterThan(0);
    expect(sums[0]!.s).toBeGreaterThan(0);
    expect(sums[0]!.u + sums[0]!.s).toBeLessThan(sums[0]!.e);
  }, 150_000);

  it("the loader's thread packs nats.js's own wire bytes (no decoding of subjects or headers there)", async () => {
    const b = await LoaderBench.start();
    benches.push(b);
    await b.publish(1);
    await ensureConsumer(
      b.jsm,
      "EVENTS",
      loaderConsumerConfig({ durable: "peek", maxAckPending: 10, ackWaitMs: 5_000 }),
    );
    const consumer = await b.js.consumers.get("EVENTS", "peek");
    const msg = await consumer.next({ expires: 5_000 });
    const parts = msg && wireParts(msg);
    expect(parts).toBeDefined();
    expect(new TextDecoder().decode(parts!.subject)).toBe("events.us.demo.link.clicked");
    expect(new TextDecoder().decode(parts!.headers)).toContain("Nats-Msg-Id: demo:e-0");
    msg!.ack();
  });

  it("an enricher whose lookups only this thread has is refused", () => {
    const enricher = createEnricher({
      geo: { databaseType: "x", lookup: () => ({ country: null, region: null }) },
      ip: { mode: "truncate" },
    });
    expect(() => new MappingPool({ workers: 1, enricher })).toThrow(/cannot be rebuilt on a worker/);
  });
});
