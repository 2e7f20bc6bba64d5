import { createHmac, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import { findMatchingSecret, parseHexSha256 } from "../src/hmac.js";
import type { SourceSecret } from "../src/index.js";

const secrets: SourceSecret[] = ["a", "b", "c"].map((id) => ({ id, key: Buffer.from(`key-${id}`) }));
const mac = (key: Buffer | KeyObject) => createHmac("sha256", key).update("payload").digest();

function secret(index: number): SourceSecret {
  const found = secrets[index];
  if (found === undefined) throw new Error("fixture");
  return found;
}

describe("findMatchingSecret", () => {
  it("rotation - every secret is hashed and compared even when the first one matches", () => {
    const seen: string[] = [];
    const matched = findMatchingSecret(secrets, [mac(secret(0).key)], (key) => {
      seen.push(key.export().toString());
      return mac(key);
    });
    expect(matched?.id).toBe("a");
    expect(seen).toEqual(["key-a", "key-b", "key-c"]);
  });

  it("rotation - each secret is hashed once however many candidates there are", () => {
    let calls = 0;
    const candidates = [Buffer.alloc(32), mac(secret(2).key), Buffer.alloc(32, 1)];
    const matched = findMatchingSecret(secrets, candidates, (key) => {
      calls += 1;
      return mac(key);
    });
    expect(matched?.id).toBe("c");
    expect(calls).toBe(3);
  });

  it("rotation - a candidate of the wrong length is a mismatch, not a throw", () => {
    expect(findMatchingSecret(secrets, [Buffer.alloc(16)], mac)).toBeNull();
    expect(findMatchingSecret(secrets, [], mac)).toBeNull();
  });

  it("kinds - an ed25519 public key is never used as an HMAC key", () => {
    const publicKey: SourceSecret = { id: "pk", key: Buffer.alloc(32, 9), kind: "ed25519-public" };
    expect(findMatchingSecret([publicKey], [mac(publicKey.key)], mac)).toBeNull();
    const explicit: SourceSecret = { id: "h", key: Buffer.alloc(32, 9), kind: "hmac" };
    expect(findMatchingSecret([explicit], [mac(explicit.key)], mac)?.id).toBe("h");
  });

  it("keys - each key is imported once and reused (the KeyObject cache)", () => {
    const seen = new Set<KeyObject>();
    for (let round = 0; round < 3; round += 1)
      findMatchingSecret([secret(0)], [Buffer.alloc(32)], (key) => (seen.add(key), mac(key)));
    expect(seen.size).toBe(1);
  });

  it("keys - an entry without a Buffer key (untyped caller) matches nothing and never throws", () => {
    const odd = { id: "odd", key: "key-a" } as unknown as SourceSecret;
    expect(findMatchingSecret([odd, secret(0)], [mac(secret(0).key)], mac)?.id).toBe("a");
    expect(findMatchingSecret([odd], [mac(Buffer.from("key-a"))], mac)).toBeNull();
  });

  it("kinds - an unknown kind from an untyped caller fails closed", () => {
    const odd = { id: "odd", key: Buffer.alloc(32, 9), kind: "HMAC" } as unknown as SourceSecret;
    expect(findMatchingSecret([odd], [mac(odd.key)], mac)).toBeNull();
  });
});

describe("parseHexSha256", () => {
  it("format - exactly 64 hex digits decode to 32 bytes, anything else is null", () => {
    expect(parseHexSha256("Ab".repeat(32))?.length).toBe(32);
    expect(parseHexSha256("ab".repeat(32) + "a")).toBeNull();
    expect(parseHexSha256("ab".repeat(31) + "ag")).toBeNull();
    expect(parseHexSha256("")).toBeNull();
  });
});
