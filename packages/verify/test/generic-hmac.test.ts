import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, isConfigError } from "@tributary/errors";
import { createScheme } from "../src/index.js";
import type { GenericHmacConfig, HeaderValue, SchemeConfig } from "../src/index.js";
import { BODY, CURRENT, NOW, PREVIOUS, ctx, failureCode, flipByte, flipChar } from "./fixtures.js";

function mac(algorithm: string, key: Buffer, parts: Array<string | Buffer>): Buffer {
  const h = createHmac(algorithm, key);
  for (const part of parts) h.update(part);
  return h.digest();
}

function configError(config: unknown): ConfigError {
  try {
    createScheme(config as SchemeConfig);
  } catch (err) {
    if (isConfigError(err)) return err;
    throw err;
  }
  throw new Error("expected createScheme to throw");
}

describe("hmac (generic) - verify", () => {
  it("defaults - SHA-256, hex, no prefix, body only, no id", () => {
    const scheme = createScheme({ type: "hmac", signatureHeader: "X-Signature" });
    const sig = mac("sha256", CURRENT.key, [BODY]).toString("hex");
    expect(scheme.verify({ headers: { "x-signature": sig }, rawBody: BODY }, ctx())).toEqual({
      ok: true,
      secretId: "current",
      timestamp: null,
      deliveryId: null,
    });
    expect(scheme.name).toBe("hmac");
    expect(scheme.deliveryIdSource).toEqual({ from: "none" });
  });

  it("sha512 + base64 + prefix + timestamp: the default template becomes {timestamp}.{body}", () => {
    const config: GenericHmacConfig = {
      type: "hmac",
      signatureHeader: "X-Sig",
      algorithm: "sha512",
      encoding: "base64",
      prefix: "sha512=",
      timestampHeader: "X-Sig-Time",
    };
    const scheme = createScheme(config);
    const ts = String(NOW);
    const sig = `sha512=${mac("sha512", CURRENT.key, [`${ts}.`, BODY]).toString("base64")}`;
    const headers: Record<string, HeaderValue> = { "x-sig": sig, "x-sig-time": ts };
    expect(scheme.verify({ headers, rawBody: BODY }, ctx())).toMatchObject({ ok: true, timestamp: NOW });

    expect(
      failureCode(scheme.verify({ headers: { ...headers, "x-sig-time": String(NOW + 1) }, rawBody: BODY }, ctx())),
    ).toBe("signature_mismatch");
    expect(
      failureCode(scheme.verify({ headers: { ...headers, "x-sig-time": String(NOW - 301) }, rawBody: BODY }, ctx())),
    ).toBe("timestamp_out_of_tolerance");
    expect(failureCode(scheme.verify({ headers: { ...headers, "x-sig-time": "later" }, rawBody: BODY }, ctx()))).toBe(
      "timestamp_invalid",
    );
    expect(failureCode(scheme.verify({ headers: { "x-sig": sig }, rawBody: BODY }, ctx()))).toBe("timestamp_missing");
    expect(failureCode(scheme.verify({ headers: { ...headers, "x-sig": sig.slice(7) }, rawBody: BODY }, ctx()))).toBe(
      "signature_mismatch",
    );
  });

  it("{id}.{timestamp}.{body} - the id is signed, reported, and tampering with it is a mismatch", () => {
    const scheme = createScheme({
      type: "hmac",
      signatureHeader: "x-sig",
      timestampHeader: "x-ts",
      idHeader: "x-id",
      signedContent: "{id}.{timestamp}.{body}",
    });
    expect(scheme.deliveryIdSource).toEqual({ from: "header", header: "x-id" });
    expect(scheme.signsTimestamp).toBe(true);
    const ts = String(NOW);
    const sig = mac("sha256", PREVIOUS.key, ["evt_42.", ts, ".", BODY]).toString("hex");
    const headers: Record<string, HeaderValue> = { "x-sig": sig, "x-ts": ts, "x-id": "evt_42" };
    const c = ctx({ secrets: [CURRENT, PREVIOUS] });
    expect(scheme.verify({ headers, rawBody: BODY }, c)).toEqual({
      ok: true,
      secretId: "previous",
      timestamp: NOW,
      deliveryId: "evt_42",
    });
    expect(failureCode(scheme.verify({ headers: { ...headers, "x-id": "evt_43" }, rawBody: BODY }, c))).toBe(
      "signature_mismatch",
    );
    expect(failureCode(scheme.verify({ headers: { ...headers, "x-id": undefined }, rawBody: BODY }, c))).toBe(
      "signature_mismatch",
    );
    expect(failureCode(scheme.verify({ headers, rawBody: flipByte(BODY, 3) }, c))).toBe("signature_mismatch");
    expect(failureCode(scheme.verify({ headers: { ...headers, "x-sig": flipChar(sig, 17) }, rawBody: BODY }, c))).toBe(
      "signature_mismatch",
    );
  });

  it("literal text in the template is signed as UTF-8", () => {
    const scheme = createScheme({ type: "hmac", signatureHeader: "x-sig", signedContent: "v0:{body}" });
    const sig = mac("sha256", CURRENT.key, ["v0:", BODY]).toString("hex");
    expect(scheme.verify({ headers: { "x-sig": sig }, rawBody: BODY }, ctx()).ok).toBe(true);
    const bodyOnly = mac("sha256", CURRENT.key, [BODY]).toString("hex");
    expect(failureCode(scheme.verify({ headers: { "x-sig": bodyOnly }, rawBody: BODY }, ctx()))).toBe(
      "signature_mismatch",
    );
  });

  it("H3 - an id header the template does not sign is a config error: a replay could carry any id, so it cannot key events", () => {
    expect(configError({ type: "hmac", signatureHeader: "x-sig", idHeader: "x-id" }).field).toBe("idHeader");
    expect(
      configError({ type: "hmac", signatureHeader: "x-sig", timestampHeader: "x-ts", idHeader: "x-id" }).field,
    ).toBe("idHeader");
    const scheme = createScheme({ type: "hmac", signatureHeader: "x-sig", idHeader: null });
    expect(scheme.deliveryIdSource).toEqual({ from: "none" });
    expect(scheme.signsTimestamp).toBe(false);
  });
});

describe("hmac (generic) - config", () => {
  const base = { type: "hmac", signatureHeader: "x-sig" };
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["signatureHeader is required", { type: "hmac" }, "signatureHeader"],
    ["signatureHeader cannot be null", { type: "hmac", signatureHeader: null }, "signatureHeader"],
    ["unknown algorithm", { ...base, algorithm: "md5" }, "algorithm"],
    ["unknown encoding", { ...base, encoding: "base64url" }, "encoding"],
    ["prefix with a space", { ...base, prefix: "sha256 =" }, "prefix"],
    ["prefix too long", { ...base, prefix: "p".repeat(33) }, "prefix"],
    ["template without {body}", { ...base, signedContent: "{timestamp}" }, "signedContent"],
    ["unknown placeholder", { ...base, timestampHeader: "x-ts", signedContent: "{ts}.{body}" }, "signedContent"],
    ["unclosed brace", { ...base, signedContent: "{body" }, "signedContent"],
    ["stray closing brace", { ...base, signedContent: "}{body}" }, "signedContent"],
    ["placeholder twice", { ...base, signedContent: "{body}{body}" }, "signedContent"],
    ["empty template", { ...base, signedContent: "" }, "signedContent"],
    ["{timestamp} without a timestamp header", { ...base, signedContent: "{timestamp}.{body}" }, "timestampHeader"],
    ["timestamp header not signed", { ...base, timestampHeader: "x-ts", signedContent: "{body}" }, "signedContent"],
    ["{id} without an id header", { ...base, signedContent: "{id}.{body}" }, "idHeader"],
    ["same header twice", { ...base, idHeader: "X-Sig" }, "idHeader"],
    ["an option of another scheme", { ...base, tolerance: 5 }, "tolerance"],
  ];
  for (const [name, config, field] of cases) {
    it(`config - ${name} → field ${field}`, () => {
      expect(configError(config).field).toBe(field);
    });
  }
});
