import { afterEach, describe, expect, it } from "vitest";
import { Pipeline, sendWithResends } from "./pipeline.js";

describe("pipeline (one region, real processes)", () => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it("pipeline - 1,000 signed events with 10% sent twice become exactly 1,000 rows", async () => {
    pipeline = await Pipeline.start();
    await pipeline.startAggregator();
    const tally = await sendWithResends(pipeline.gatewayUrl, 1000);
    expect(tally.sent).toBe(1100);
    expect(tally.accepted.size).toBe(1000);
    expect(tally.duplicates).toBe(100);
    expect(tally.other.size).toBe(0);

    await pipeline.waitForRows(1000);
    const rows = await pipeline.rowsFromFile();
    expect(rows).toHaveLength(1000);
    expect(new Set(rows.map((r) => r.event_key))).toEqual(tally.accepted);
    for (const row of rows) {
      expect(row.event_type).toBe("link.clicked");
      expect(row.region).toBe("us");
      expect(row.source).toBe("demo");
      expect(Date.parse(row.received_at)).toBeGreaterThan(0);
      expect(row.region_seq).toBeGreaterThan(0);
    }
  });

  it("pipeline - the aggregator killed with SIGKILL mid-stream and restarted: nothing lost, nothing doubled", async () => {
    pipeline = await Pipeline.start();
    const p = pipeline;
    await p.startAggregator();
    const sending = sendWithResends(p.gatewayUrl, 3000, { concurrency: 8, seedPrefix: "kill" });

    // Kill it once it has loaded some rows but (with 3,000 to go) surely not all.
    await p.waitForRows(300);
    await p.aggregator!.kill();
    const loadedBeforeKill = (await p.rowsFromFile()).length;
    await p.startAggregator();

    const tally = await sending;
    expect(tally.accepted.size).toBe(3000);
    expect(tally.other.size).toBe(0);
    expect(loadedBeforeKill).toBeLessThan(3000);

    await p.waitForRows(3000);
    const rows = await p.rowsFromFile();
    expect(rows).toHaveLength(3000);
    expect(new Set(rows.map((r) => r.event_key))).toEqual(tally.accepted);
  });
});
