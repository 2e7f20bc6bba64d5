import { describe, expect, it } from "vitest";
import { ConfigError } from "@tributary/errors";
import { SCHEME_TYPES, decodeSecret } from "../src/index.js";
import type { SchemeType } from "../src/index.js";
import { ed25519KeyPair } from "./fixtures.js";

function decodeError(text: string, type: SchemeType): ConfigError {
  try {
    decodeSecret(text, type);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected decodeSecret to throw");
}

describe("decodeSecret", () => {
  const raw = Buffer.from("0123456789abcdef01234567");
  const whsec = `whsec_${raw.toString("base64")}`;
  const publicKey = ed25519KeyPair().publicKey;
  const whpk = `whpk_${publicKey.toString("base64")}`;

  it("standard-webhooks and svix - whsec_ is base64-decoded to the HMAC key", () => {
    for (const type of ["standard-webhooks", "svix"] as const) {
      expect(decodeSecret(whsec, type)).toEqual({ key: raw, kind: "hmac" });
    }
  });

  it("standard-webhooks and svix - whpk_ is a 32-byte ed25519 public key", () => {
    expect(decodeSecret(whpk, "standard-webhooks")).toEqual({ key: publicKey, kind: "ed25519-public" });
    expect(decodeSecret(whpk, "svix")).toEqual({ key: publicKey, kind: "ed25519-public" });
  });

  it("standard-webhooks - a secret without prefix is refused (a bare public key must not become an HMAC key)", () => {
    expect(decodeError(raw.toString("base64"), "standard-webhooks").field).toBe("secret");
    expect(decodeError(publicKey.toString("base64"), "svix").message).toMatch(/whsec_.*whpk_/);
  });

  it("standard-webhooks - bad base64, empty secrets and wrong key sizes are refused", () => {
    expect(() => decodeSecret("whsec_", "standard-webhooks")).toThrow(ConfigError);
    expect(() => decodeSecret("whsec_not base64!", "standard-webhooks")).toThrow(ConfigError);
    expect(() => decodeSecret(`whpk_${Buffer.alloc(31).toString("base64")}`, "standard-webhooks")).toThrow(ConfigError);
    expect(() => decodeSecret(`${whpk}AAAA`, "standard-webhooks")).toThrow(ConfigError);
  });

  it("every type - a whsk_ private key is refused: receivers need only the public key", () => {
    for (const type of SCHEME_TYPES) {
      expect(decodeError(`whsk_${Buffer.alloc(32).toString("base64")}`, type).message).toMatch(/whpk_/);
    }
  });

  it("other types - the text as typed, UTF-8 (Stripe keys with the whole whsec_ string)", () => {
    expect(decodeSecret(whsec, "stripe")).toEqual({ key: Buffer.from(whsec), kind: "hmac" });
    expect(decodeSecret("It's a Secret to Everybody", "github").key.toString()).toBe("It's a Secret to Everybody");
    expect(decodeSecret("shpss_x", "shopify").key.toString()).toBe("shpss_x");
    expect(decodeSecret("ü", "hmac").key).toEqual(Buffer.from([0xc3, 0xbc]));
  });

  it("other types - a public key is refused; an empty secret is refused", () => {
    expect(decodeError(whpk, "github").message).toMatch(/cannot use/);
    expect(decodeError("", "webhook-hmac-sha256").field).toBe("secret");
  });

  it("errors - never echo the secret text", () => {
    const text = "whsec_TOPSECRET!";
    expect(decodeError(text, "standard-webhooks").message).not.toContain("TOPSECRET");
  });
});
