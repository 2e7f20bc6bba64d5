import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startClickHouse, waitFor, type ClickHouseTestServer } from "@tributary/testkit";
import type { WarehouseRow } from "@tributary/schema";
import { ClickHouseSink, DuckDbSink, WarehouseError, type EventColumns } from "@tributary/warehouse";
import { rowFromMessage } from "../src/index.js";
import { LoaderBench } from "./harness.js";

describe("loader faults", () => {
  let bench: LoaderBench | undefined;
  let clickhouse: ClickHouseTestServer | undefined;
  afterEach(async () => {
    await bench?.close();
    await clickhouse?.dispose();
    bench = undefined;
    clickhouse = undefined;
  });

  it("refused rows - a row the warehouse refuses is split out to the DLQ and the rest of its batch loads", async () => {
    bench = await LoaderBench.start();
    const b = bench;
    const keys = await b.publish(1_000, { prefix: "mixed" });
    const refusedKey = keys[500]!;
    // One row DuckDB really refuses (its JSON type cannot parse the payload): the gateway and the
    // mapping would never produce it, so the mapping is wrapped to make it, the way a schema drift
    // between the pipeline and the warehouse would.
    const toRow: typeof rowFromMessage = (msg) => {
      const outcome = rowFromMessage(msg);
      return outcome.ok && outcome.row.event_key === refusedKey
        ? { ok: true, row: { ...outcome.row, payload: '{"broken":' } }
        : outcome;
    };
    const { loader, close } = await b.loader({ toRow });
    await waitFor(
      "999 rows and one DLQ entry",
      async () => ((await b.sink.countEvents()) === 999 && (await b.dlqCount()) === 1 ? true : undefined),
      20_000,
    );
    expect(new Set(await b.sink.eventKeys())).toEqual(new Set(keys.filter((k) => k !== refusedKey)));
    expect(loader.counters.bisections).toBeGreaterThan(0);
    const entry = await b.jsm.streams.getMessage("EVENTS_DLQ", { seq: 1 });
    expect(entry?.header.get("Tributary-Dlq-Reason")).toMatch(/^warehouse_rejected: /);
    expect(entry?.header.get("Tributary-Original-Msg-Id")).toBe(refusedKey);
    await close();
  });

  it("L7 - a row the warehouse fails on with an error that is not a data error is isolated to the DLQ (warehouse_failed); the rest of its batch and the later ones load", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tributary-loader-l7-"));
    try {
      let poisonKey = "";
      // The real DuckDB, except that any batch holding one row fails the way DuckDB's INTERNAL or
      // out-of-memory errors and ClickHouse codes outside its data errors do: warehouse_unavailable.
      bench = await LoaderBench.start(async () => {
        const real = await DuckDbSink.open(join(dir, "w.duckdb"));
        return new Proxy(real, {
          get(target, prop) {
            const fail = () =>
              Promise.reject(new WarehouseError("warehouse_unavailable", "INTERNAL Error: Attempted to access index"));
            if (prop === "insertBatch")
              return (rows: readonly WarehouseRow[]) =>
                rows.some((r) => r.event_key === poisonKey) ? fail() : target.insertBatch(rows);
            // The loader writes to DuckDB column by column.
            if (prop === "insertColumns")
              return (cols: EventColumns) => (cols.event_key.includes(poisonKey) ? fail() : target.insertColumns(cols));
            const value: unknown = Reflect.get(target, prop, target);
            return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        });
      });
      const b = bench;
      const keys = await b.publish(1_000, { prefix: "held" });
      poisonKey = keys[321]!;
      const { loader, close } = await b.loader();
      const later = await b.publish(500, { prefix: "later" });
      await waitFor(
        "1,499 rows and one DLQ entry",
        async () => ((await b.sink.countEvents()) === 1_499 && (await b.dlqCount()) === 1 ? true : undefined),
        25_000,
      );
      expect(new Set(await b.sink.eventKeys())).toEqual(new Set([...keys, ...later].filter((k) => k !== poisonKey)));
      const entry = await b.jsm.streams.getMessage("EVENTS_DLQ", { seq: 1 });
      expect(entry?.header.get("Tributary-Original-Msg-Id")).toBe(poisonKey);
      expect(entry?.header.get("Tributary-Dlq-Reason")).toMatch(
        /^warehouse_failed: warehouse_unavailable INTERNAL Error/,
      );
      expect(loader.counters.poison).toBe(1);
      await close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("warehouse down - ClickHouse stopped under steady input: nothing acked, memory bounded, the backlog waits in the stream; back up, everything loads exactly once", async () => {
    clickhouse = await startClickHouse();
    const ch = clickhouse;
    bench = await LoaderBench.start(async () => ClickHouseSink.open(`${ch.url("tributary")}?timeout_ms=2000`));
    const b = bench;
    const { loader, consumerInfo, close } = await b.loader({
      policy: { maxEvents: 200, maxBytes: 8 * 1024 * 1024, maxAgeMs: 20 },
    });
    const first = await b.publish(2_000, { prefix: "before" });
    await waitFor(
      "the first 2,000 rows",
      async () => ((await b.sink.countEvents()) === 2_000 ? true : undefined),
      30_000,
    );

    await ch.stop();
    const floorAtOutage = (await consumerInfo()).ackFloor;
    const during: string[] = [];
    const gc = (globalThis as { gc?: () => void }).gc!;
    gc();
    const heapAtOutage = process.memoryUsage().heapUsed;
    for (let round = 0; round < 10; round++) {
      during.push(...(await b.publish(2_000, { prefix: `during-${round}` })));
      await new Promise((r) => setTimeout(r, 200));
    }
    await waitFor("the loader to notice", () => (loader.healthy ? undefined : true), 15_000);
    const outage = await consumerInfo();
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapAtOutage;
    expect(outage.ackFloor).toBe(floorAtOutage); // nothing acked while the warehouse is down
    expect(outage.pending).toBeGreaterThan(10_000); // the backlog waits in the stream…
    expect(outage.ackPending).toBeLessThanOrEqual(5_000); // …not in the loader (max_ack_pending)
    expect(heapGrowth).toBeLessThan(32 * 1024 * 1024);

    await ch.start();
    await waitFor(
      "all 22,000 rows",
      async () => ((await b.sink.countEvents().catch(() => 0)) >= 22_000 ? true : undefined),
      90_000,
      250,
    );
    await new Promise((r) => setTimeout(r, 500));
    const loaded = await b.sink.eventKeys();
    expect(loaded).toHaveLength(22_000);
    expect(new Set(loaded)).toEqual(new Set([...first, ...during]));
    expect(loader.healthy).toBe(true);
    await close();
  }, 180_000);
});
