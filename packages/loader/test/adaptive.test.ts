import { describe, expect, it } from "vitest";
import { WarehouseError } from "@tributary/warehouse";
import { AdaptiveBatchSize, isRejected, isTransient } from "../src/index.js";

describe("adaptive batch size", () => {
  it("adaptive - grows while full batches flush fast, up to max", () => {
    const size = new AdaptiveBatchSize({ min: 100, max: 1000, targetLatencyMs: 200, initial: 100 });
    const seen = [size.current];
    for (let i = 0; i < 10; i++) {
      size.record(20, true);
      seen.push(size.current);
    }
    expect(seen[1]).toBe(150);
    expect(size.current).toBe(1000);
    expect(seen.every((v, i) => i === 0 || v >= seen[i - 1]!)).toBe(true);
  });

  it("adaptive - halves when a flush is slower than the target, down to min", () => {
    const size = new AdaptiveBatchSize({ min: 100, max: 1000, targetLatencyMs: 200, initial: 800 });
    size.record(500, true);
    expect(size.current).toBe(400);
    for (let i = 0; i < 10; i++) size.record(500, false);
    expect(size.current).toBe(100);
  });

  it("adaptive - a small batch flushed by age says nothing about the warehouse and does not grow it", () => {
    const size = new AdaptiveBatchSize({ min: 100, max: 1000, targetLatencyMs: 200, initial: 300 });
    size.record(5, false);
    expect(size.current).toBe(300);
  });

  it("adaptive - refuses an impossible range", () => {
    expect(() => new AdaptiveBatchSize({ min: 10, max: 5, targetLatencyMs: 1 })).toThrow(RangeError);
  });
});

describe("failure classes", () => {
  it("resilience - a warehouse outage is retried, refused data is not", () => {
    expect(isTransient(new WarehouseError("warehouse_unavailable", "down"))).toBe(true);
    expect(isTransient(new WarehouseError("warehouse_rejected", "bad row"))).toBe(false);
    expect(isRejected(new WarehouseError("warehouse_rejected", "bad row"))).toBe(true);
    expect(isTransient(new TypeError("bug"))).toBe(false);
  });
});
