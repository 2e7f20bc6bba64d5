import { createHmac } from "node:crypto";
import { fail } from "../codes.js";
import { readSingleHeader } from "../headers.js";
import { findMatchingSecret, parseHexSha256 } from "../hmac.js";
import type { VerifyFailure } from "../codes.js";
import type {
  DeliveryIdSource,
  HeaderValue,
  SignatureScheme,
  VerifyContext,
  VerifyRequest,
  VerifyResult,
} from "../types.js";

export const HMAC_SHA256_BODY = "hmac-sha256-body";

export type HmacSha256BodyOptions = {
  /** Lower-case header name (createScheme normalises it). */
  signatureHeader: string;
};

export const HMAC_SHA256_BODY_DEFAULTS: Readonly<HmacSha256BodyOptions> = Object.freeze({
  signatureHeader: "x-webhook-signature",
});

/**
 * The older seed receiver: `X-Webhook-Signature` is the hex HMAC-SHA256 of the raw body alone.
 * There is no timestamp, so replays are stopped only by deduplication on the event key, and no
 * id header is read: it would not be signed, so a captured request could be resent forever under
 * fresh ids, each a new key. Keyed by a body field or the body's hash, a replay stays a duplicate.
 */
export function hmacSha256BodyScheme(options: HmacSha256BodyOptions): SignatureScheme {
  const { signatureHeader } = options;

  /** Every check before the MAC: the signature to compare, or the failure. */
  function parse(headers: Record<string, HeaderValue>): VerifyFailure | { ok: true; candidate: Buffer } {
    const sig = readSingleHeader(headers, signatureHeader);
    if (sig.kind === "missing") return fail("signature_missing", `Header ${signatureHeader} is missing.`);
    if (sig.kind === "repeated") return fail("signature_mismatch", `Header ${signatureHeader} appears more than once.`);
    if (sig.kind === "oversized") return fail("signature_mismatch", `Header ${signatureHeader} is too long.`);
    const candidate = parseHexSha256(sig.value);
    if (candidate === null) {
      return fail("signature_mismatch", `Header ${signatureHeader} is not a 64-digit hex HMAC-SHA256.`);
    }
    return { ok: true, candidate };
  }

  function verify(req: VerifyRequest, ctx: VerifyContext): VerifyResult {
    const parsed = parse(req.headers);
    if (!parsed.ok) return parsed;
    const { candidate } = parsed;
    const secret = findMatchingSecret(ctx.secrets, [candidate], (key) =>
      createHmac("sha256", key).update(req.rawBody).digest(),
    );
    if (secret === null) return fail("signature_mismatch");

    return { ok: true, secretId: secret.id, timestamp: null, deliveryId: null };
  }

  const checkHeaders = (headers: Record<string, HeaderValue>) => {
    const parsed = parse(headers);
    return parsed.ok ? null : parsed;
  };
  const deliveryIdSource: DeliveryIdSource = { from: "none" };
  return { name: HMAC_SHA256_BODY, deliveryIdSource, signsTimestamp: false, verify, checkHeaders };
}
