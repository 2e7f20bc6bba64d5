import { describe, expect, it } from "vitest";
import { isValidFieldPath, readBodyField } from "../src/index.js";

const body = JSON.parse(
  '{"id":"evt_1","event_id":12345,"data":{"click_id":"clk_9","nested":{"deep":"d"},"list":["a"],"flag":true,"nil":null,"big":12345678901234567890,"float":1.5,"empty":""}}',
) as unknown;

describe("readBodyField", () => {
  it("paths - top-level and dotted paths", () => {
    expect(readBodyField(body, "id")).toBe("evt_1");
    expect(readBodyField(body, "data.click_id")).toBe("clk_9");
    expect(readBodyField(body, "data.nested.deep")).toBe("d");
  });

  it("values - finite numbers become their decimal text", () => {
    expect(readBodyField(body, "event_id")).toBe("12345");
    expect(readBodyField(body, "data.float")).toBe("1.5");
  });

  it("values - integers beyond 2^53 are refused (JSON.parse already rounded them)", () => {
    expect(readBodyField(body, "data.big")).toBeNull();
  });

  it("values - booleans, null, objects, arrays and empty strings give null", () => {
    for (const path of ["data.flag", "data.nil", "data.nested", "data.list", "data.empty"]) {
      expect(readBodyField(body, path), path).toBeNull();
    }
  });

  it("paths - missing segments and non-object parents give null", () => {
    expect(readBodyField(body, "missing")).toBeNull();
    expect(readBodyField(body, "id.length")).toBeNull();
    expect(readBodyField(body, "data.list.0")).toBeNull();
    expect(readBodyField(null, "id")).toBeNull();
    expect(readBodyField("evt_1", "id")).toBeNull();
    expect(readBodyField([{ id: "x" }], "0.id")).toBeNull();
  });

  it("paths - prototype keys are never followed", () => {
    expect(readBodyField({}, "constructor.name")).toBeNull();
    expect(readBodyField({}, "__proto__")).toBeNull();
    expect(readBodyField({}, "toString")).toBeNull();
    const hostile = JSON.parse('{"__proto__":{"id":"own"}}') as unknown;
    expect(readBodyField(hostile, "__proto__.id")).toBe("own"); // an own JSON key, not the prototype
  });

  it("paths - malformed paths give null and are reported by isValidFieldPath", () => {
    for (const path of ["", ".", "a.", ".a", "a..b", Array(17).fill("a").join(".")]) {
      expect(readBodyField({ a: { b: "x" } }, path), path).toBeNull();
      expect(isValidFieldPath(path), path).toBe(false);
    }
    expect(isValidFieldPath("data.click_id")).toBe(true);
  });
});
