import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DeliveryApiError } from "../src/index.js";

describe("API error codes - the README's table matches the catalogue", () => {
  it("every code with its status", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    for (const [code, { status }] of Object.entries(DeliveryApiError)) expect(readme).toContain(`${status} ${code}`);
  });
});
