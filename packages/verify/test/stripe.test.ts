import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { MAX_SIGNATURES, createScheme, decodeSecret } from "../src/index.js";
import type { HeaderValue, SourceSecret, VerifyResult } from "../src/index.js";
import { NOW, ctx, failureCode, flipByte, flipChar } from "./fixtures.js";

const scheme = createScheme({ type: "stripe" });
const SECRET_TEXT = "whsec_test_5f3a9c1e7b2d4f6a8c0e2b4d6f8a0c2e";
const OLD_SECRET_TEXT = "whsec_test_0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const CURRENT: SourceSecret = { id: "we_current", ...decodeSecret(SECRET_TEXT, "stripe") };
const PREVIOUS: SourceSecret = { id: "we_previous", ...decodeSecret(OLD_SECRET_TEXT, "stripe") };
const BODY = Buffer.from(
  JSON.stringify(
    { id: "evt_1PqR2sT3uV4wX5yZ", object: "event", type: "checkout.session.completed", data: { object: {} } },
    null,
    2,
  ),
);

/** Signed by the `stripe` npm library's test helper, not by the code under test. */
function stripeHeader(secret = SECRET_TEXT, timestamp = NOW, body: Buffer = BODY): string {
  return Stripe.webhooks.generateTestHeaderString({ payload: body.toString("utf8"), secret, timestamp });
}

function verify(sig: HeaderValue, body: Buffer = BODY, secrets: SourceSecret[] = [CURRENT]): VerifyResult {
  return scheme.verify({ headers: { "stripe-signature": sig }, rawBody: body }, ctx({ secrets }));
}

/** The v1 value of a header made by the library. */
function v1Of(header: string): string {
  const entry = header.split(",").find((part) => part.startsWith("v1="));
  if (entry === undefined) throw new Error("no v1 entry");
  return entry.slice(3);
}

describe("stripe", () => {
  it("valid - a header from stripe.webhooks.generateTestHeaderString verifies; the id is left to the body", () => {
    expect(verify(stripeHeader())).toEqual({ ok: true, secretId: "we_current", timestamp: NOW, deliveryId: null });
    expect(scheme.deliveryIdSource).toEqual({ from: "body", field: "id" });
  });

  it("secrets - the whsec_ text is the key as typed, prefix included (not base64-decoded)", () => {
    expect(CURRENT).toEqual({ id: "we_current", key: Buffer.from(SECRET_TEXT, "utf8"), kind: "hmac" });
  });

  it("rotation - several v1 entries (Stripe rolling a secret) verify against either secret", () => {
    const header = `t=${NOW},v1=${v1Of(stripeHeader(OLD_SECRET_TEXT))},v1=${v1Of(stripeHeader())}`;
    expect(verify(header, BODY, [PREVIOUS])).toMatchObject({ ok: true, secretId: "we_previous" });
    expect(verify(header, BODY, [CURRENT])).toMatchObject({ ok: true, secretId: "we_current" });
    expect(verify(stripeHeader(OLD_SECRET_TEXT), BODY, [CURRENT, PREVIOUS])).toMatchObject({
      ok: true,
      secretId: "we_previous",
    });
    expect(failureCode(verify(stripeHeader(OLD_SECRET_TEXT)))).toBe("signature_mismatch");
  });

  it("format - v0 and unknown entries are skipped, entry order does not matter", () => {
    const v1 = v1Of(stripeHeader());
    expect(verify(`v0=${"ab".repeat(32)},v1=${v1},t=${NOW},x=y,junk`).ok).toBe(true);
  });

  it("tampering - every flipped byte of the body is a mismatch", () => {
    const header = stripeHeader();
    for (let index = 0; index < BODY.length; index += 1) {
      expect(failureCode(verify(header, flipByte(BODY, index))), `byte ${index}`).toBe("signature_mismatch");
    }
  });

  it("tampering - a flipped timestamp digit is a mismatch inside the window, out of tolerance beyond it", () => {
    const header = stripeHeader();
    const last = "t=".length + String(NOW).length - 1;
    expect(failureCode(verify(flipChar(header, last)))).toBe("signature_mismatch");
    expect(failureCode(verify(flipChar(header, 2)))).toBe("timestamp_out_of_tolerance");
  });

  it("tampering - every flipped character of the signature header is refused with a stable code", () => {
    const header = stripeHeader();
    const codes = new Set<string | undefined>();
    for (let index = 0; index < header.length; index += 1) {
      const code = failureCode(verify(flipChar(header, index)));
      expect(code, `char ${index}`).toBeDefined();
      codes.add(code);
    }
    // 't' or its '=' flipped loses the timestamp; a leading digit moves it out of the window; ','
    // → '-' glues v1 onto t, leaving no v1 (format is checked before the timestamp's value); any
    // other character breaks the MAC.
    expect([...codes].sort()).toEqual(["signature_mismatch", "timestamp_missing", "timestamp_out_of_tolerance"]);
  });

  it(`caps - more than ${MAX_SIGNATURES} entries are refused, valid or not`, () => {
    const v1 = v1Of(stripeHeader());
    const within = [`t=${NOW}`, ...Array<string>(MAX_SIGNATURES - 2).fill(`v0=00`), `v1=${v1}`].join(",");
    expect(verify(within).ok).toBe(true);
    const over = [`t=${NOW}`, ...Array<string>(MAX_SIGNATURES).fill(`v0=00`), `v1=${v1}`].join(",");
    expect(failureCode(verify(over))).toBe("signature_mismatch");
    expect(failureCode(verify(`t=${NOW},` + Array<string>(500).fill("v1=0").join(",")))).toBe("signature_mismatch");
  });

  const malformed: Array<[string, HeaderValue, string]> = [
    ["absent", undefined, "signature_missing"],
    ["empty", "", "signature_missing"],
    ["no t", `v1=${"ab".repeat(32)}`, "timestamp_missing"],
    ["no v1", `t=${NOW},v0=${"ab".repeat(32)}`, "signature_mismatch"],
    ["short v1", `t=${NOW},v1=${"ab".repeat(31)}`, "signature_mismatch"],
    ["non-numeric t", `t=now,v1=${"ab".repeat(32)}`, "timestamp_invalid"],
    ["t in milliseconds", `t=${NOW}000,v1=${"ab".repeat(32)}`, "timestamp_invalid"],
    ["two t entries", `t=${NOW},t=${NOW},v1=${"ab".repeat(32)}`, "timestamp_invalid"],
    ["stale t", `t=${NOW - 301},v1=${"ab".repeat(32)}`, "timestamp_out_of_tolerance"],
    ["future t", `t=${NOW + 301},v1=${"ab".repeat(32)}`, "timestamp_out_of_tolerance"],
    ["repeated header", ["t=1,v1=2", "t=1,v1=2"], "signature_mismatch"],
    ["oversized header", `t=${NOW},v1=${"a".repeat(2000)}`, "signature_mismatch"],
  ];
  for (const [name, value, code] of malformed) {
    it(`malformed - ${name} → ${code}`, () => {
      expect(failureCode(verify(value))).toBe(code);
    });
  }
});
