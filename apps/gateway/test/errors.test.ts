import { describe, expect, it } from "vitest";
import { checkErrorDoc } from "@tributary/errors";
import { VERIFY_FAILURE_CODES } from "@tributary/verify";
import { GATEWAY_ERRORS } from "../src/errors.js";

describe("error catalogue", () => {
  it("errors - ERRORS.md shows the catalogue as it is", () => {
    const { expected, actual } = checkErrorDoc(new URL("../ERRORS.md", import.meta.url), "gateway", GATEWAY_ERRORS);
    expect(actual).toBe(expected);
  });

  it("errors - every verification failure has a gateway code with the same status", () => {
    for (const [code, entry] of Object.entries(VERIFY_FAILURE_CODES)) {
      expect(GATEWAY_ERRORS).toHaveProperty(code);
      expect(GATEWAY_ERRORS[code as keyof typeof GATEWAY_ERRORS].status).toBe(entry.status);
    }
  });
});
