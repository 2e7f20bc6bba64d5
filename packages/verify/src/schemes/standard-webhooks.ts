import { createHmac } from "node:crypto";
import { fail } from "../codes.js";
import { ED25519_SIGNATURE_BYTES, findMatchingPublicKey } from "../ed25519.js";
import { headerBytes, parseBase64 } from "../encoding.js";
import { readSingleHeader } from "../headers.js";
import { findMatchingSecret } from "../hmac.js";
import { MAX_ED25519_SIGNATURES, MAX_SIGNATURES, splitEntries } from "../signature-list.js";
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

interface Parsed {
  ok: true;
  hmacCandidates: Buffer[];
  ed25519Candidates: Buffer[];
  timestamp: number;
  /** `${id}.${timestamp}.` as sent: the signed content before the body. */
  prefix: Buffer;
  id: string;
}

export const STANDARD_WEBHOOKS = "standard-webhooks";

export type StandardWebhooksOptions = {
  /** Lower-case header names (createScheme normalises them). All three are required. */
  signatureHeader: string;
  timestampHeader: string;
  idHeader: string;
};

export const STANDARD_WEBHOOKS_DEFAULTS: Readonly<StandardWebhooksOptions> = Object.freeze({
  signatureHeader: "webhook-signature",
  timestampHeader: "webhook-timestamp",
  idHeader: "webhook-id",
});

const HMAC_SHA256_BYTES = 32;

/**
 * Standard Webhooks (https://www.standardwebhooks.com): the signed content is
 * `${webhook-id}.${webhook-timestamp}.${body}`, and `webhook-signature` is a space-separated list
 * of `version,<base64>` entries — one per key the sender signs with, which is how senders rotate.
 *
 * - `v1`: HMAC-SHA256 with the `whsec_` secret (base64-decoded), compared in constant time
 *   against every HMAC secret of the source.
 * - `v1a`: Ed25519 over the same content, checked against each `ed25519-public` entry (`whpk_`).
 * - other versions are skipped (forward compatibility, as the spec's libraries do). At most
 *   MAX_SIGNATURES entries, of which MAX_ED25519_SIGNATURES `v1a`, are considered; a header with
 *   more is refused before any crypto.
 *
 * The id is part of the signed content, so `deliveryId` here is authenticated, unlike the deep-link scheme's
 * unsigned `X-Webhook-Id`. `svix` is this scheme under `svix-*` header names.
 */
export function standardWebhooksScheme(
  options: StandardWebhooksOptions,
  name: string = STANDARD_WEBHOOKS,
): SignatureScheme {
  const { signatureHeader, timestampHeader, idHeader } = options;

  /** Every check before the MAC: what it needs, or the failure. */
  function parse(headers: Record<string, HeaderValue>, ctx: HeaderCheckContext): VerifyFailure | Parsed {
    const sig = readSingleHeader(headers, signatureHeader);
    if (sig.kind === "missing") return fail("signature_missing", `Header ${signatureHeader} is missing.`);
    const ts = readSingleHeader(headers, timestampHeader);
    if (ts.kind === "missing") return fail("timestamp_missing", `Header ${timestampHeader} is missing.`);
    const id = readSingleHeader(headers, idHeader);
    if (id.kind === "missing") {
      return fail("signature_mismatch", `Header ${idHeader} is missing; it is part of the signed content.`);
    }

    if (sig.kind === "repeated") return fail("signature_mismatch", `Header ${signatureHeader} appears more than once.`);
    if (sig.kind === "oversized") return fail("signature_mismatch", `Header ${signatureHeader} is too long.`);
    const entries = splitEntries(sig.value, " ");
    if (entries === null) {
      return fail("signature_mismatch", `Header ${signatureHeader} lists more than ${MAX_SIGNATURES} signatures.`);
    }
    const hmacCandidates: Buffer[] = [];
    const ed25519Candidates: Buffer[] = [];
    for (const entry of entries) {
      const comma = entry.indexOf(",");
      if (comma === -1) continue; // not `version,signature`: skipped like an unknown version
      const version = entry.slice(0, comma);
      const value = entry.slice(comma + 1);
      if (version === "v1") {
        const decoded = parseBase64(value, HMAC_SHA256_BYTES);
        if (decoded !== null) hmacCandidates.push(decoded);
      } else if (version === "v1a") {
        const decoded = parseBase64(value, ED25519_SIGNATURE_BYTES);
        if (decoded !== null) ed25519Candidates.push(decoded);
      }
    }
    if (ed25519Candidates.length > MAX_ED25519_SIGNATURES) {
      return fail(
        "signature_mismatch",
        `Header ${signatureHeader} lists more than ${MAX_ED25519_SIGNATURES} v1a signatures.`,
      );
    }
    if (hmacCandidates.length === 0 && ed25519Candidates.length === 0) {
      return fail("signature_mismatch", `Header ${signatureHeader} has no well-formed v1 or v1a signature.`);
    }

    if (ts.kind === "repeated") return fail("timestamp_invalid", `Header ${timestampHeader} appears more than once.`);
    if (ts.kind === "oversized") return fail("timestamp_invalid", `Header ${timestampHeader} is too long.`);
    const timestamp = checkTimestamp(ts.value, `Header ${timestampHeader}`, ctx);
    if (typeof timestamp !== "number") return timestamp;

    if (id.kind !== "ok")
      return fail("signature_mismatch", `Header ${idHeader} appears more than once or is too long.`);
    const idBytes = headerBytes(id.value);
    if (idBytes === null)
      return fail("signature_mismatch", `Header ${idHeader} has characters no HTTP header can carry.`);

    // `${id}.${timestamp}.` as sent (timestamp digits are ASCII), then the raw body bytes.
    const prefix = Buffer.concat([idBytes, Buffer.from(`.${ts.value}.`, "latin1")]);
    return { ok: true, hmacCandidates, ed25519Candidates, timestamp, prefix, id: id.value };
  }

  function verify(req: VerifyRequest, ctx: VerifyContext): VerifyResult {
    const parsed = parse(req.headers, ctx);
    if (!parsed.ok) return parsed;
    const { hmacCandidates, ed25519Candidates, timestamp, prefix } = parsed;
    let secret = findMatchingSecret(ctx.secrets, hmacCandidates, (key) =>
      createHmac("sha256", key).update(prefix).update(req.rawBody).digest(),
    );
    if (secret === null && ed25519Candidates.length > 0) {
      secret = findMatchingPublicKey(ctx.secrets, ed25519Candidates, Buffer.concat([prefix, req.rawBody]));
    }
    if (secret === null) return fail("signature_mismatch");

    return { ok: true, secretId: secret.id, timestamp, deliveryId: parsed.id };
  }

  const checkHeaders = (headers: Record<string, HeaderValue>, ctx: HeaderCheckContext) => {
    const parsed = parse(headers, ctx);
    return parsed.ok ? null : parsed;
  };
  return { name, deliveryIdSource: { from: "header", header: idHeader }, signsTimestamp: true, verify, checkHeaders };
}
