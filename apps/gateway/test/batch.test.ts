import { describe, expect, it } from "vitest";
import { splitJsonArray, splitNdjson, type SplitResult } from "../src/batch.js";

function items(result: SplitResult): string[] {
  if (!result.ok) throw new Error(`expected items, got ${result.code}: ${result.message}`);
  return result.items.map((b) => b.toString("utf8"));
}

function refusal(result: SplitResult): string {
  if (result.ok) throw new Error(`expected a refusal, got ${result.items.length} items`);
  return result.code;
}

describe("batch split", () => {
  it("ndjson - one item per line, LF or CRLF, blank lines and a trailing newline skipped", () => {
    const body = Buffer.from('{"a":1}\n{"b":2}\r\n\n   \n{"c":"x\\ny"}  \n');
    expect(items(splitNdjson(body, 10))).toEqual(['{"a":1}', '{"b":2}', '{"c":"x\\ny"}']);
  });

  it("ndjson - a leading BOM is dropped; items are subarrays of the body (no copy)", () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n{"b":2}')]);
    const result = splitNdjson(body, 10);
    expect(items(result)).toEqual(['{"a":1}', '{"b":2}']);
    if (result.ok) expect(result.items[0]!.buffer).toBe(body.buffer);
  });

  it("ndjson - no item is invalid_batch, one item too many is batch_too_large", () => {
    expect(refusal(splitNdjson(Buffer.from("\n \r\n"), 10))).toBe("invalid_batch");
    expect(refusal(splitNdjson(Buffer.from("1\n2\n3\n"), 2))).toBe("batch_too_large");
    expect(items(splitNdjson(Buffer.from("1\n2\n"), 2))).toHaveLength(2);
  });

  it("array - elements are the exact bytes between the commas, blanks trimmed", () => {
    const body = Buffer.from(' [ {"a":[1,2,{"b":"],}"}]} ,\n"str\\"ing,]" , 42,{"e":{}}] \n');
    expect(items(splitJsonArray(body, 10))).toEqual(['{"a":[1,2,{"b":"],}"}]}', '"str\\"ing,]"', "42", '{"e":{}}']);
  });

  it("array - malformed elements are kept for the item's own check (invalid_json later)", () => {
    expect(items(splitJsonArray(Buffer.from('[{"a":1}, nope, {"b":}]'), 10))).toEqual(['{"a":1}', "nope", '{"b":}']);
  });

  it("array - structural problems are invalid_batch", () => {
    for (const body of [
      "",
      "{}",
      "[]",
      " [ ] ",
      "[1,]",
      "[,1]",
      "[1,,2]",
      "[1] x",
      '[{"a":1]',
      "[[1}]",
      '[{"a":"]',
      "[1, 2",
    ]) {
      expect(refusal(splitJsonArray(Buffer.from(body), 10)), body).toBe("invalid_batch");
    }
  });

  it("array - more elements than allowed is batch_too_large", () => {
    expect(refusal(splitJsonArray(Buffer.from("[1,2,3]"), 2))).toBe("batch_too_large");
    expect(items(splitJsonArray(Buffer.from("[1,2]"), 2))).toEqual(["1", "2"]);
  });
});
