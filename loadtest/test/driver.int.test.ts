import { describe, expect, it } from "vitest";
import { renderPlot } from "../src/plot.js";
import { runLoadTest } from "../src/run.js";
import { findTier, loadTiers } from "../src/tiers.js";

describe("local driver (the whole local system, open-loop traffic, every row counted)", () => {
  it("lowest tier - a few seconds: every acknowledged event is one row, none missing, none doubled, thresholds pass", async () => {
    const tiers = loadTiers();
    const tier = findTier(tiers, "under-10");
    const { report, timeline } = await runLoadTest({ tiers, tier, durationSeconds: 5 });
    expect(report.offered.requests).toBe(Math.round(tier.rate * 5));
    expect(report.statusClasses["202"] + report.statusClasses["200"]).toBe(report.offered.requests);
    expect(report.failedEvents).toBe(0);
    expect(report.drain.drained).toBe(true);
    expect(report.accounting.missing).toBe(0);
    expect(report.accounting.doubledKeys).toBe(0);
    expect(report.accounting.doubledEvents).toBe(0);
    expect(report.accounting.unexpected).toBe(0);
    expect(report.accounting.rows).toBe(report.accounting.acknowledgedKeys);
    expect(report.e2eMs.p99).not.toBeNull();
    expect(report.checks.filter((c) => !c.pass)).toEqual([]);
    expect(report.pass).toBe(true);
    const svg = await renderPlot(timeline, "test", undefined);
    expect(svg).toMatch(/^<svg/);
  });

  it("fault - SIGKILL of the aggregator mid-run: after its restart exactly the acknowledged events load", async () => {
    const tiers = loadTiers();
    const tier = findTier(tiers, "10-100");
    const { report } = await runLoadTest({ tiers, tier, durationSeconds: 6, rate: 40, fault: "aggregator-kill", faultAtMs: 2_000, faultHoldMs: 1_500 });
    expect(report.fault?.kind).toBe("aggregator-kill");
    expect(report.failedEvents).toBe(0);
    expect(report.accounting.missing).toBe(0);
    expect(report.accounting.doubledKeys + report.accounting.doubledEvents + report.accounting.unexpected).toBe(0);
    expect(report.accounting.rows).toBe(report.accounting.acknowledgedKeys);
    expect(report.pass).toBe(true);
  });
});
