import { Webhook } from "svix";
import { describe, expect, it } from "vitest";
import { createScheme, decodeSecret } from "../src/index.js";
import type { HeaderValue, SourceSecret } from "../src/index.js";
import { BODY, NOW, ctx, ed25519KeyPair, failureCode, flipByte, flipChar, standardContent } from "./fixtures.js";

const scheme = createScheme({ type: "svix" });
const SECRET_TEXT = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"; // the format Svix's dashboard shows
const CURRENT: SourceSecret = { id: "svix-1", ...decodeSecret(SECRET_TEXT, "svix") };
const MSG_ID = "msg_2Lh9KRb0pzN4LePd3XiA4dWjbHR";

/** Signed by the `svix` npm library's Webhook.sign, not by the code under test. */
const signature = new Webhook(SECRET_TEXT).sign(MSG_ID, new Date(NOW * 1000), BODY);

function headers(sig: HeaderValue = signature, id = MSG_ID, ts = String(NOW)): Record<string, HeaderValue> {
  return { "svix-id": id, "svix-timestamp": ts, "svix-signature": sig };
}

describe("svix", () => {
  it("valid - a request signed by the svix library verifies with svix-id as the delivery id", () => {
    const result = scheme.verify({ headers: headers(), rawBody: BODY }, ctx({ secrets: [CURRENT] }));
    expect(result).toEqual({ ok: true, secretId: "svix-1", timestamp: NOW, deliveryId: MSG_ID });
    expect(scheme.name).toBe("svix");
    expect(scheme.deliveryIdSource).toEqual({ from: "header", header: "svix-id" });
  });

  it("headers - the unbranded webhook-* names are not read by the svix type", () => {
    const unbranded = { "webhook-id": MSG_ID, "webhook-timestamp": String(NOW), "webhook-signature": signature };
    expect(failureCode(scheme.verify({ headers: unbranded, rawBody: BODY }, ctx({ secrets: [CURRENT] })))).toBe(
      "signature_missing",
    );
  });

  it("tampering - a flipped byte of body, id, timestamp or signature is refused with its code", () => {
    const c = ctx({ secrets: [CURRENT] });
    expect(failureCode(scheme.verify({ headers: headers(), rawBody: flipByte(BODY, 7) }, c))).toBe(
      "signature_mismatch",
    );
    expect(failureCode(scheme.verify({ headers: headers(signature, flipChar(MSG_ID, 9)), rawBody: BODY }, c))).toBe(
      "signature_mismatch",
    );
    const ts = String(NOW);
    expect(failureCode(scheme.verify({ headers: headers(signature, MSG_ID, flipChar(ts, 9)), rawBody: BODY }, c))).toBe(
      "signature_mismatch",
    );
    expect(failureCode(scheme.verify({ headers: headers(signature, MSG_ID, flipChar(ts, 1)), rawBody: BODY }, c))).toBe(
      "timestamp_out_of_tolerance",
    );
    expect(failureCode(scheme.verify({ headers: headers(flipChar(signature, 10)), rawBody: BODY }, c))).toBe(
      "signature_mismatch",
    );
  });

  it("v1a - the same ed25519 support as standard-webhooks", () => {
    const pair = ed25519KeyPair();
    const publicKey: SourceSecret = { id: "pk", ...decodeSecret(`whpk_${pair.publicKey.toString("base64")}`, "svix") };
    const sig = `v1a,${pair.sign(standardContent(MSG_ID, String(NOW), BODY))}`;
    const result = scheme.verify({ headers: headers(sig), rawBody: BODY }, ctx({ secrets: [CURRENT, publicKey] }));
    expect(result).toMatchObject({ ok: true, secretId: "pk" });
  });

  it("missing - svix-timestamp absent → timestamp_missing; svix-id absent → signature_mismatch", () => {
    const c = ctx({ secrets: [CURRENT] });
    expect(
      failureCode(scheme.verify({ headers: { "svix-id": MSG_ID, "svix-signature": signature }, rawBody: BODY }, c)),
    ).toBe("timestamp_missing");
    expect(
      failureCode(
        scheme.verify({ headers: { "svix-timestamp": String(NOW), "svix-signature": signature }, rawBody: BODY }, c),
      ),
    ).toBe("signature_mismatch");
  });
});
