import { createHmac } from "node:crypto";
import { fail } from "../codes.js";
import { parseHex } from "../encoding.js";
import { readSingleHeader } from "../headers.js";
import { findMatchingSecret } from "../hmac.js";
import { MAX_SIGNATURES, splitEntries } from "../signature-list.js";
import { checkTimestamp } from "../timestamp.js";
import type { VerifyFailure } from "../codes.js";
import type {
  HeaderCheckContext,
  HeaderValue,
  SignatureScheme,
  VerifyContext,
  VerifyRequest,
  VerifyResult,
} from "../types.js";

export const STRIPE = "stripe";

export type StripeOptions = {
  /** Lower-case header name (createScheme normalises it). */
  signatureHeader: string;
};

export const STRIPE_DEFAULTS: Readonly<StripeOptions> = Object.freeze({
  signatureHeader: "stripe-signature",
});

const HMAC_SHA256_BYTES = 32;

/**
 * Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=…]`, each `v1` the hex
 * HMAC-SHA256 of `${t}.${body}` keyed with the endpoint secret's text — the whole `whsec_…`
 * string as UTF-8, not base64-decoded. Several `v1` entries appear while Stripe rolls a secret.
 *
 * Differences from Stripe's own library, all stricter: the tolerance applies both ways (it only
 * checks age), `t` must appear once (it takes the last), and at most MAX_SIGNATURES entries are
 * read. Unknown schemes such as `v0` are skipped, as Stripe does.
 *
 * The delivery id is the event's `id`, which lives in the JSON body: this package never parses
 * bodies, so `deliveryId` is null and `deliveryIdSource` points the caller at the body field
 * (the gateway's `idField: "id"`). The body is signed, so that id is authenticated.
 */
export function stripeScheme(options: StripeOptions): SignatureScheme {
  const { signatureHeader } = options;

  /** Every check before the MAC: what it needs, or the failure. */
  function parse(
    headers: Record<string, HeaderValue>,
    ctx: HeaderCheckContext,
  ): VerifyFailure | { ok: true; candidates: Buffer[]; timestamp: number; prefix: Buffer } {
    const sig = readSingleHeader(headers, signatureHeader);
    if (sig.kind === "missing") return fail("signature_missing", `Header ${signatureHeader} is missing.`);
    if (sig.kind === "repeated") return fail("signature_mismatch", `Header ${signatureHeader} appears more than once.`);
    if (sig.kind === "oversized") return fail("signature_mismatch", `Header ${signatureHeader} is too long.`);
    const entries = splitEntries(sig.value, ",");
    if (entries === null) {
      return fail("signature_mismatch", `Header ${signatureHeader} has more than ${MAX_SIGNATURES} entries.`);
    }

    let t: string | null = null;
    let timestampCount = 0;
    const candidates: Buffer[] = [];
    for (const entry of entries) {
      const eq = entry.indexOf("=");
      if (eq === -1) continue; // not `key=value`: skipped like an unknown scheme
      const key = entry.slice(0, eq);
      const value = entry.slice(eq + 1);
      if (key === "t") {
        timestampCount += 1;
        t = value;
      } else if (key === "v1") {
        const decoded = parseHex(value, HMAC_SHA256_BYTES);
        if (decoded !== null) candidates.push(decoded);
      }
    }
    if (t === null) return fail("timestamp_missing", `Header ${signatureHeader} has no t= timestamp.`);
    if (candidates.length === 0) {
      return fail("signature_mismatch", `Header ${signatureHeader} has no well-formed v1 signature.`);
    }
    if (timestampCount > 1)
      return fail("timestamp_invalid", `Header ${signatureHeader} has more than one t= timestamp.`);
    const timestamp = checkTimestamp(t, `The t= timestamp in ${signatureHeader}`, ctx);
    if (typeof timestamp !== "number") return timestamp;
    return { ok: true, candidates, timestamp, prefix: Buffer.from(`${t}.`, "latin1") }; // digits only, checked above
  }

  function verify(req: VerifyRequest, ctx: VerifyContext): VerifyResult {
    const parsed = parse(req.headers, ctx);
    if (!parsed.ok) return parsed;
    const { candidates, timestamp, prefix } = parsed;
    const secret = findMatchingSecret(ctx.secrets, candidates, (key) =>
      createHmac("sha256", key).update(prefix).update(req.rawBody).digest(),
    );
    if (secret === null) return fail("signature_mismatch");

    return { ok: true, secretId: secret.id, timestamp, deliveryId: null };
  }

  const checkHeaders = (headers: Record<string, HeaderValue>, ctx: HeaderCheckContext) => {
    const parsed = parse(headers, ctx);
    return parsed.ok ? null : parsed;
  };
  return { name: STRIPE, deliveryIdSource: { from: "body", field: "id" }, signsTimestamp: true, verify, checkHeaders };
}
