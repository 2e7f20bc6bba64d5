import { describe, expect, it } from "vitest";
import { isolateFailing, isolationReason } from "../src/isolate.js";

/** A warehouse stand-in for the pure search: refuses any chunk holding a poison row, or everything while down. */
function warehouse(poison: Set<number>, down = false) {
  const committed: number[] = [];
  let inserts = 0;
  return {
    committed,
    get inserts() {
      return inserts;
    },
    insert: async (chunk: readonly number[]) => {
      inserts++;
      if (down || chunk.some((n) => poison.has(n))) throw Object.assign(new Error("INTERNAL Error"), { code: "x" });
      committed.push(...chunk);
    },
  };
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("isolating rows the warehouse fails on without saying why", () => {
  it("L7 - one poison row among 1,000 is found alone, in a bounded number of inserts; every other row goes in", async () => {
    const w = warehouse(new Set([613]));
    const round = await isolateFailing(rows(1_000), w.insert);
    expect(round.poison.map((p) => p.item)).toEqual([613]);
    expect(round.undecided).toEqual([]);
    expect(w.committed.sort((a, b) => a - b)).toEqual(rows(1_000).filter((n) => n !== 613));
    expect(w.inserts).toBeLessThanOrEqual(2 * 10 + 2);
  });

  it("L7 - several poison rows, in different halves, are each found", async () => {
    const w = warehouse(new Set([3, 700, 701]));
    const round = await isolateFailing(rows(1_000), w.insert);
    expect(round.poison.map((p) => p.item).sort((a, b) => a - b)).toEqual([3, 700, 701]);
    expect(w.committed).toHaveLength(997);
  });

  it("L7 - a warehouse that is down sends nothing to the DLQ: the round stops early and leaves every row undecided", async () => {
    const w = warehouse(new Set(), true);
    const round = await isolateFailing(rows(1_000), w.insert);
    expect(round.poison).toEqual([]);
    expect(round.undecided.sort((a, b) => a - b)).toEqual(rows(1_000));
    expect(w.inserts).toBeLessThanOrEqual(2 * 10 + 2);
  });

  it("L7 - a single failing row is poison only while the warehouse shows it takes other inserts", async () => {
    const w = warehouse(new Set([0]));
    expect(await isolateFailing([0], w.insert)).toMatchObject({ poison: [], undecided: [0] });
    const alive = await isolateFailing([0], w.insert, { alive: () => true });
    expect(alive.poison.map((p) => p.item)).toEqual([0]);
    expect(isolationReason(alive.poison[0]!.error)).toBe("warehouse_failed: x INTERNAL Error");
  });
});
