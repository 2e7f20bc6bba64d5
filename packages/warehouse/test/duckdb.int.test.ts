import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WarehouseRow } from "@tributary/schema";
import { DuckDbSink, openWarehouse } from "../src/index.js";

function row(key: string, seq = 1): WarehouseRow {
  return {
    event_key: key,
    source: "demo",
    event_id: key.split(":")[1]!,
    event_type: "link.clicked",
    schema_version: null,
    occurred_at: new Date("2026-03-04T14:32:08.441Z"),
    received_at: new Date("2026-03-04T14:32:09.000Z"),
    region: "us",
    region_seq: seq,
    payload: JSON.stringify({ event: "link.clicked", data: { link_id: key } }),
  };
}

describe("duckdb sink", () => {
  let dir: string;
  let sink: DuckDbSink;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "tributary-duckdb-"));
    sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    await sink.migrate();
  });
  afterEach(async () => {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("insert - stores every column and sets loaded_at", async () => {
    const result = await sink.insertBatch([row("demo:a", 7)]);
    expect(result).toEqual({ inserted: 1, duplicates: 0 });
    const [stored] = await sink.recentEvents(10);
    expect(stored).toMatchObject({
      event_key: "demo:a",
      source: "demo",
      event_id: "a",
      event_type: "link.clicked",
      schema_version: null,
      occurred_at: "2026-03-04T14:32:08.441Z",
      received_at: "2026-03-04T14:32:09.000Z",
      region: "us",
      region_seq: 7,
      payload: { event: "link.clicked", data: { link_id: "demo:a" } },
    });
    expect(Date.parse(stored!.loaded_at)).toBeGreaterThan(Date.parse("2026-01-01"));
  });

  it("insert - a redelivered batch inserts nothing twice", async () => {
    const batch = [row("demo:a"), row("demo:b"), row("demo:c")];
    expect(await sink.insertBatch(batch)).toEqual({ inserted: 3, duplicates: 0 });
    expect(await sink.insertBatch([...batch, row("demo:d")])).toEqual({ inserted: 1, duplicates: 3 });
    expect(await sink.countEvents()).toBe(4);
  });

  it("insert - duplicates inside one batch become one row", async () => {
    expect(await sink.insertBatch([row("demo:x", 1), row("demo:x", 2)])).toEqual({ inserted: 1, duplicates: 1 });
    expect(await sink.eventKeys()).toEqual(["demo:x"]);
  });

  it("insert - a failed batch leaves nothing behind and the sink keeps working", async () => {
    const bad = { ...row("demo:bad"), payload: "{not json" };
    await expect(sink.insertBatch([row("demo:ok"), bad])).rejects.toMatchObject({
      name: "WarehouseError",
      code: "warehouse_rejected",
    });
    expect(await sink.countEvents()).toBe(0);
    expect(await sink.insertBatch([row("demo:ok")])).toEqual({ inserted: 1, duplicates: 0 });
  });

  it("open - rows survive closing and reopening the file", async () => {
    await sink.insertBatch([row("demo:p")]);
    await sink.close();
    sink = (await openWarehouse(`duckdb://${join(dir, "w.duckdb")}`)) as DuckDbSink;
    await sink.migrate();
    expect(await sink.countEvents({ source: "demo" })).toBe(1);
  });

  it("insert - load_seq rises across new batches, batches with known keys and a reopen, never reused", async () => {
    await sink.insertBatch([row("demo:a"), row("demo:b")]); // every key new: appended straight in
    await sink.insertBatch([row("demo:b"), row("demo:c")]); // one known key: staged, known skipped
    await sink.close();
    sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    await sink.migrate();
    await sink.insertBatch([row("demo:d")]);
    const page = await sink.listEvents({}, { limit: 10 });
    const seqs = page.rows.map((e) => [e.event_key, e.load_seq] as const);
    expect(seqs.map(([key]) => key)).toEqual(["demo:d", "demo:c", "demo:b", "demo:a"]);
    const numbers = seqs.map(([, seq]) => seq);
    expect(new Set(numbers).size).toBe(4);
    expect([...numbers].sort((x, y) => y - x)).toEqual(numbers);
  });

  it("migrate - a file whose columns stand in another order still loads every column into its own", async () => {
    await sink.close();
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const file = join(dir, "reordered.duckdb");
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    // An older layout: payload last, the load sequence before the base columns' end.
    await connection.run(`CREATE TABLE events (event_key VARCHAR PRIMARY KEY, load_seq BIGINT, source VARCHAR NOT NULL,
      event_id VARCHAR NOT NULL, event_type VARCHAR NOT NULL, schema_version VARCHAR, occurred_at TIMESTAMPTZ,
      received_at TIMESTAMPTZ NOT NULL, loaded_at TIMESTAMPTZ NOT NULL, region VARCHAR NOT NULL,
      region_seq UBIGINT NOT NULL, payload JSON NOT NULL)`);
    connection.closeSync();
    instance.closeSync();
    sink = await DuckDbSink.open(file);
    await sink.migrate();
    await sink.insertBatch([row("demo:a", 7)]);
    const [stored] = await sink.recentEvents(1);
    expect(stored).toMatchObject({ event_key: "demo:a", source: "demo", region: "us", region_seq: 7 });
    expect(stored!.payload).toEqual({ event: "link.clicked", data: { link_id: "demo:a" } });
  });

  it("open - an unknown URL scheme names the supported form", async () => {
    await expect(openWarehouse("postgres://x")).rejects.toThrow(/duckdb:\/\/\//);
  });
});
