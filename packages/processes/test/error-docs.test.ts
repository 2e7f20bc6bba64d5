import { describe, expect, it } from "vitest";
import { checkErrorDoc } from "@tributary/errors";
import { NATS_BINARY_ERRORS } from "../src/index.js";

describe("error catalogue", () => {
  it("errors - docs/errors.md shows the nats-binary catalogue as it is", () => {
    const { expected, actual } = checkErrorDoc(
      new URL("../../../docs/errors.md", import.meta.url),
      "nats-binary",
      NATS_BINARY_ERRORS,
    );
    expect(actual).toBe(expected);
  });
});
