import { createHmac } from "node:crypto";
import { fail } from "../codes.js";
import { readDeliveryId } from "../delivery-id.js";
import { readSingleHeader } from "../headers.js";
import { findMatchingSecret, parseHexSha256 } from "../hmac.js";
import { parseUnixSeconds, withinTolerance } from "../timestamp.js";
import type { DeliveryIdSource, SignatureScheme, VerifyContext, VerifyRequest, VerifyResult } from "../types.js";

export const WEBHOOK_HMAC_SHA256 = "webhook-hmac-sha256";

export type WebhookHmacSha256Options = {
  /** Lower-case header names (createScheme normalises them). */
  signatureHeader: string;
  timestampHeader: string;
  /** null: do not read a delivery id. */
  idHeader: string | null;
};

export const WEBHOOK_HMAC_SHA256_DEFAULTS: Readonly<WebhookHmacSha256Options> = Object.freeze({
  signatureHeader: "x-webhook-signature",
  timestampHeader: "x-webhook-timestamp",
  idHeader: "x-webhook-id",
});

/**
 * The deep-link platforms' scheme: `X-Webhook-Signature` is the hex HMAC-SHA256 of
 * `${X-Webhook-Timestamp}.${rawBody}`, the timestamp in Unix seconds.
 *
 * Order of checks: every cheap, public check (presence, format, tolerance) runs before any HMAC,
 * so unsigned, malformed and stale requests cost no hashing of the body.
 *
 * The delivery-id header is not covered by the signature in this scheme: whoever replays a
 * captured request inside the tolerance window can change it. Keys built from it are therefore
 * only as strong as the window; a body field or the body hash is covered by the signature.
 */
export function webhookHmacSha256Scheme(options: WebhookHmacSha256Options): SignatureScheme {
  const { signatureHeader, timestampHeader, idHeader } = options;

  function verify(req: VerifyRequest, ctx: VerifyContext): VerifyResult {
    const sig = readSingleHeader(req.headers, signatureHeader);
    if (sig.kind === "missing") return fail("signature_missing", `Header ${signatureHeader} is missing.`);
    const ts = readSingleHeader(req.headers, timestampHeader);
    if (ts.kind === "missing") return fail("timestamp_missing", `Header ${timestampHeader} is missing.`);

    if (sig.kind === "repeated") return fail("signature_mismatch", `Header ${signatureHeader} appears more than once.`);
    if (sig.kind === "oversized") return fail("signature_mismatch", `Header ${signatureHeader} is too long.`);
    const candidate = parseHexSha256(sig.value);
    if (candidate === null) {
      return fail("signature_mismatch", `Header ${signatureHeader} is not a 64-digit hex HMAC-SHA256.`);
    }

    if (ts.kind === "repeated") return fail("timestamp_invalid", `Header ${timestampHeader} appears more than once.`);
    if (ts.kind === "oversized") return fail("timestamp_invalid", `Header ${timestampHeader} is too long.`);
    const timestamp = parseUnixSeconds(ts.value);
    if (timestamp === null) {
      return fail("timestamp_invalid", `Header ${timestampHeader} is not a Unix time in whole seconds.`);
    }
    if (!withinTolerance(timestamp, ctx.nowSeconds, ctx.toleranceSeconds)) {
      return fail("timestamp_out_of_tolerance");
    }

    // The signed text is the header's digits exactly as sent, a dot, then the raw bytes.
    const prefix = Buffer.from(`${ts.value}.`, "latin1");
    const secret = findMatchingSecret(ctx.secrets, [candidate], (key) =>
      createHmac("sha256", key).update(prefix).update(req.rawBody).digest(),
    );
    if (secret === null) return fail("signature_mismatch");

    return { ok: true, secretId: secret.id, timestamp, deliveryId: readDeliveryId(req.headers, idHeader) };
  }

  const deliveryIdSource: DeliveryIdSource =
    idHeader === null ? { from: "none" } : { from: "header", header: idHeader, signed: false };
  return { name: WEBHOOK_HMAC_SHA256, deliveryIdSource, verify };
}
