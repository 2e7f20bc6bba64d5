import { createScheme, decodeSecret } from "@tributary/verify";
import { describe, expect, it } from "vitest";
import { signerFor } from "../src/send.js";

const BODY = '{"event":"link.clicked","data":{}}';

describe("send - signing", () => {
  it("signers - each sendable scheme produces what the gateway's verifier accepts", () => {
    const cases = [
      { scheme: "webhook-hmac-sha256" as const, secret: "local-secret-0123456789abcdef" },
      {
        scheme: "standard-webhooks" as const,
        secret: "whsec_" + Buffer.from("cli-send-test-secret-000001").toString("base64"),
      },
    ];
    for (const { scheme, secret } of cases) {
      const headers = signerFor(scheme, secret)(BODY, "delivery-1");
      const result = createScheme({ type: scheme }).verify(
        {
          headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
          rawBody: Buffer.from(BODY),
        },
        {
          secrets: [{ id: "k", ...decodeSecret(secret, scheme) }],
          toleranceSeconds: 300,
          nowSeconds: Math.floor(Date.now() / 1000),
        },
      );
      // Standard Webhooks signs its id; webhook-hmac-sha256 does not, so the verifier reads none.
      expect(result, scheme).toMatchObject({
        ok: true,
        deliveryId: scheme === "standard-webhooks" ? "delivery-1" : null,
      });
    }
  });

  it("signers - a scheme send cannot sign says which it can", () => {
    expect(() => signerFor("stripe", "sk")).toThrow(/webhook-hmac-sha256 and standard-webhooks/);
  });
});
