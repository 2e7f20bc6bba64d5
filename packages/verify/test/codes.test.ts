import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { VERIFY_FAILURE_CODES, isVerifyFailureCode } from "../src/index.js";

describe("failure codes", () => {
  it("catalogue - every code maps to 401 and a message", () => {
    for (const [code, entry] of Object.entries(VERIFY_FAILURE_CODES)) {
      expect(entry.status, code).toBe(401);
      expect(entry.message.length, code).toBeGreaterThan(0);
    }
  });

  it("catalogue - the wire-contract codes are present", () => {
    expect(Object.keys(VERIFY_FAILURE_CODES).sort()).toEqual([
      "signature_mismatch",
      "signature_missing",
      "timestamp_invalid",
      "timestamp_missing",
      "timestamp_out_of_tolerance",
    ]);
  });

  it("catalogue - isVerifyFailureCode accepts codes only, not prototype keys", () => {
    expect(isVerifyFailureCode("signature_missing")).toBe(true);
    expect(isVerifyFailureCode("toString")).toBe(false);
    expect(isVerifyFailureCode(401)).toBe(false);
  });

  it("catalogue - the README table lists exactly the catalogue codes", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const documented = [...readme.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(VERIFY_FAILURE_CODES).sort());
  });
});
