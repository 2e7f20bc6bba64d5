import { describe, expect, it } from "vitest";
import { createScheme } from "../src/index.js";
import type { HeaderValue, VerifyResult } from "../src/index.js";
import { BODY, CURRENT, NOW, PREVIOUS, ctx, flipByte, flipHex, signBody, signTimestamped } from "./fixtures.js";

const scheme = createScheme({ type: "hmac-sha256-body" });

function code(result: VerifyResult): string | undefined {
  return result.ok ? undefined : result.code;
}

function headers(sig: HeaderValue = signBody(CURRENT.key, BODY)): Record<string, HeaderValue> {
  return { "x-webhook-signature": sig, "x-webhook-id": "dlv_1" };
}

describe("hmac-sha256-body", () => {
  it("valid - accepts the body-only signature with timestamp null and no delivery id by default", () => {
    expect(scheme.verify({ headers: headers(), rawBody: BODY }, ctx())).toEqual({
      ok: true,
      secretId: "current",
      timestamp: null,
      deliveryId: null,
    });
    expect(scheme.name).toBe("hmac-sha256-body");
  });

  it("valid - no timestamp header is needed and the clock is irrelevant", () => {
    expect(scheme.verify({ headers: headers(), rawBody: BODY }, ctx({ nowSeconds: 0 })).ok).toBe(true);
  });

  it("valid - uppercase hex is accepted", () => {
    expect(
      scheme.verify({ headers: headers(signBody(CURRENT.key, BODY).toUpperCase()), rawBody: BODY }, ctx()).ok,
    ).toBe(true);
  });

  it("delivery id - none: only the body is signed, so an id header cannot be configured (a replay could change it)", () => {
    expect(scheme.deliveryIdSource).toEqual({ from: "none" });
    expect(scheme.signsTimestamp).toBe(false);
    expect(() => createScheme({ type: "hmac-sha256-body", idHeader: "X-Webhook-Id" } as never)).toThrow(
      expect.objectContaining({ field: "idHeader" }),
    );
    expect(
      createScheme({ type: "hmac-sha256-body", idHeader: null }).verify({ headers: headers(), rawBody: BODY }, ctx()),
    ).toMatchObject({
      ok: true,
      deliveryId: null,
    });
  });

  it("rotation - the second active secret verifies and is named", () => {
    const result = scheme.verify(
      { headers: headers(signBody(PREVIOUS.key, BODY)), rawBody: BODY },
      ctx({ secrets: [CURRENT, PREVIOUS] }),
    );
    expect(result).toMatchObject({ ok: true, secretId: "previous" });
  });

  it("tampering - one flipped byte in the body or digit in the signature is a mismatch", () => {
    expect(code(scheme.verify({ headers: headers(), rawBody: flipByte(BODY, 5) }, ctx()))).toBe("signature_mismatch");
    const flipped = flipHex(signBody(CURRENT.key, BODY), 40);
    expect(code(scheme.verify({ headers: headers(flipped), rawBody: BODY }, ctx()))).toBe("signature_mismatch");
  });

  it("tampering - a timestamped signature is not accepted as a body signature", () => {
    const sig = signTimestamped(CURRENT.key, String(NOW), BODY);
    expect(code(scheme.verify({ headers: headers(sig), rawBody: BODY }, ctx()))).toBe("signature_mismatch");
  });

  it("missing - no signature header → signature_missing", () => {
    expect(code(scheme.verify({ headers: {}, rawBody: BODY }, ctx()))).toBe("signature_missing");
  });

  it("malformed - array, oversized and non-hex headers are mismatches, never throws", () => {
    const sig = signBody(CURRENT.key, BODY);
    expect(code(scheme.verify({ headers: headers([sig, sig]), rawBody: BODY }, ctx()))).toBe("signature_mismatch");
    expect(code(scheme.verify({ headers: headers("f".repeat(4096)), rawBody: BODY }, ctx()))).toBe(
      "signature_mismatch",
    );
    expect(code(scheme.verify({ headers: headers(`v1=${sig}`), rawBody: BODY }, ctx()))).toBe("signature_mismatch");
  });
});
