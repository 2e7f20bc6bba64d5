import { HashFormat, createSHA256HMAC } from "@shopify/shopify-api/runtime";
import { describe, expect, it } from "vitest";
import { createScheme, decodeSecret } from "../src/index.js";
import type { HeaderValue, SourceSecret, VerifyResult } from "../src/index.js";
import { ctx, failureCode, flipBase64Byte, flipByte, flipChar } from "./fixtures.js";

const scheme = createScheme({ type: "shopify" });
const SECRET_TEXT = "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";
const CURRENT: SourceSecret = { id: "shop-1", ...decodeSecret(SECRET_TEXT, "shopify") };
const WEBHOOK_ID = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043";
const BODY = Buffer.from('{"id":820982911946154508,"email":"jon@example.com","total_price":"403.00"}');

/**
 * Signed with @shopify/shopify-api's own HMAC helper (`createSHA256HMAC` from its `runtime`
 * entry, the function its webhook validator calls with HashFormat.Base64), not by the code under
 * test. It runs offline: no shopifyApi() config or adapter is needed for it.
 */
async function shopifySignature(secret = SECRET_TEXT, body: Buffer = BODY): Promise<string> {
  return createSHA256HMAC(secret, body.toString("utf8"), HashFormat.Base64);
}

function verify(sig: HeaderValue, body: Buffer = BODY, secrets: SourceSecret[] = [CURRENT]): VerifyResult {
  const headers = {
    "x-shopify-hmac-sha256": sig,
    "x-shopify-webhook-id": WEBHOOK_ID,
    "x-shopify-topic": "orders/create",
  };
  return scheme.verify({ headers, rawBody: body }, ctx({ secrets }));
}

describe("shopify", () => {
  it("valid - a base64 HMAC from the Shopify library verifies", async () => {
    expect(verify(await shopifySignature())).toEqual({
      ok: true,
      secretId: "shop-1",
      timestamp: null,
      deliveryId: null,
    });
    expect(scheme.signsTimestamp).toBe(false);
  });

  it("H3 - X-Shopify-Webhook-Id is not signed, so it is never read and cannot be the id header", async () => {
    expect(scheme.deliveryIdSource).toEqual({ from: "none" });
    expect(verify(await shopifySignature())).toMatchObject({ ok: true, deliveryId: null });
    expect(() => createScheme({ type: "shopify", idHeader: "x-shopify-webhook-id" } as never)).toThrow(
      expect.objectContaining({ field: "idHeader" }),
    );
  });

  it("rotation - the second active secret verifies and is named", async () => {
    const previous: SourceSecret = { id: "shop-0", ...decodeSecret("shpss_previous_secret_value_0000", "shopify") };
    const sig = await shopifySignature("shpss_previous_secret_value_0000");
    expect(verify(sig, BODY, [CURRENT, previous])).toMatchObject({ ok: true, secretId: "shop-0" });
  });

  it("tampering - every flipped body byte, header character and MAC byte is a mismatch", async () => {
    const sig = await shopifySignature();
    for (let index = 0; index < BODY.length; index += 1) {
      expect(failureCode(verify(sig, flipByte(BODY, index))), `body ${index}`).toBe("signature_mismatch");
    }
    for (let index = 0; index < sig.length; index += 1) {
      expect(failureCode(verify(flipChar(sig, index))), `header ${index}`).toBe("signature_mismatch");
    }
    for (let index = 0; index < 32; index += 1) {
      expect(failureCode(verify(flipBase64Byte(sig, index))), `mac ${index}`).toBe("signature_mismatch");
    }
  });

  it("malformed - hex instead of base64, missing padding, absent", async () => {
    const sig = await shopifySignature();
    expect(failureCode(verify(Buffer.from(sig, "base64").toString("hex")))).toBe("signature_mismatch");
    expect(failureCode(verify(sig.replace(/=+$/, "")))).toBe("signature_mismatch");
    expect(failureCode(verify(undefined))).toBe("signature_missing");
  });
});
