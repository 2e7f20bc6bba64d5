import { describe, expect, it } from "vitest";
import { checkErrorDoc } from "@tributary/errors";
import { DELIVERY_FAILURES } from "../src/index.js";

describe("error catalogue", () => {
  it("errors - docs/errors.md shows the delivery-failures catalogue as it is", () => {
    const { expected, actual } = checkErrorDoc(
      new URL("../../../docs/errors.md", import.meta.url),
      "delivery-failures",
      DELIVERY_FAILURES,
    );
    expect(actual).toBe(expected);
  });
});
