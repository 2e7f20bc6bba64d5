import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WarehouseRow } from "@tributary/schema";
import { startClickHouse, type ClickHouseTestServer } from "@tributary/testkit";
import { ClickHouseSink, DuckDbSink, rangesOf, type ReconcileReader, type WarehouseSink } from "../src/index.js";

function row(key: string, region: string, seq: number): WarehouseRow {
  return {
    event_key: key,
    source: "demo",
    event_id: key.split(":")[1]!,
    event_type: "link.clicked",
    schema_version: null,
    occurred_at: null,
    received_at: new Date("2026-03-04T14:32:09.000Z"),
    region,
    region_seq: seq,
    payload: "{}",
  };
}

/** us: 1–5 and 7–9 (6 missing), seq 8 held twice under two keys; eu: 1–3. */
const ROWS = [
  ...[1, 2, 3, 4, 5, 7, 8, 9].map((seq) => row(`demo:us-${seq}`, "us", seq)),
  row("demo:us-8-again", "us", 8),
  ...[1, 2, 3].map((seq) => row(`demo:eu-${seq}`, "eu", seq)),
];

async function checks(sink: ReconcileReader & WarehouseSink): Promise<void> {
  await sink.insertBatch(ROWS);
  expect(await sink.seqRanges("us")).toEqual([
    [1, 5],
    [7, 9],
  ]);
  expect(await sink.seqRanges("eu")).toEqual([[1, 3]]);
  expect(await sink.seqRanges("ap")).toEqual([]);
  expect(await sink.seqDoubles("us", 10)).toEqual([{ seq: 8, keys: ["demo:us-8", "demo:us-8-again"] }]);
  expect(await sink.seqDoubles("eu", 10)).toEqual([]);
  expect(await sink.existingKeys(["demo:us-1", "demo:nope", "demo:eu-3"])).toEqual(new Set(["demo:us-1", "demo:eu-3"]));
}

describe("reconciliation reads", () => {
  it("ranges - folds sorted sequences into runs", () => {
    expect(rangesOf([1, 2, 3, 5, 6, 9])).toEqual([
      [1, 3],
      [5, 6],
      [9, 9],
    ]);
    expect(rangesOf([])).toEqual([]);
  });

  it("duckdb - sequence ranges, doubles and key lookups", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tributary-reconcile-"));
    const sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    try {
      await sink.migrate();
      await checks(sink);
    } finally {
      await sink.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("clickhouse", () => {
    let server: ClickHouseTestServer;
    beforeAll(async () => {
      server = await startClickHouse();
    }, 60_000);
    afterAll(async () => {
      await server?.dispose();
    });

    it("clickhouse - sequence ranges, doubles and key lookups", async () => {
      const sink = await ClickHouseSink.open(server.url("reconcile"));
      try {
        await sink.migrate();
        await checks(sink);
      } finally {
        await sink.close();
      }
    });
  });
});
