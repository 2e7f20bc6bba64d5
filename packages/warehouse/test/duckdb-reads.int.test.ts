import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WarehouseRow } from "@tributary/schema";
import { ReadLane } from "../src/duckdb-reads.js";
import { DuckDbSink } from "../src/index.js";

// A scan DuckDB needs seconds for on any machine: long enough to overlap an insert or a deadline.
const SLOW = "SELECT count(*) FROM range(40000000000) t(i) WHERE i % 7 = 3";

function row(key: string): WarehouseRow {
  return {
    event_key: key,
    source: "demo",
    event_id: key.split(":")[1]!,
    event_type: "link.clicked",
    schema_version: null,
    occurred_at: null,
    received_at: new Date(),
    region: "us",
    region_seq: 1,
    payload: "{}",
  };
}

describe("duckdb reads - their own lane", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tributary-duckdb-reads-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("M6 - a slow read holds up neither an insert nor the writer; it is stopped at its deadline with a code", async () => {
    const sink = await DuckDbSink.open(join(dir, "w.duckdb"), { reads: { timeoutMs: 3_000 } });
    await sink.migrate();
    const lane = (sink as unknown as { reads: ReadLane }).reads;
    let readSettled = false;
    const slow = lane.run((c) => c.run(SLOW)).finally(() => (readSettled = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(await sink.insertBatch([row("demo:a")])).toEqual({ inserted: 1, duplicates: 0 });
    expect(readSettled).toBe(false); // the insert did not wait for the read
    await expect(slow).rejects.toMatchObject({ code: "warehouse_unavailable", details: { limit: "read_timeout" } });
    expect(await sink.countEvents()).toBe(1); // the lane works again after an interrupted read
    await sink.close();
  });

  it("M6 - reads beyond the queue bound are refused at once instead of piling up", async () => {
    const instance = await DuckDBInstance.create(":memory:");
    const lane = new ReadLane(await instance.connect(), { maxWaiting: 2, timeoutMs: 2_000 });
    const running = [0, 1, 2].map(() => lane.run((c) => c.run(SLOW)).catch((err: unknown) => err));
    await expect(lane.run((c) => c.run("SELECT 1"))).rejects.toMatchObject({
      code: "warehouse_unavailable",
      details: { limit: "read_queue" },
    });
    await Promise.all(running);
    await lane.close();
    instance.closeSync();
  });
});
