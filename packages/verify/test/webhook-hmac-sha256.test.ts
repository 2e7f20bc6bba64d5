import { describe, expect, it } from "vitest";
import { createScheme, VERIFY_FAILURE_CODES } from "../src/index.js";
import type { HeaderValue, VerifyResult } from "../src/index.js";
import { BODY, CURRENT, NOW, PREVIOUS, ctx, flipByte, flipHex, signBody, signTimestamped } from "./fixtures.js";

const scheme = createScheme({ type: "webhook-hmac-sha256" });

function signedHeaders(timestamp = String(NOW), body = BODY, key = CURRENT.key): Record<string, HeaderValue> {
  return {
    "content-type": "application/json",
    "x-webhook-timestamp": timestamp,
    "x-webhook-signature": signTimestamped(key, timestamp, body),
    "x-webhook-id": "dlv_01HZY",
  };
}

function failureCode(result: VerifyResult): string | undefined {
  return result.ok ? undefined : result.code;
}

describe("webhook-hmac-sha256", () => {
  it("valid - accepts a correctly signed request and reports secret and timestamp", () => {
    const result = scheme.verify({ headers: signedHeaders(), rawBody: BODY }, ctx());
    expect(result).toEqual({ ok: true, secretId: "current", timestamp: NOW, deliveryId: null });
    expect(scheme.name).toBe("webhook-hmac-sha256");
    expect(scheme.signsTimestamp).toBe(true);
  });

  it("valid - the default scheme when type is omitted", () => {
    const result = createScheme({}).verify({ headers: signedHeaders(), rawBody: BODY }, ctx());
    expect(result.ok).toBe(true);
  });

  it("valid - uppercase hex signature is accepted", () => {
    const headers = signedHeaders();
    headers["x-webhook-signature"] = String(headers["x-webhook-signature"]).toUpperCase();
    expect(scheme.verify({ headers, rawBody: BODY }, ctx()).ok).toBe(true);
  });

  it("valid - surrounding whitespace in header values is ignored", () => {
    const headers = signedHeaders();
    headers["x-webhook-signature"] = ` ${String(headers["x-webhook-signature"])}\t`;
    headers["x-webhook-timestamp"] = ` ${NOW} `;
    expect(scheme.verify({ headers, rawBody: BODY }, ctx()).ok).toBe(true);
  });

  it("valid - a single-element array header is read as that value", () => {
    const headers = signedHeaders();
    headers["x-webhook-signature"] = [String(headers["x-webhook-signature"])];
    expect(scheme.verify({ headers, rawBody: BODY }, ctx()).ok).toBe(true);
  });

  it("valid - empty body signs and verifies", () => {
    const empty = Buffer.alloc(0);
    const result = scheme.verify({ headers: signedHeaders(String(NOW), empty), rawBody: empty }, ctx());
    expect(result.ok).toBe(true);
  });

  it("M1 - x-webhook-id is outside the signed content, so it is never read: the body's own event_id keys instead", () => {
    // A replay under another id verifies as the same request, with no id to make a new key from.
    const headers = { ...signedHeaders(), "x-webhook-id": "replayed-under-a-fresh-id" };
    expect(scheme.verify({ headers, rawBody: BODY }, ctx())).toMatchObject({ ok: true, deliveryId: null });
    expect(scheme.deliveryIdSource).toEqual({ from: "body", field: "event_id" });
    // Naming it (or any header) as the id header is refused; null, the old "key by the body", is accepted.
    for (const idHeader of ["x-webhook-id", "X-Delivery-ID"])
      expect(() => createScheme({ type: "webhook-hmac-sha256", idHeader } as never)).toThrow(
        expect.objectContaining({ field: "idHeader" }),
      );
    expect(createScheme({ type: "webhook-hmac-sha256", idHeader: null }).deliveryIdSource).toEqual({
      from: "body",
      field: "event_id",
    });
  });

  it("custom headers - configured names are honoured, case-insensitively", () => {
    const custom = createScheme({ type: "webhook-hmac-sha256", signatureHeader: "X-Sig", timestampHeader: "X-TS" });
    const ts = String(NOW);
    const headers = { "x-sig": signTimestamped(CURRENT.key, ts, BODY), "x-ts": ts };
    expect(custom.verify({ headers, rawBody: BODY }, ctx()).ok).toBe(true);
    expect(failureCode(scheme.verify({ headers, rawBody: BODY }, ctx()))).toBe("signature_missing");
  });
});

describe("webhook-hmac-sha256 rotation", () => {
  it("rotation - a request signed with the second active secret verifies and names it", () => {
    const headers = signedHeaders(String(NOW), BODY, PREVIOUS.key);
    const result = scheme.verify({ headers, rawBody: BODY }, ctx({ secrets: [CURRENT, PREVIOUS] }));
    expect(result).toMatchObject({ ok: true, secretId: "previous" });
  });

  it("rotation - the first active secret is reported when it matches", () => {
    const result = scheme.verify({ headers: signedHeaders(), rawBody: BODY }, ctx({ secrets: [CURRENT, PREVIOUS] }));
    expect(result).toMatchObject({ ok: true, secretId: "current" });
  });

  it("rotation - a retired secret no longer verifies", () => {
    const headers = signedHeaders(String(NOW), BODY, PREVIOUS.key);
    expect(failureCode(scheme.verify({ headers, rawBody: BODY }, ctx({ secrets: [CURRENT] })))).toBe(
      "signature_mismatch",
    );
  });

  it("rotation - no active secrets refuses every request", () => {
    expect(failureCode(scheme.verify({ headers: signedHeaders(), rawBody: BODY }, ctx({ secrets: [] })))).toBe(
      "signature_mismatch",
    );
  });

  it("rotation - an empty key never matches, even a signature made with it", () => {
    const empty = { id: "empty", key: Buffer.alloc(0) };
    const headers = signedHeaders(String(NOW), BODY, empty.key);
    expect(failureCode(scheme.verify({ headers, rawBody: BODY }, ctx({ secrets: [empty] })))).toBe(
      "signature_mismatch",
    );
  });
});

describe("webhook-hmac-sha256 tampering", () => {
  it("tampering - one flipped byte in the body is a mismatch", () => {
    for (const index of [0, 10, BODY.length - 1]) {
      const result = scheme.verify({ headers: signedHeaders(), rawBody: flipByte(BODY, index) }, ctx());
      expect(failureCode(result)).toBe("signature_mismatch");
    }
  });

  it("tampering - a changed timestamp (still in tolerance) is a mismatch", () => {
    const headers = signedHeaders();
    headers["x-webhook-timestamp"] = String(NOW - 1);
    expect(failureCode(scheme.verify({ headers, rawBody: BODY }, ctx()))).toBe("signature_mismatch");
  });

  it("tampering - one flipped digit in the signature is a mismatch", () => {
    const sig = String(signedHeaders()["x-webhook-signature"]);
    for (const index of [0, 31, 63]) {
      const headers = { ...signedHeaders(), "x-webhook-signature": flipHex(sig, index) };
      expect(failureCode(scheme.verify({ headers, rawBody: BODY }, ctx()))).toBe("signature_mismatch");
    }
  });

  it("tampering - a signature over the body alone (the other scheme) is a mismatch", () => {
    const headers = { ...signedHeaders(), "x-webhook-signature": signBody(CURRENT.key, BODY) };
    expect(failureCode(scheme.verify({ headers, rawBody: BODY }, ctx()))).toBe("signature_mismatch");
  });
});

describe("webhook-hmac-sha256 malformed input", () => {
  const cases: Array<[string, HeaderValue, string]> = [
    ["truncated hex", "ab".repeat(31), "signature_mismatch"],
    ["too long hex", "ab".repeat(33), "signature_mismatch"],
    ["non-hex characters", "zz".repeat(32), "signature_mismatch"],
    ["base64 instead of hex", Buffer.alloc(32, 7).toString("base64"), "signature_mismatch"],
    ["sha256= prefix", `sha256=${"ab".repeat(32)}`, "signature_mismatch"],
    ["joined duplicate", `${"ab".repeat(32)}, ${"cd".repeat(32)}`, "signature_mismatch"],
    ["repeated header (array)", ["ab".repeat(32), "cd".repeat(32)], "signature_mismatch"],
    ["oversized header", "a".repeat(1025), "signature_mismatch"],
    ["one megabyte header", "a".repeat(1 << 20), "signature_mismatch"],
    ["empty string", "", "signature_missing"],
    ["empty array", [], "signature_missing"],
  ];
  for (const [name, value, code] of cases) {
    it(`malformed signature - ${name} → ${code}, no throw`, () => {
      const headers = { ...signedHeaders(), "x-webhook-signature": value };
      expect(failureCode(scheme.verify({ headers, rawBody: BODY }, ctx()))).toBe(code);
    });
  }

  it("malformed signature - a valid signature repeated twice in an array is still refused", () => {
    const sig = String(signedHeaders()["x-webhook-signature"]);
    const headers = { ...signedHeaders(), "x-webhook-signature": [sig, sig] };
    const result = scheme.verify({ headers, rawBody: BODY }, ctx());
    expect(result).toMatchObject({ ok: false, code: "signature_mismatch" });
    expect(result.ok ? "" : result.message).toMatch(/more than once/);
  });

  const timestamps: Array<[string, HeaderValue, string]> = [
    ["non-numeric", "yesterday", "timestamp_invalid"],
    ["ISO date", "2026-05-18T14:32:00Z", "timestamp_invalid"],
    ["negative", `-${NOW}`, "timestamp_invalid"],
    ["fractional", `${NOW}.5`, "timestamp_invalid"],
    ["exponent", "1.7e9", "timestamp_invalid"],
    ["hex", "0x69e1a0e0", "timestamp_invalid"],
    ["milliseconds (13 digits)", `${NOW}000`, "timestamp_invalid"],
    ["repeated header (array)", [String(NOW), String(NOW)], "timestamp_invalid"],
    ["oversized header", "1".repeat(2000), "timestamp_invalid"],
    ["12 digits, far future", "999999999999", "timestamp_out_of_tolerance"],
    ["zero", "0", "timestamp_out_of_tolerance"],
  ];
  for (const [name, value, code] of timestamps) {
    it(`malformed timestamp - ${name} → ${code}, no throw`, () => {
      const headers = { ...signedHeaders(), "x-webhook-timestamp": value };
      expect(failureCode(scheme.verify({ headers, rawBody: BODY }, ctx()))).toBe(code);
    });
  }

  it("malformed input - messages come from fixed text, never echo header values", () => {
    const hostile = "<script>alert(1)</script>";
    const headers = { "x-webhook-signature": hostile, "x-webhook-timestamp": hostile };
    const result = scheme.verify({ headers, rawBody: BODY }, ctx());
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain("script");
  });
});

describe("webhook-hmac-sha256 missing headers", () => {
  it("missing - no signature header → signature_missing", () => {
    const headers = signedHeaders();
    delete headers["x-webhook-signature"];
    expect(failureCode(scheme.verify({ headers, rawBody: BODY }, ctx()))).toBe("signature_missing");
  });

  it("missing - no timestamp header → timestamp_missing", () => {
    const headers = signedHeaders();
    delete headers["x-webhook-timestamp"];
    expect(failureCode(scheme.verify({ headers, rawBody: BODY }, ctx()))).toBe("timestamp_missing");
  });

  it("missing - no headers at all → signature_missing (an unsigned request)", () => {
    expect(failureCode(scheme.verify({ headers: {}, rawBody: BODY }, ctx()))).toBe("signature_missing");
  });

  it("missing - header names are looked up lower-case, as Node delivers them", () => {
    const headers = {
      "X-Webhook-Signature": signedHeaders()["x-webhook-signature"],
      "x-webhook-timestamp": String(NOW),
    };
    expect(failureCode(scheme.verify({ headers, rawBody: BODY }, ctx()))).toBe("signature_missing");
  });

  it("missing - inherited object properties are not headers", () => {
    const headers = Object.create({ "x-webhook-signature": "ab".repeat(32) }) as Record<string, HeaderValue>;
    expect(failureCode(scheme.verify({ headers, rawBody: BODY }, ctx()))).toBe("signature_missing");
  });
});

describe("webhook-hmac-sha256 tolerance", () => {
  function at(offset: number): VerifyResult {
    return scheme.verify({ headers: signedHeaders(String(NOW + offset)), rawBody: BODY }, ctx());
  }

  it("tolerance - exactly tolerance seconds old is accepted", () => {
    expect(at(-300).ok).toBe(true);
  });

  it("tolerance - one second beyond tolerance in the past is stale", () => {
    expect(failureCode(at(-301))).toBe("timestamp_out_of_tolerance");
  });

  it("tolerance - exactly tolerance seconds in the future is accepted", () => {
    expect(at(300).ok).toBe(true);
  });

  it("tolerance - one second beyond tolerance in the future is refused", () => {
    expect(failureCode(at(301))).toBe("timestamp_out_of_tolerance");
  });

  it("tolerance - a stale request is refused even with a valid signature, before any HMAC", () => {
    const result = scheme.verify({ headers: signedHeaders(String(NOW - 3600)), rawBody: BODY }, ctx());
    expect(result).toEqual({
      ok: false,
      code: "timestamp_out_of_tolerance",
      message: VERIFY_FAILURE_CODES.timestamp_out_of_tolerance.message,
    });
  });

  it("tolerance - the context tolerance is used, not a built-in one", () => {
    const headers = signedHeaders(String(NOW - 60));
    expect(failureCode(scheme.verify({ headers, rawBody: BODY }, ctx({ toleranceSeconds: 30 })))).toBe(
      "timestamp_out_of_tolerance",
    );
  });

  it("tolerance - a NaN tolerance or clock fails closed", () => {
    expect(scheme.verify({ headers: signedHeaders(), rawBody: BODY }, ctx({ toleranceSeconds: Number.NaN })).ok).toBe(
      false,
    );
    expect(scheme.verify({ headers: signedHeaders(), rawBody: BODY }, ctx({ nowSeconds: Number.NaN })).ok).toBe(false);
  });
});
