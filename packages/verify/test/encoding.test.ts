import { describe, expect, it } from "vitest";
import { headerBytes, parseBase64, parseBase64Any, parseHex } from "../src/encoding.js";

describe("encoding", () => {
  const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7));

  it("hex - exact length, either case; anything else is null", () => {
    expect(parseHex(bytes.toString("hex"), 32)).toEqual(bytes);
    expect(parseHex(bytes.toString("hex").toUpperCase(), 32)).toEqual(bytes);
    expect(parseHex(bytes.toString("hex").slice(1), 32)).toBeNull();
    expect(parseHex(`${bytes.toString("hex").slice(2)}zz`, 32)).toBeNull();
    expect(parseHex(bytes.toString("hex"), 64)).toBeNull();
  });

  it("base64 - exact padded length, canonical spelling only", () => {
    const text = bytes.toString("base64");
    expect(parseBase64(text, 32)).toEqual(bytes);
    expect(parseBase64(text.replace(/=$/, ""), 32)).toBeNull();
    expect(parseBase64(`${text.slice(0, -2)}B=`, 32)).toBeNull(); // non-zero padding bits: not canonical
    expect(parseBase64(bytes.toString("base64url").padEnd(text.length, "="), 32)).toBeNull();
    expect(parseBase64(Buffer.alloc(64, 1).toString("base64"), 64)?.length).toBe(64);
  });

  it("base64 (config) - alphabet and padding, any length", () => {
    expect(parseBase64Any("AAAA")).toEqual(Buffer.alloc(3));
    expect(parseBase64Any("AA==")).toEqual(Buffer.alloc(1));
    expect(parseBase64Any("AA=")).toBeNull();
    expect(parseBase64Any("AA A")).toBeNull();
    expect(parseBase64Any("")).toEqual(Buffer.alloc(0));
  });

  it("header bytes - latin1 round trip; characters beyond U+00FF are refused", () => {
    expect(headerBytes("é")).toEqual(Buffer.from([0xe9]));
    expect(headerBytes("\u0101")).toBeNull();
    expect(headerBytes("😀")).toBeNull();
  });
});
