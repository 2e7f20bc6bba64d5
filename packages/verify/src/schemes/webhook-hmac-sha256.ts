import { createHmac } from "node:crypto";
import { fail } from "../codes.js";
import { readSingleHeader } from "../headers.js";
import { findMatchingSecret, parseHexSha256 } from "../hmac.js";
import { parseUnixSeconds, withinTolerance } from "../timestamp.js";
import type { VerifyFailure } from "../codes.js";
import type {
  DeliveryIdSource,
  HeaderCheckContext,
  HeaderValue,
  SignatureScheme,
  VerifyContext,
  VerifyRequest,
  VerifyResult,
} from "../types.js";

export const WEBHOOK_HMAC_SHA256 = "webhook-hmac-sha256";

export type WebhookHmacSha256Options = {
  /** Lower-case header names (createScheme normalises them). */
  signatureHeader: string;
  timestampHeader: string;
};

export const WEBHOOK_HMAC_SHA256_DEFAULTS: Readonly<WebhookHmacSha256Options> = Object.freeze({
  signatureHeader: "x-webhook-signature",
  timestampHeader: "x-webhook-timestamp",
});

/**
 * The event id of the deep-link envelope (`event_id`, as packages/schema names it). The body is
 * signed, so the id in it is too; a body without one is keyed by its hash.
 */
const ENVELOPE_ID_FIELD = "event_id";

/**
 * The deep-link platforms' scheme: `X-Webhook-Signature` is the hex HMAC-SHA256 of
 * `${X-Webhook-Timestamp}.${rawBody}`, the timestamp in Unix seconds.
 *
 * Order of checks: every cheap, public check (presence, format, tolerance) runs before any HMAC,
 * so unsigned, malformed and stale requests cost no hashing of the body.
 *
 * The senders' `X-Webhook-Id` is not covered by the signature: whoever replays a captured request
 * inside the tolerance window could change it, and each new id would be a new event key. It is not
 * read; events are keyed by the body's `event_id`, or the body's hash (a retry resends the same
 * body, re-signed with a new timestamp, so it keeps its key).
 */
export function webhookHmacSha256Scheme(options: WebhookHmacSha256Options): SignatureScheme {
  const { signatureHeader, timestampHeader } = options;

  /** Every check before the MAC: what it needs, or the failure. */
  function parse(
    headers: Record<string, HeaderValue>,
    ctx: HeaderCheckContext,
  ): VerifyFailure | { ok: true; candidate: Buffer; timestamp: number; prefix: Buffer } {
    const sig = readSingleHeader(headers, signatureHeader);
    if (sig.kind === "missing") return fail("signature_missing", `Header ${signatureHeader} is missing.`);
    const ts = readSingleHeader(headers, timestampHeader);
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
    return { ok: true, candidate, timestamp, prefix: Buffer.from(`${ts.value}.`, "latin1") };
  }

  function verify(req: VerifyRequest, ctx: VerifyContext): VerifyResult {
    const parsed = parse(req.headers, ctx);
    if (!parsed.ok) return parsed;
    const { candidate, timestamp, prefix } = parsed;
    const secret = findMatchingSecret(ctx.secrets, [candidate], (key) =>
      createHmac("sha256", key).update(prefix).update(req.rawBody).digest(),
    );
    if (secret === null) return fail("signature_mismatch");

    return { ok: true, secretId: secret.id, timestamp, deliveryId: null };
  }

  const checkHeaders = (headers: Record<string, HeaderValue>, ctx: HeaderCheckContext) => {
    const parsed = parse(headers, ctx);
    return parsed.ok ? null : parsed;
  };
  const deliveryIdSource: DeliveryIdSource = { from: "body", field: ENVELOPE_ID_FIELD };
  return { name: WEBHOOK_HMAC_SHA256, deliveryIdSource, signsTimestamp: true, verify, checkHeaders };
}
