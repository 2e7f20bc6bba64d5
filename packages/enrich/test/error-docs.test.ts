import { describe, expect, it } from "vitest";
import { checkErrorDoc } from "@tributary/errors";
import { ENRICH_ERRORS } from "../src/index.js";

describe("error catalogue", () => {
  it("errors - docs/errors.md shows the enrich catalogue as it is", () => {
    const { expected, actual } = checkErrorDoc(
      new URL("../../../docs/errors.md", import.meta.url),
      "enrich",
      ENRICH_ERRORS,
    );
    expect(actual).toBe(expected);
  });
});
