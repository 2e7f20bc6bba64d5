import { describe, expect, it } from "vitest";
import { isConfigError } from "@tributary/errors";
import { compileFilter, describeFilterError } from "../src/index.js";

describe("filter - JSONata", () => {
  it("matches on the payload and the event fields", async () => {
    const f = compileFilter('type = "link.clicked" and body.data.country in ["US", "CA"]', { timeoutMs: 100 });
    expect(await f({ type: "link.clicked", body: { data: { country: "US" } } })).toBe(true);
    expect(await f({ type: "link.clicked", body: { data: { country: "FR" } } })).toBe(false);
    expect(await f({ type: "install.tracked", body: { data: { country: "US" } } })).toBe(false);
  });

  it("a missing field does not match", async () => {
    expect(await compileFilter("body.data.amount > 10", { timeoutMs: 100 })({ body: {} })).toBe(false);
  });

  it("endless recursion is stopped by its limits", async () => {
    const f = compileFilter("($f := function($x) { $f($x + 1) }; $f(0))", { timeoutMs: 50 });
    const err = await f({}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    expect(describeFilterError(err)).toMatch(/time limit|depth limit/);
  });

  it("bad syntax is a config error naming the field", () => {
    expect(() => compileFilter("body.(", { timeoutMs: 50, field: "destinations[1].filter" })).toSatisfy(() => {
      try {
        compileFilter("body.(", { timeoutMs: 50, field: "destinations[1].filter" });
        return false;
      } catch (err) {
        return isConfigError(err) && err.message.includes("destinations[1].filter");
      }
    });
  });
});
