import { describe, expect, it } from "vitest";
import { isFull, msUntilDue, type BatchPolicy } from "../src/index.js";

const policy: BatchPolicy = { maxEvents: 3, maxBytes: 100, maxAgeMs: 50 };

describe("batch policy", () => {
  it("batch - full at the event count or the byte size, whichever comes first", () => {
    expect(isFull(policy, { events: 2, bytes: 99, startedAt: 0 })).toBe(false);
    expect(isFull(policy, { events: 3, bytes: 10, startedAt: 0 })).toBe(true);
    expect(isFull(policy, { events: 1, bytes: 100, startedAt: 0 })).toBe(true);
  });

  it("batch - an empty batch is never due; a started one is due maxAgeMs after its first event", () => {
    expect(msUntilDue(policy, { events: 0, bytes: 0, startedAt: undefined }, 1000)).toBe(Infinity);
    expect(msUntilDue(policy, { events: 1, bytes: 1, startedAt: 1000 }, 1020)).toBe(30);
    expect(msUntilDue(policy, { events: 1, bytes: 1, startedAt: 1000 }, 2000)).toBe(0);
  });
});
