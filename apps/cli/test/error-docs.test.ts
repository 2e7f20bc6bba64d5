import { describe, expect, it } from "vitest";
import { checkErrorDoc } from "@tributary/errors";
import { OPERATOR_ERRORS } from "../src/ops/context.js";

describe("error catalogue", () => {
  it("errors - docs/errors.md shows the operator catalogue as it is", () => {
    const { expected, actual } = checkErrorDoc(
      new URL("../../../docs/errors.md", import.meta.url),
      "operator",
      OPERATOR_ERRORS,
    );
    expect(actual).toBe(expected);
  });
});
