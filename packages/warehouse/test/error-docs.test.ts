import { describe, expect, it } from "vitest";
import { checkErrorDoc } from "@tributary/errors";
import { WAREHOUSE_ERRORS } from "../src/index.js";

describe("error catalogue", () => {
  it("errors - docs/errors.md shows the warehouse catalogue as it is", () => {
    const { expected, actual } = checkErrorDoc(
      new URL("../../../docs/errors.md", import.meta.url),
      "warehouse",
      WAREHOUSE_ERRORS,
    );
    expect(actual).toBe(expected);
  });
});
