import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, MAX_JSON_NODES, parseEventBody } from "../src/index.js";

const utf8 = (text: string): Buffer => Buffer.from(text, "utf8");

describe("parseEventBody", () => {
  it("parse - returns the value and the decoded text", () => {
    const text = '{"event":"link.clicked","data":{"city":"Zürich"}}';
    expect(parseEventBody(utf8(text))).toEqual({
      ok: true,
      value: { event: "link.clicked", data: { city: "Zürich" } },
      text,
    });
  });

  it("parse - strips one leading UTF-8 BOM", () => {
    const result = parseEventBody(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('{"a":1}')]));
    expect(result).toEqual({ ok: true, value: { a: 1 }, text: '{"a":1}' });
  });

  it("parse - a second BOM is not whitespace and is invalid JSON", () => {
    const result = parseEventBody(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), utf8("{}")]));
    expect(result).toMatchObject({ ok: false, code: "invalid_json" });
  });

  it("parse - invalid UTF-8 is invalid_json, never replaced with U+FFFD", () => {
    const result = parseEventBody(Buffer.concat([utf8('{"a":"'), Buffer.from([0xc3, 0x28]), utf8('"}')]));
    expect(result).toEqual({ ok: false, code: "invalid_json", message: "body is not valid UTF-8" });
  });

  it("parse - a truncated multi-byte sequence is invalid UTF-8", () => {
    expect(parseEventBody(Buffer.from([0x7b, 0x7d, 0xe2, 0x82]))).toMatchObject({ ok: false, code: "invalid_json" });
  });

  it("parse - malformed JSON is invalid_json with the parser's reason", () => {
    const result = parseEventBody(utf8('{"event": '));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe("invalid_json");
      expect(result.message).toMatch(/^body is not valid JSON: /);
    }
  });

  it("parse - an empty body is invalid_json", () => {
    expect(parseEventBody(Buffer.alloc(0))).toEqual({
      ok: false,
      code: "invalid_json",
      message: "body is empty; send a JSON object",
    });
  });

  it("parse - scalars, arrays and null parse (the validator refuses them as bodies)", () => {
    expect(parseEventBody(utf8("[1,2]"))).toMatchObject({ ok: true, value: [1, 2] });
    expect(parseEventBody(utf8("null"))).toMatchObject({ ok: true, value: null });
    expect(parseEventBody(utf8('"x"'))).toMatchObject({ ok: true, value: "x" });
  });

  it("parse - refuses a __proto__ key anywhere, with its path", () => {
    const result = parseEventBody(utf8('{"event":"a","data":{"items":[{"__proto__":{"admin":true}}]}}'));
    expect(result).toEqual({
      ok: false,
      code: "invalid_json",
      message: "body contains the forbidden key data.items[0].__proto__ (prototype poisoning)",
    });
  });

  it("parse - the path quotes keys that are not identifiers", () => {
    const result = parseEventBody(utf8('{"data":{"odd key":{"__proto__":{}}}}'));
    expect(result).toMatchObject({
      message: 'body contains the forbidden key data["odd key"].__proto__ (prototype poisoning)',
    });
  });

  it("parse - refuses __proto__ written with unicode escapes", () => {
    const result = parseEventBody(utf8('{"\\u005f_pro\\u0074o__":{"x":1}}'));
    expect(result).toMatchObject({ ok: false, code: "invalid_json" });
  });

  it("parse - refuses constructor.prototype", () => {
    const result = parseEventBody(utf8('{"data":{"constructor":{"prototype":{"x":1}}}}'));
    expect(result).toEqual({
      ok: false,
      code: "invalid_json",
      message: "body contains the forbidden key data.constructor.prototype (prototype poisoning)",
    });
  });

  it("parse - a plain constructor field and the text __proto__ in values are accepted", () => {
    const result = parseEventBody(utf8('{"data":{"constructor":"Ferrari","note":"__proto__ is a word"}}'));
    expect(result).toMatchObject({ ok: true, value: { data: { constructor: "Ferrari" } } });
  });

  it("parse - deep nesting is refused by the depth limit before any recursive scan", () => {
    const depth = 20_000;
    const text = `${'{"a":'.repeat(depth)}{"__proto__":1}${"}".repeat(depth)}`;
    expect(parseEventBody(utf8(text))).toMatchObject({ ok: false, code: "json_limits_exceeded" });
  });
});

describe("parse limits", () => {
  it("parse - a body nested deeper than MAX_JSON_DEPTH is json_limits_exceeded", () => {
    const deep = "[".repeat(MAX_JSON_DEPTH + 1) + "]".repeat(MAX_JSON_DEPTH + 1);
    expect(parseEventBody(Buffer.from(deep))).toMatchObject({ ok: false, code: "json_limits_exceeded" });
    const ok = "[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH);
    expect(parseEventBody(Buffer.from(ok)).ok).toBe(true);
  });

  it("parse - a body with more than MAX_JSON_NODES keys and elements is json_limits_exceeded", () => {
    const many = JSON.stringify({ data: Array.from({ length: MAX_JSON_NODES }, (_, i) => i) });
    expect(parseEventBody(Buffer.from(many))).toMatchObject({ ok: false, code: "json_limits_exceeded" });
  });

  it("parse - nesting 100,000 deep is refused, not a stack overflow", () => {
    const hostile = "[".repeat(100_000) + "]".repeat(100_000);
    const result = parseEventBody(Buffer.from(hostile));
    expect(result.ok).toBe(false);
  });
});

describe("parse unicode", () => {
  it("parse - a lone surrogate escape is invalid_json naming where it is", () => {
    const result = parseEventBody(Buffer.from('{"event":"link.clicked","data":{"link_id":"\\ud800"}}'));
    expect(result).toMatchObject({ ok: false, code: "invalid_json" });
    expect((result as { message: string }).message).toContain("data.link_id");
  });

  it("parse - a proper surrogate pair and an escaped backslash before 'ud800' are fine", () => {
    expect(parseEventBody(Buffer.from('{"event":"x","data":{"emoji":"\\ud83d\\ude00"}}')).ok).toBe(true);
    expect(parseEventBody(Buffer.from('{"event":"x","data":{"path":"C:\\\\ud800"}}')).ok).toBe(true);
  });
});
