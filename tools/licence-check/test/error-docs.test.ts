import { describe, expect, it } from "vitest";
import { checkErrorDoc } from "@tributary/errors";
import { LICENCE_CHECK_ERRORS } from "../src/index.js";

describe("error catalogue", () => {
  it("errors - the README shows the licence check's catalogue as it is", () => {
    const { expected, actual } = checkErrorDoc(
      new URL("../README.md", import.meta.url),
      "licence-check",
      LICENCE_CHECK_ERRORS,
    );
    expect(actual).toBe(expected);
  });
});
