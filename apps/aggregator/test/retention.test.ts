import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LifecycleStore, RetentionSweep } from "@tributary/warehouse";
import { loadAggregatorConfig } from "../src/config.js";
import { durationSeconds, retentionPolicyOf, RetentionSweeper } from "../src/retention.js";

describe("retention settings", () => {
  it("reads durations in s, m, h, d and forever; the defaults keep rows 90 days, the log 30, rollups two years", () => {
    expect([durationSeconds("45s"), durationSeconds("30m"), durationSeconds("12h"), durationSeconds("90d")]).toEqual([
      45, 1800, 43_200, 7_776_000,
    ]);
    expect(durationSeconds("forever")).toBeUndefined();
    const config = loadAggregatorConfig({});
    expect(retentionPolicyOf(config.retention)).toEqual({
      events: 90 * 86_400,
      deliveries: 30 * 86_400,
      rollups: 730 * 86_400,
    });
  });

  it("refuses a malformed duration, naming the field", () => {
    const dir = mkdtempSync(join(tmpdir(), "tributary-retention-"));
    try {
      const file = join(dir, "aggregator.json");
      writeFileSync(file, JSON.stringify({ retention: { events: "3 months" } }));
      expect(() => loadAggregatorConfig({}, file)).toThrow(/retention\.events/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("RetentionSweeper", () => {
  const sink = (sweeps: Array<RetentionSweep | Error>): LifecycleStore & { calls: Date[] } => {
    const calls: Date[] = [];
    return {
      calls,
      enforceRetention: async (now: Date) => {
        calls.push(now);
        const next = sweeps.shift() ?? { events: 0, deliveries: 0, rollups: 0 };
        if (next instanceof Error) throw next;
        return next;
      },
    } as unknown as LifecycleStore & { calls: Date[] };
  };
  const log = { info: () => undefined, error: () => undefined };

  it("reports the last pass, and a failed pass without stopping the next", async () => {
    const store = sink([new Error("disk full"), { events: 3, deliveries: 1, rollups: 0 }]);
    const at = new Date("2026-12-01T00:00:00Z");
    const sweeper = new RetentionSweeper(store, () => at);
    expect(await sweeper.sweep()).toEqual({ at: at.toISOString(), error: "disk full" });
    expect(await sweeper.sweep()).toEqual({ at: at.toISOString(), removed: { events: 3, deliveries: 1, rollups: 0 } });
    expect(sweeper.last?.removed?.events).toBe(3);
    expect(store.calls).toEqual([at, at]);
  });

  it("runs on its timer until stopped", async () => {
    const store = sink([]);
    const sweeper = new RetentionSweeper(store);
    sweeper.start(5, log, 1);
    await new Promise((r) => setTimeout(r, 60));
    await sweeper.stop();
    const passes = store.calls.length;
    expect(passes).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 30));
    expect(store.calls.length).toBe(passes);
  });
});
