import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeEvent, pickType, prng } from "../k6/lib/payload.js";
import { batchProbability, findTier, loadTiers, requestRate } from "../src/tiers.js";
import { Workload } from "../src/workload.js";

describe("tiers", () => {
  it("tiers.json - the four throughput tiers, each valid", () => {
    const tiers = loadTiers();
    expect(tiers.tiers.map((t) => t.rate)).toEqual([8, 100, 1000, 10000]);
  });

  it("tiers.json - a bad field is named with its fix", () => {
    const dir = mkdtempSync(join(tmpdir(), "tiers-"));
    try {
      const file = join(dir, "tiers.json");
      const tiers = loadTiers();
      writeFileSync(
        file,
        JSON.stringify({ ...tiers, tiers: [{ ...tiers.tiers[0], batch: { share: 0.5, size: 5000 } }] }),
      );
      expect(() => loadTiers(file)).toThrow(/tiers\/0\/batch\/size|tiers\[0\]\.batch\.size/);
      expect(() => findTier(tiers, "nope")).toThrow(/use one of under-10, 10-100, 100-1k, over-1k/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rates - singles plus batches carry the tier's events per second", () => {
    const tier = { rate: 1000, batch: { share: 0.4, size: 50 } };
    expect(requestRate(tier)).toBeCloseTo(600 + 8);
    const p = batchProbability(tier);
    // Expected events per request × requests per second = rate.
    expect(requestRate(tier) * (p * 50 + (1 - p))).toBeCloseTo(1000);
    expect(batchProbability({ rate: 10, batch: { share: 0, size: 1 } })).toBe(0);
  });
});

describe("payloads and workload", () => {
  it("payload - bodies are valid JSON of about the configured size, with a unique lt.seq", () => {
    const now = new Date();
    for (const type of ["link.clicked", "referral.created", "link.conversion"]) {
      const body = makeEvent({ type, id: "x-1", seq: 7, run: "r", bytes: 700, now });
      expect(body.length).toBe(700);
      expect(JSON.parse(body)).toMatchObject({ event: type, event_id: "x-1", data: { lt: { run: "r", seq: 7 } } });
    }
    expect(
      JSON.parse(makeEvent({ type: "referral.completed", id: "y", seq: 1, run: "r", bytes: 10, now })).data
        .referral_code,
    ).toBe("REF-y");
  });

  it("payload - the mix is followed by weight, and the PRNG is reproducible", () => {
    const random = prng(42);
    const mix = [
      { type: "a", weight: 3, bytes: 100 },
      { type: "b", weight: 1, bytes: 100 },
    ];
    const counts = { a: 0, b: 0 } as Record<string, number>;
    for (let i = 0; i < 4000; i++) counts[pickType(mix, random())!.type]!++;
    expect(counts.a! / 4000).toBeGreaterThan(0.7);
    expect(counts.a! / 4000).toBeLessThan(0.8);
    expect(prng(1)()).toBe(prng(1)());
  });

  it("workload - keys are what the gateway derives: demo:<the body's event_id> for one event and for batch items; resends repeat a request", () => {
    const tiers = loadTiers();
    const tier = { ...findTier(tiers, "100-1k"), resendShare: 0.2, batch: { share: 0.5, size: 4 } };
    const w = new Workload(tiers, tier, ["us", "eu"], "run1", 5);
    const seen = { single: 0, batch: 0, resend: 0 };
    for (let i = 0; i < 300; i++) {
      const req = w.next();
      seen[req.kind]++;
      if (req.kind === "single") expect(req.events[0]!.key).toBe(`demo:${req.deliveryId}`);
      if (req.kind === "batch") {
        const lines = req.body.trimEnd().split("\n");
        expect(req.events.map((e) => e.key)).toEqual(
          lines.map((l) => `demo:${(JSON.parse(l) as { event_id: string }).event_id}`),
        );
      }
      w.acknowledged(req);
    }
    expect(seen.single).toBeGreaterThan(0);
    expect(seen.batch).toBeGreaterThan(0);
    expect(seen.resend).toBeGreaterThan(0);
  });
});
