import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "@tributary/errors";
import { SealedSecretError, SealingKeys } from "../src/index.js";

const key = () => randomBytes(32).toString("base64");
const RECORD = "sources/shop/secrets/s1";

describe("sealed secrets", () => {
  it("seal - opens with its key and record; the text holds neither the secret nor the key", () => {
    const k1 = key();
    const keys = SealingKeys.parse(`k1:${k1}`, "keys");
    const sealed = keys.seal("whsec_c2VjcmV0LXZhbHVl", RECORD);
    expect(sealed).toMatch(/^v1\.k1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain("whsec_");
    expect(sealed).not.toContain(k1);
    expect(keys.open(sealed, RECORD)).toBe("whsec_c2VjcmV0LXZhbHVl");
    expect(keys.seal("same", RECORD)).not.toBe(keys.seal("same", RECORD)); // a fresh IV each time
  });

  it("seal - a value moved to another record, or altered, does not open", () => {
    const keys = SealingKeys.parse(`k1:${key()}`, "keys");
    const sealed = keys.seal("secret", RECORD);
    expect(() => keys.open(sealed, "sources/other/secrets/s1")).toThrow(SealedSecretError);
    const parts = sealed.split(".");
    parts[3] = Buffer.from("tampered").toString("base64url");
    expect(() => keys.open(parts.join("."), RECORD)).toThrow(
      expect.objectContaining({ code: "sealed_invalid" }) as Error,
    );
    expect(() => keys.open("not-sealed", RECORD)).toThrow(SealedSecretError);
  });

  it("rotation - a new current key seals, the old one still opens what it sealed, a missing one is named", () => {
    const [k1, k2] = [key(), key()];
    const before = SealingKeys.parse(`k1:${k1}`, "keys");
    const old = before.seal("secret", RECORD);
    const rotated = SealingKeys.parse(`k2:${k2},k1:${k1}`, "keys");
    expect(rotated.currentId).toBe("k2");
    expect(rotated.open(old, RECORD)).toBe("secret");
    expect(rotated.isCurrent(old)).toBe(false);
    const fresh = rotated.seal("secret", RECORD);
    expect(rotated.isCurrent(fresh)).toBe(true);
    const afterRetire = SealingKeys.parse(`k2:${k2}`, "keys");
    expect(() => afterRetire.open(old, RECORD)).toThrow(
      expect.objectContaining({ code: "sealed_key_unknown" }) as Error,
    );
  });

  it("config - bad key lists are config errors naming the field; a keys file works", () => {
    for (const text of [
      "",
      "k1",
      `k1:${Buffer.alloc(16).toString("base64")}`,
      `k1:${key()},k1:${key()}`,
      `bad id:${key()}`,
    ])
      expect(() => SealingKeys.parse(text, "TRIBUTARY_SEALING_KEYS"), text).toThrow(ConfigError);
    expect(() => SealingKeys.fromEnv({})).toThrow(/TRIBUTARY_SEALING_KEYS: is not set/);
    const dir = mkdtempSync(join(tmpdir(), "sealing-"));
    try {
      writeFileSync(join(dir, "keys"), `k9:${key()}\n`);
      expect(SealingKeys.fromEnv({ TRIBUTARY_SEALING_KEYS_FILE: join(dir, "keys") }).currentId).toBe("k9");
      expect(() => SealingKeys.fromEnv({ TRIBUTARY_SEALING_KEYS_FILE: join(dir, "missing") })).toThrow(
        /TRIBUTARY_SEALING_KEYS_FILE: cannot read/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
