import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { createScheme, decodeSecret, signStandardWebhooks, standardWebhooksSigningKey } from "../src/index.js";

const SECRET = "whsec_" + Buffer.from("outbound-signing-secret-0000001").toString("base64");
const OLD = "whsec_" + Buffer.from("outbound-signing-secret-previous").toString("base64");
const NOW = 1_790_000_000;
const BODY = Buffer.from('{"event":"link.clicked","data":{"link_id":"lnk_1"}}');

describe("signStandardWebhooks - round trip", () => {
  it("is accepted by this package's standard-webhooks verifier", () => {
    const headers = signStandardWebhooks({ id: "demo:evt_1", timestampSeconds: NOW, body: BODY }, [
      standardWebhooksSigningKey(SECRET),
    ]);
    const result = createScheme({ type: "standard-webhooks" }).verify(
      { headers: { ...headers }, rawBody: BODY },
      { secrets: [{ id: "k", ...decodeSecret(SECRET, "standard-webhooks") }], toleranceSeconds: 300, nowSeconds: NOW },
    );
    expect(result).toEqual({ ok: true, secretId: "k", timestamp: NOW, deliveryId: "demo:evt_1" });
  });

  it("matches the reference library byte for byte and verifies with it", () => {
    const headers = signStandardWebhooks({ id: "msg_1", timestampSeconds: NOW, body: BODY }, [
      standardWebhooksSigningKey(SECRET),
    ]);
    expect(headers["webhook-signature"]).toBe(new Webhook(SECRET).sign("msg_1", new Date(NOW * 1000), BODY.toString()));
    // The reference verifier checks the timestamp against its own clock: sign with "now".
    const now = Math.floor(Date.now() / 1000);
    const fresh = signStandardWebhooks({ id: "msg_2", timestampSeconds: now, body: BODY }, [
      standardWebhooksSigningKey(SECRET),
    ]);
    expect(new Webhook(SECRET).verify(BODY.toString(), { ...fresh })).toEqual(JSON.parse(BODY.toString()));
  });

  it("signs with every key during a rotation; each receiver secret verifies", () => {
    const headers = signStandardWebhooks({ id: "demo:evt_2", timestampSeconds: NOW, body: BODY }, [
      standardWebhooksSigningKey(SECRET),
      standardWebhooksSigningKey(OLD),
    ]);
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    for (const text of [SECRET, OLD]) {
      const result = createScheme({ type: "standard-webhooks" }).verify(
        { headers: { ...headers }, rawBody: BODY },
        {
          secrets: [{ id: "only", ...decodeSecret(text, "standard-webhooks") }],
          toleranceSeconds: 300,
          nowSeconds: NOW,
        },
      );
      expect(result.ok).toBe(true);
    }
  });

  it("a changed body does not verify", () => {
    const headers = signStandardWebhooks({ id: "demo:evt_3", timestampSeconds: NOW, body: BODY }, [
      standardWebhooksSigningKey(SECRET),
    ]);
    const result = createScheme({ type: "standard-webhooks" }).verify(
      { headers: { ...headers }, rawBody: Buffer.from(BODY.toString().replace("lnk_1", "lnk_2")) },
      { secrets: [{ id: "k", ...decodeSecret(SECRET, "standard-webhooks") }], toleranceSeconds: 300, nowSeconds: NOW },
    );
    expect(result).toMatchObject({ ok: false, code: "signature_mismatch" });
  });

  it("L11 - an outbound signing secret shorter than 24 bytes is refused, as short inbound secrets are", () => {
    const refused = expect.objectContaining({ code: "config_invalid", field: "secret" });
    for (const text of ["only-23-bytes-of-secret", "x"])
      expect(() => standardWebhooksSigningKey("whsec_" + Buffer.from(text).toString("base64"))).toThrow(refused);
    expect(
      standardWebhooksSigningKey("whsec_" + Buffer.from("exactly-24-bytes-secret!").toString("base64")).key,
    ).toHaveLength(24);
  });

  it("refuses keys that cannot sign, naming the field", () => {
    expect(() => standardWebhooksSigningKey("not-a-secret")).toThrow(/whsec_/);
    expect(() => signStandardWebhooks({ id: "x", timestampSeconds: NOW, body: BODY }, [])).toThrow(/at least one/);
  });
});
