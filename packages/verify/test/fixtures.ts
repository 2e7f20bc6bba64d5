// Fixtures sign with node:crypto directly, never with the code under test, so a bug in the
// package cannot sign and verify its own mistake.
import { createHmac, generateKeyPairSync, sign as cryptoSign } from "node:crypto";
import type { SourceSecret, VerifyContext, VerifyResult } from "../src/index.js";

export const NOW = 1_779_114_720; // 2026-05-18T14:32:00Z
export const CURRENT: SourceSecret = { id: "current", key: Buffer.from("whsec-current-0123456789abcdef") };
export const PREVIOUS: SourceSecret = { id: "previous", key: Buffer.from("whsec-previous-0123456789abcdef") };
export const BODY = Buffer.from(
  '{"event":"link.clicked","timestamp":"2026-05-18T14:32:00.000Z","data":{"prefix":"promo","token":"summer-sale"}}',
);

export function ctx(overrides: Partial<VerifyContext> = {}): VerifyContext {
  return { secrets: [CURRENT], toleranceSeconds: 300, nowSeconds: NOW, ...overrides };
}

/** The deep-link scheme: hex HMAC-SHA256 of `${timestamp}.${body}`. */
export function signTimestamped(key: Buffer, timestamp: string, body: Buffer): string {
  return createHmac("sha256", key).update(`${timestamp}.`).update(body).digest("hex");
}

/** The older receiver: hex HMAC-SHA256 of the body alone. */
export function signBody(key: Buffer, body: Buffer): string {
  return createHmac("sha256", key).update(body).digest("hex");
}

/** Flips the lowest bit of one character of a hex string, keeping it hex. */
export function flipHex(hex: string, index: number): string {
  const digit = parseInt(hex.charAt(index), 16) ^ 1;
  return hex.slice(0, index) + digit.toString(16) + hex.slice(index + 1);
}

export function flipByte(buf: Buffer, index: number): Buffer {
  const copy = Buffer.from(buf);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

/** The failure code of a result, or undefined when it verified. */
export function failureCode(result: VerifyResult): string | undefined {
  return result.ok ? undefined : result.code;
}

/** Flips the lowest bit of the character at `index` (any string: header text, base64, hex). */
export function flipChar(text: string, index: number): string {
  return text.slice(0, index) + String.fromCharCode(text.charCodeAt(index) ^ 0x01) + text.slice(index + 1);
}

/** Decodes base64, flips one bit of byte `index`, re-encodes: a well-formed but wrong signature. */
export function flipBase64Byte(b64: string, index: number): string {
  return flipByte(Buffer.from(b64, "base64"), index).toString("base64");
}

/** A fresh Ed25519 key pair: the raw 32-byte public key and a signer, per the Standard Webhooks spec. */
export function ed25519KeyPair(): { publicKey: Buffer; sign(data: Buffer): string } {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  if (typeof jwk.x !== "string") throw new Error("ed25519 JWK without x");
  return {
    publicKey: Buffer.from(jwk.x, "base64url"),
    sign: (data) => cryptoSign(null, data, privateKey).toString("base64"),
  };
}

/** The Standard Webhooks signed content: `${id}.${timestamp}.${body}`. */
export function standardContent(id: string, timestamp: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]);
}

/** A body of exactly `bytes` bytes of JSON, for size-sensitive tests and the benchmark. */
export function jsonBody(bytes: number): Buffer {
  const head = '{"event":"link.clicked","id":"evt_0001","data":{"pad":"';
  const tail = '"}}';
  return Buffer.from(head + "x".repeat(Math.max(0, bytes - head.length - tail.length)) + tail);
}
