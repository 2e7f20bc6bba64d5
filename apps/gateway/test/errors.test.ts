import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { VERIFY_FAILURE_CODES } from "@tributary/verify";
import { GATEWAY_ERRORS } from "../src/errors.js";

/** Rows of ERRORS.md's table: code → status. */
function documented(): Map<string, number> {
  const text = readFileSync(new URL("../ERRORS.md", import.meta.url), "utf8");
  const rows = new Map<string, number>();
  for (const match of text.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)) rows.set(match[1]!, Number(match[2]));
  return rows;
}

describe("error catalogue", () => {
  it("errors - ERRORS.md lists exactly the catalogue's codes with the same statuses", () => {
    const fromCode = new Map(Object.entries(GATEWAY_ERRORS).map(([code, e]) => [code, e.status as number]));
    expect(documented()).toEqual(fromCode);
  });

  it("errors - every verification failure has a gateway code with the same status", () => {
    for (const [code, entry] of Object.entries(VERIFY_FAILURE_CODES)) {
      expect(GATEWAY_ERRORS).toHaveProperty(code);
      expect(GATEWAY_ERRORS[code as keyof typeof GATEWAY_ERRORS].status).toBe(entry.status);
    }
  });
});
