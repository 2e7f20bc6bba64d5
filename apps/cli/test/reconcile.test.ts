import { describe, expect, it } from "vitest";
import { complement } from "../src/ops/reconcile.js";

describe("reconcile ranges", () => {
  it("complement - the stream's sequences no row run covers", () => {
    expect(
      complement(1, 10, [
        [1, 3],
        [5, 6],
        [9, 12],
      ]),
    ).toEqual([
      [4, 4],
      [7, 8],
    ]);
    expect(complement(1, 10, [])).toEqual([[1, 10]]);
    expect(complement(1, 10, [[1, 10]])).toEqual([]);
  });
  it("complement - rows older than the stream's first sequence (aged out) are ignored", () => {
    expect(
      complement(100, 110, [
        [1, 50],
        [60, 104],
      ]),
    ).toEqual([[105, 110]]);
    expect(complement(100, 110, [[1, 99]])).toEqual([[100, 110]]);
  });
});
