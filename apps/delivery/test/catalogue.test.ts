import { describe, expect, it } from "vitest";
import { checkErrorDoc } from "@tributary/errors";
import { DELIVERY_API_ERRORS } from "../src/index.js";

describe("error catalogue", () => {
  it("errors - README.md shows the admin API's catalogue as it is", () => {
    const { expected, actual } = checkErrorDoc(
      new URL("../README.md", import.meta.url),
      "delivery-api",
      DELIVERY_API_ERRORS,
    );
    expect(actual).toBe(expected);
  });
});
