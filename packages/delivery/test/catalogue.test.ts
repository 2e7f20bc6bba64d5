import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DeliveryFailureCodes } from "../src/index.js";

describe("failure codes - the README lists every code the DLQ can carry", () => {
  it("README and DeliveryFailureCodes agree", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("Failure codes"));
    for (const code of Object.values(DeliveryFailureCodes)) expect(section).toContain(`\`${code}\``);
    const listed = [...section.slice(0, section.indexOf("Config problems")).matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    expect(new Set(listed)).toEqual(new Set(Object.values(DeliveryFailureCodes)));
  });
});
