import { describe, expect, it } from "vitest";
import { MAX_OUTAGE_BUDGET_SECONDS, outageBudgetSeconds } from "../src/index.js";

describe("outage budget", () => {
  it("outage budget - free bytes over the input rate", () => {
    expect(outageBudgetSeconds({ bytes: 600, maxBytes: 1000, maxAgeMs: 0, ingressBytesPerSecond: 10 })).toBe(40);
  });
  it("outage budget - max_age bounds it: an unsourced event ages out then", () => {
    expect(outageBudgetSeconds({ bytes: 0, maxBytes: 1e12, maxAgeMs: 60_000, ingressBytesPerSecond: 10 })).toBe(60);
  });
  it("outage budget - a full stream has none; an unlimited idle one reports the cap", () => {
    expect(outageBudgetSeconds({ bytes: 1000, maxBytes: 1000, maxAgeMs: 60_000, ingressBytesPerSecond: 1 })).toBe(0);
    expect(outageBudgetSeconds({ bytes: 5, maxBytes: -1, maxAgeMs: 0, ingressBytesPerSecond: 0 })).toBe(
      MAX_OUTAGE_BUDGET_SECONDS,
    );
  });
});
