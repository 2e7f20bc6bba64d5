import { describe, expect, it } from "vitest";
import { checkErrorDoc } from "@tributary/errors";
import { CONTROL_ERRORS, SEALED_ERRORS } from "../src/index.js";

const doc = new URL("../../../docs/errors.md", import.meta.url);

describe("error catalogue", () => {
  it("errors - docs/errors.md shows the control store's and the sealed secrets' catalogues as they are", () => {
    for (const [name, catalogue] of [
      ["control", CONTROL_ERRORS],
      ["sealed", SEALED_ERRORS],
    ] as const) {
      const { expected, actual } = checkErrorDoc(doc, name, catalogue);
      expect(actual, name).toBe(expected);
    }
  });
});
