import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { WarehouseRow } from "@tributary/schema";
import { ClickHouseSink, openWarehouse, WarehouseError } from "../src/index.js";
import { startClickHouse, type ClickHouseTestServer } from "@tributary/testkit";

function row(key: string, overrides: Partial<WarehouseRow> = {}): WarehouseRow {
  return {
    event_key: key,
    source: "demo",
    event_id: key.slice(key.indexOf(":") + 1),
    event_type: "link.clicked",
    schema_version: null,
    occurred_at: new Date("2026-03-04T14:32:08.441Z"),
    received_at: new Date("2026-03-04T14:32:09.007Z"),
    region: "us",
    region_seq: 1,
    payload: JSON.stringify({ event: "link.clicked", data: { link_id: key } }),
    ...overrides,
  };
}

async function expectWarehouseError(promise: Promise<unknown>, code: WarehouseError["code"]): Promise<WarehouseError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WarehouseError);
  expect((err as WarehouseError).code).toBe(code);
  return err as WarehouseError;
}

describe("clickhouse sink (real server)", () => {
  let server: ClickHouseTestServer;
  let sink: ClickHouseSink;
  let dbCounter = 0;
  let database: string;

  /** Plain SQL straight to the server, past the sink. */
  async function sql(query: string): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/`, { method: "POST", body: query });
    const text = await res.text();
    if (!res.ok) throw new Error(`${res.status} ${text}`);
    return text.trim();
  }

  async function freshSink(params = ""): Promise<ClickHouseSink> {
    database = `t${++dbCounter}`;
    sink = await ClickHouseSink.open(server.url(database) + params);
    await sink.migrate();
    return sink;
  }

  beforeAll(async () => {
    server = await startClickHouse();
  });
  afterAll(async () => {
    await server?.dispose();
  });
  afterEach(async () => {
    await sink?.close();
  });

  it("migrate - detects 18.16 and creates the epoch-ms layout, safe to repeat", async () => {
    await freshSink();
    const info = await sink.server();
    expect(info.version).toMatch(/^18\.16\./);
    expect(info.features).toEqual({ dateTime64: false, dedupToken: false, ttl: false, removeTtl: false });
    expect(info.layout).toBe("epoch-ms");
    const ddl = await sql(`SHOW CREATE TABLE ${database}.events`);
    expect(ddl).toContain("ENGINE = ReplacingMergeTree ORDER BY event_key");
    expect(ddl).toContain("received_at_ms Int64");
    expect(ddl).not.toContain("DateTime64");
    await sink.migrate();
    await sink.health();
    expect(await sink.countEvents()).toBe(0);
  });

  it("insert - stores and reads back every column, milliseconds and nulls included", async () => {
    await freshSink();
    const odd = `demo:it's \\ "quoted"\n\t€`;
    const before = Date.now();
    const result = await sink.insertBatch([
      row("demo:a", { region_seq: Number.MAX_SAFE_INTEGER, schema_version: "2", region: "eu" }),
      row(odd, {
        occurred_at: null,
        received_at: new Date("2026-03-04T14:32:10.999Z"),
        payload: '{"emoji":"🦆","n":1.5}',
      }),
    ]);
    expect(result).toEqual({ inserted: 2, duplicates: 0 });
    const rows = await sink.recentEvents(10);
    expect(rows.map((r) => r.event_key)).toEqual([odd, "demo:a"]);
    expect(rows[1]).toMatchObject({
      event_key: "demo:a",
      source: "demo",
      event_id: "a",
      event_type: "link.clicked",
      schema_version: "2",
      occurred_at: "2026-03-04T14:32:08.441Z",
      received_at: "2026-03-04T14:32:09.007Z",
      region: "eu",
      region_seq: Number.MAX_SAFE_INTEGER,
      payload: { event: "link.clicked", data: { link_id: "demo:a" } },
    });
    expect(rows[0]).toMatchObject({
      event_key: odd,
      schema_version: null,
      occurred_at: null,
      received_at: "2026-03-04T14:32:10.999Z",
      payload: { emoji: "🦆", n: 1.5 },
    });
    const loadedAt = Date.parse(rows[0]!.loaded_at);
    expect(loadedAt).toBeGreaterThanOrEqual(before);
    expect(loadedAt).toBeLessThanOrEqual(Date.now());
    // The seconds column agrees with the exact one, for queries that use time functions.
    expect(
      await sql(
        `SELECT toUnixTimestamp(occurred_at), occurred_at_ms FROM ${database}.events WHERE event_key = 'demo:a'`,
      ),
    ).toBe("1772634728\t1772634728441");
    expect(await sink.countEvents({ source: "demo" })).toBe(2);
    expect(await sink.countEvents({ source: "other" })).toBe(0);
  });

  it("insert - a redelivered batch adds no row, not even an unmerged copy", async () => {
    await freshSink();
    // The key check sends keys as TabSeparated: tabs, newlines and backslashes must survive it.
    const batch = [row("demo:a"), row("demo:b\tc\\d\ne'f"), row("demo:\\N")];
    expect(await sink.insertBatch(batch)).toEqual({ inserted: 3, duplicates: 0 });
    expect(await sink.insertBatch([...batch, row("demo:d")])).toEqual({ inserted: 1, duplicates: 3 });
    expect(await sink.insertBatch(batch)).toEqual({ inserted: 0, duplicates: 3 });
    expect(await sink.countEvents()).toBe(4);
    expect(await sql(`SELECT count() FROM ${database}.events`)).toBe("4"); // without FINAL
  });

  it("insert - duplicates inside one batch become one row (the first wins)", async () => {
    await freshSink();
    expect(
      await sink.insertBatch([row("demo:x", { region_seq: 1 }), row("demo:x", { region_seq: 2 }), row("demo:y")]),
    ).toEqual({
      inserted: 2,
      duplicates: 1,
    });
    expect((await sink.eventKeys()).sort()).toEqual(["demo:x", "demo:y"]);
    expect((await sink.recentEvents(10)).find((r) => r.event_key === "demo:x")?.region_seq).toBe(1);
  });

  it("read - copies that slipped past the key check (a racing writer) read as one row with FINAL", async () => {
    await freshSink();
    await sink.insertBatch([row("demo:r", { region: "us" })]);
    // What a second aggregator racing this one could leave behind: another copy of the key.
    await sql(
      `INSERT INTO ${database}.events (event_key, source, event_id, event_type, received_at, received_at_ms, loaded_at, loaded_at_ms, region, region_seq, payload)
       VALUES ('demo:r', 'demo', 'r', 'link.clicked', 1772634729, 1772634729007, now(), 1772634730000, 'eu', 5, '{}')`,
    );
    expect(await sql(`SELECT count() FROM ${database}.events`)).toBe("2");
    expect(await sink.countEvents()).toBe(1);
    expect(await sink.eventKeys()).toEqual(["demo:r"]);
    expect(await sink.recentEvents(10)).toHaveLength(1);
    expect(await sink.insertBatch([row("demo:r")])).toEqual({ inserted: 0, duplicates: 1 });
    await sql(`OPTIMIZE TABLE ${database}.events FINAL`);
    expect(await sql(`SELECT count() FROM ${database}.events`)).toBe("1"); // merged for good
  });

  it("insert - a row the server cannot store is warehouse_rejected and nothing of the batch is written", async () => {
    await freshSink();
    const bad = row("demo:bad", { event_id: "lone \ud800 surrogate" });
    const err = await expectWarehouseError(sink.insertBatch([row("demo:ok"), bad]), "warehouse_rejected");
    expect(err.message).toMatch(/400/);
    expect(await sink.countEvents()).toBe(0);
    expect(await sink.insertBatch([row("demo:ok")])).toEqual({ inserted: 1, duplicates: 0 });
  });

  it("insert - big batches: the key check carries 20 000 keys past max_query_size; no compression works too", async () => {
    await freshSink("?compression=none&timeout_ms=20000");
    const batch = Array.from({ length: 20_000 }, (_, i) => row(`demo:${"k".repeat(24)}-${i}`, { region_seq: i }));
    const started = performance.now();
    expect(await sink.insertBatch(batch)).toEqual({ inserted: 20_000, duplicates: 0 });
    const ms = performance.now() - started;
    console.log(
      `clickhouse 18.16: 20000 rows in ${ms.toFixed(0)} ms (${Math.round(20_000 / (ms / 1000))} rows/s incl. key check)`,
    );
    expect(await sink.insertBatch(batch)).toEqual({ inserted: 0, duplicates: 20_000 });
    expect(await sink.countEvents()).toBe(20_000);
  });

  it("open - URL credentials; a wrong password is warehouse_unavailable without the password in the message", async () => {
    database = `t${++dbCounter}`;
    const { name, password } = server.user;
    const base = `clickhouse://${encodeURIComponent(name)}:${encodeURIComponent(password)}@127.0.0.1:${server.httpPort}/${database}`;
    sink = (await openWarehouse(base)) as ClickHouseSink;
    expect(sink).toBeInstanceOf(ClickHouseSink);
    await sink.migrate();
    expect(await sink.insertBatch([row("demo:u")])).toEqual({ inserted: 1, duplicates: 0 });
    const wrong = await ClickHouseSink.open(`clickhouse://${name}:nope@127.0.0.1:${server.httpPort}/${database}`);
    const err = await expectWarehouseError(wrong.insertBatch([row("demo:v")]), "warehouse_unavailable");
    expect(err.message).toMatch(/401/);
    expect(err.message).not.toContain("nope");
    await wrong.close();
  });

  it("failure - a server that stops answering times out as warehouse_unavailable", async () => {
    await freshSink("?timeout_ms=500");
    await sink.insertBatch([row("demo:p")]);
    server.pause();
    try {
      const started = Date.now();
      await expectWarehouseError(sink.insertBatch([row("demo:q")]), "warehouse_unavailable");
      await expectWarehouseError(sink.countEvents(), "warehouse_unavailable");
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      server.resume();
    }
    expect(await sink.insertBatch([row("demo:q")])).toEqual({ inserted: 1, duplicates: 0 });
  });

  it("failure - server stopped: warehouse_unavailable, then the same sink recovers after a restart", async () => {
    await freshSink();
    expect(await sink.insertBatch([row("demo:1"), row("demo:2")])).toEqual({ inserted: 2, duplicates: 0 });
    await server.stop();
    const err = await expectWarehouseError(sink.insertBatch([row("demo:2"), row("demo:3")]), "warehouse_unavailable");
    expect(err.message).toMatch(/ECONNREFUSED/);
    await expectWarehouseError(sink.health(), "warehouse_unavailable");
    await expectWarehouseError(sink.countEvents(), "warehouse_unavailable");
    await server.start();
    await sink.health();
    expect(await sink.insertBatch([row("demo:2"), row("demo:3")])).toEqual({ inserted: 1, duplicates: 1 });
    expect(await sink.countEvents()).toBe(3);
  });
});
