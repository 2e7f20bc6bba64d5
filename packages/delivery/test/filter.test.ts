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
    expect(describeFilterError(err)).toMatch(/CPU time|depth limit/);
  });

  it("a filter that keeps going is stopped by its CPU-time limit", async () => {
    const f = compileFilter("$reduce([1..100000], function($a, $b) { $a + $b }) > 0", { timeoutMs: 20 });
    const err = await f({}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(describeFilterError(err)).toBe("the filter used more than 20 ms of CPU time");
  });

  it("M11 - a backtracking regex on sender-controlled text runs in linear time (RE2), not for minutes", async () => {
    const f = compileFilter("$contains(body.data.referrer, /^(a+)+$/)", { timeoutMs: 1_000 });
    const started = performance.now();
    expect(await f({ body: { data: { referrer: `${"a".repeat(28)}!` } } })).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
    expect(await f({ body: { data: { referrer: "aaaa" } } })).toBe(true);
    // Regexes keep JSONata's semantics: flags, groups, every match, positions in UTF-16.
    const m = compileFilter('$match(body.s, /(\\d+)-(?<unit>[a-z]+)/i)[1].groups[1] = "KG"', { timeoutMs: 1_000 });
    expect(await m({ body: { s: "😀 3-ms, 12-KG" } })).toBe(true);
    const r = compileFilter('$replace(body.s, /é+/, "e") = "caf e"', { timeoutMs: 1_000 });
    expect(await r({ body: { s: "café é" } })).toBe(false);
    expect(
      await compileFilter('$split(body.s, /[,;]\\s*/)[2] = "c"', { timeoutMs: 1_000 })({ body: { s: "a, b;c" } }),
    ).toBe(true);
  });

  it("M11 - a regex RE2 cannot run in linear time (a backreference, lookaround) is a config error naming the field", () => {
    for (const expression of ["$contains(body.x, /(a+)\\1/)", "$match(body.x, /a(?=b)/)"]) {
      let err: unknown;
      try {
        compileFilter(expression, { timeoutMs: 50, field: "destinations[2].filter" });
      } catch (e) {
        err = e;
      }
      expect(isConfigError(err) && err.field).toBe("destinations[2].filter");
    }
  });

  it("M11 - the limit counts CPU time: a filter whose evaluation waits (a stalled machine) is not failed for it", async () => {
    const wait = () => new Promise((resolve) => setTimeout(() => resolve(1), 60));
    const f = compileFilter("$count($map([1, 2, 3], $$.wait)) = 3", { timeoutMs: 50 });
    expect(await f({ wait })).toBe(true);
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
