import { describe, expect, it } from "vitest";
import { ConfigError, isConfigError } from "@tributary/errors";
import { SCHEME_TYPES, createScheme, isSchemeType } from "../src/index.js";
import type { SchemeConfig } from "../src/index.js";

function configError(config: unknown): ConfigError {
  try {
    createScheme(config as SchemeConfig);
  } catch (err) {
    if (isConfigError(err)) return err;
    throw err;
  }
  throw new Error("expected createScheme to throw");
}

describe("createScheme", () => {
  it("config - builds each known scheme type", () => {
    for (const type of SCHEME_TYPES) {
      const config = type === "hmac" ? { type, signatureHeader: "x-signature" } : { type };
      expect(createScheme(config as SchemeConfig).name).toBe(type);
    }
    expect(SCHEME_TYPES).toEqual([
      "webhook-hmac-sha256",
      "hmac-sha256-body",
      "standard-webhooks",
      "svix",
      "stripe",
      "github",
      "shopify",
      "hmac",
    ]);
  });

  it("config - isSchemeType accepts the type names only", () => {
    expect(SCHEME_TYPES.every((type) => isSchemeType(type))).toBe(true);
    expect(isSchemeType("toString")).toBe(false);
    expect(isSchemeType("Stripe")).toBe(false);
  });

  it("config - every scheme names where its delivery id comes from", () => {
    const sources = Object.fromEntries(
      SCHEME_TYPES.map((type) => {
        const config = type === "hmac" ? { type, signatureHeader: "x-signature" } : { type };
        return [type, createScheme(config as SchemeConfig).deliveryIdSource];
      }),
    );
    // Only what the signature covers: a signed id header, a field of the (signed) body, or the body's hash.
    expect(sources).toEqual({
      "webhook-hmac-sha256": { from: "body", field: "event_id" },
      "hmac-sha256-body": { from: "none" },
      "standard-webhooks": { from: "header", header: "webhook-id" },
      svix: { from: "header", header: "svix-id" },
      stripe: { from: "body", field: "id" },
      github: { from: "none" },
      shopify: { from: "none" },
      hmac: { from: "none" },
    });
  });

  it("config - every scheme says whether its signature covers a timestamp (which bounds a replay in time)", () => {
    const timestamped = SCHEME_TYPES.filter((type) => {
      const config = type === "hmac" ? { type, signatureHeader: "x-signature" } : { type };
      return createScheme(config as SchemeConfig).signsTimestamp;
    });
    expect(timestamped).toEqual(["webhook-hmac-sha256", "standard-webhooks", "svix", "stripe"]);
  });

  it("H3 - no scheme takes an id header its signature does not cover; null (key by the body) is still accepted", () => {
    for (const type of ["webhook-hmac-sha256", "hmac-sha256-body", "github", "shopify"] as const) {
      const err = configError({ type, idHeader: "x-delivery-id" });
      expect(err.field, type).toBe("idHeader");
      expect(createScheme({ type, idHeader: null } as SchemeConfig).name).toBe(type);
    }
  });

  it("config - an unknown type names the type field", () => {
    const err = configError({ type: "paypal" });
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.name).toBe("ConfigError");
    expect(err.field).toBe("type");
    expect(err.message).toContain("webhook-hmac-sha256");
  });

  it("config - a non-object config is refused", () => {
    expect(configError(null).field).toBe("config");
    expect(configError("webhook-hmac-sha256").field).toBe("config");
    expect(configError([]).field).toBe("config");
  });

  it("config - an unknown option names itself, so typos never fall back to defaults", () => {
    expect(configError({ type: "webhook-hmac-sha256", signatureHedaer: "x-sig" }).field).toBe("signatureHedaer");
  });

  it("config - an option of another scheme is refused", () => {
    expect(configError({ type: "hmac-sha256-body", timestampHeader: "x-ts" }).field).toBe("timestampHeader");
  });

  it("config - header names must be HTTP tokens", () => {
    expect(configError({ signatureHeader: "" }).field).toBe("signatureHeader");
    expect(configError({ signatureHeader: "x sig" }).field).toBe("signatureHeader");
    expect(configError({ timestampHeader: "x-ts:" }).field).toBe("timestampHeader");
    expect(configError({ type: "standard-webhooks", idHeader: 42 }).field).toBe("idHeader");
    expect(configError({ signatureHeader: "x".repeat(129) }).field).toBe("signatureHeader");
  });

  it("config - options of the provider schemes are checked the same way", () => {
    expect(configError({ type: "stripe", idHeader: "x-id" }).field).toBe("idHeader");
    expect(configError({ type: "svix", timestampHeader: null }).field).toBe("timestampHeader");
    expect(configError({ type: "github", signatureHeader: "x hub" }).field).toBe("signatureHeader");
    expect(configError({ type: "shopify", algorithm: "sha512" }).field).toBe("algorithm");
    expect(createScheme({ type: "github", signatureHeader: "X-Hub-Signature-256", idHeader: null }).name).toBe(
      "github",
    );
  });

  it("config - only idHeader may be null", () => {
    expect(configError({ signatureHeader: null }).field).toBe("signatureHeader");
    expect(createScheme({ idHeader: null }).name).toBe("webhook-hmac-sha256");
  });

  it("config - two options naming the same header (any case) are refused", () => {
    const err = configError({ signatureHeader: "X-Sig", timestampHeader: "x-sig" });
    expect(err.field).toBe("timestampHeader");
    expect(configError({ type: "standard-webhooks", idHeader: "Webhook-Signature" }).field).toBe("idHeader");
  });
});
