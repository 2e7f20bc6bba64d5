import { createScheme, decodeSecret } from "@tributary/verify";
import { describe, expect, it } from "vitest";
import { LOCAL_SOURCE_SCHEME, signWebhookHmacSha256 } from "../src/index.js";

const SECRET = "local-secret-0123456789abcdef";
const BODY = '{"event":"link.clicked","data":{"link_id":"lnk_1"}}';

function verify(headers: Record<string, string>, body: string, nowSeconds = Math.floor(Date.now() / 1000)) {
  return createScheme({ type: LOCAL_SOURCE_SCHEME }).verify(
    { headers, rawBody: Buffer.from(body) },
    { secrets: [{ id: "local", ...decodeSecret(SECRET, LOCAL_SOURCE_SCHEME) }], toleranceSeconds: 300, nowSeconds },
  );
}

describe("signWebhookHmacSha256", () => {
  it("signing - what it signs, the gateway's verifier for the local source's scheme accepts (the delivery id rides along, unsigned)", () => {
    const headers = signWebhookHmacSha256({ secret: SECRET, body: BODY, deliveryId: "evt_1" });
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["x-webhook-id"]).toBe("evt_1");
    expect(verify(headers, BODY)).toMatchObject({ ok: true });
    expect(verify(signWebhookHmacSha256({ secret: SECRET, body: Buffer.from(BODY) }), BODY)).toMatchObject({
      ok: true,
    });
  });

  it("signing - another body, another secret or an old timestamp is refused", () => {
    const headers = signWebhookHmacSha256({ secret: SECRET, body: BODY });
    expect(verify(headers, BODY.replace("lnk_1", "lnk_2"))).toMatchObject({ ok: false, code: "signature_mismatch" });
    expect(verify(signWebhookHmacSha256({ secret: "another-secret-0123456789", body: BODY }), BODY)).toMatchObject({
      ok: false,
      code: "signature_mismatch",
    });
    const old = signWebhookHmacSha256({ secret: SECRET, body: BODY, timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(verify(old, BODY)).toMatchObject({ ok: false, code: "timestamp_out_of_tolerance" });
  });
});
