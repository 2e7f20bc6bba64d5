import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DuckDbSink, hasDeliveryLog, type DeliveryRow } from "../src/index.js";
import { HEALTH_EXPECTED, HEALTH_ROWS, HEALTH_SINCE } from "./deliveries-health-fixture.js";

function rec(seq: number, overrides: Partial<DeliveryRow> = {}): DeliveryRow {
  return {
    log_seq: seq,
    destination: "crm",
    event_key: `demo:e-${seq}`,
    attempt: 1,
    outcome: "delivered",
    status: 200,
    latency_ms: 12.5,
    error: "",
    at: new Date(Date.UTC(2026, 10, 29, 12, 0, seq)),
    ...overrides,
  };
}

describe("duckdb delivery log", () => {
  let dir: string;
  let sink: DuckDbSink;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "tributary-duckdb-deliveries-"));
    sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    await sink.migrate();
    await sink.migrateDeliveries();
    await sink.migrateDeliveries(); // idempotent
  });
  afterEach(async () => {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores each attempt once by its log sequence and answers queries", async () => {
    expect(hasDeliveryLog(sink)).toBe(true);
    const rows = [
      rec(1),
      rec(2, { outcome: "retry", status: 503, error: "retry: HTTP 503" }),
      rec(3, { event_key: "demo:e-2", attempt: 2 }),
      rec(4, { destination: "slack", outcome: "dlq", status: 0, error: "transform_timeout: …" }),
    ];
    expect(await sink.insertDeliveries(rows)).toEqual({ inserted: 4, duplicates: 0 });
    expect(await sink.insertDeliveries([rec(3, { event_key: "demo:e-2", attempt: 2 }), rec(3), rec(5)])).toEqual({
      inserted: 1,
      duplicates: 2,
    });
    expect(await sink.countDeliveries()).toBe(5);
    expect(await sink.countDeliveries({ destination: "crm" })).toBe(4);
    expect(await sink.countDeliveries({ outcome: "dlq" })).toBe(1);
    const history = await sink.recentDeliveries(10, { eventKey: "demo:e-2" });
    expect(history.map((h) => [h.attempt, h.outcome, h.status])).toEqual([
      [2, "delivered", 200],
      [1, "retry", 503],
    ]);
    expect(history[1]).toMatchObject({
      log_seq: 2,
      destination: "crm",
      latency_ms: 12.5,
      error: "retry: HTTP 503",
      at: "2026-11-29T12:00:02.000Z",
    });
  });
  it("sums each destination's attempts since a time: count, delivered, p50 and p95 by nearest rank", async () => {
    await sink.insertDeliveries(HEALTH_ROWS);
    expect(await sink.deliveryHealth(HEALTH_SINCE)).toEqual(HEALTH_EXPECTED);
    expect(await sink.deliveryHealth(HEALTH_SINCE, "slack")).toEqual([HEALTH_EXPECTED[1]]);
    expect(await sink.deliveryHealth(new Date(HEALTH_SINCE.getTime() + 3_600_000))).toEqual([]);
  });
});
