import { describe, expect, it } from "vitest";
import { oneLine, regionSeqOf } from "../src/index.js";

function message(headers: Record<string, string>, seq: number) {
  return { headers: { get: (name: string) => headers[name] ?? "" }, seq };
}

describe("event headers", () => {
  it("region sequence - a sourced message keeps its origin region's sequence; a replayed one carries it; otherwise its own", () => {
    expect(regionSeqOf(message({ "Nats-Stream-Source": "EVENTS_US:f3a1 17 > >" }, 900))).toBe(17);
    expect(regionSeqOf(message({}, 900))).toBe(900);
    expect(regionSeqOf(message({ "Nats-Stream-Source": "garbage" }, 900))).toBe(900);
    expect(regionSeqOf(message({ "Tributary-Region-Seq": "23", "Nats-Stream-Source": "EVENTS_US 17 > >" }, 900))).toBe(
      23,
    );
    expect(regionSeqOf({ seq: 0 })).toBe(0);
  });

  it("header values - control characters, line breaks among them, become one space", () => {
    expect(oneLine("warehouse said:\r\ncolumn x\tis not nullable\n")).toBe("warehouse said: column x is not nullable");
    expect(oneLine("a\u0000\u007fb")).toBe("a b");
  });
});
