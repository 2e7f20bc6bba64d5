import { createHmac } from "node:crypto";
import { fail } from "../codes.js";
import { headerBytes, parseBase64, parseHex } from "../encoding.js";
import { readSingleHeader } from "../headers.js";
import { findMatchingSecret } from "../hmac.js";
import { signs, type ContentPart } from "../signed-content.js";
import { checkTimestamp } from "../timestamp.js";
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

export const GENERIC_HMAC = "hmac";

export const HMAC_ALGORITHMS = ["sha256", "sha512"] as const;
export const SIGNATURE_ENCODINGS = ["hex", "base64"] as const;
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];
export type SignatureEncoding = (typeof SIGNATURE_ENCODINGS)[number];

const DIGEST_BYTES: Readonly<Record<HmacAlgorithm, number>> = { sha256: 32, sha512: 64 };

/** Validated options (see generic-hmac-config.ts for how a config file becomes these). */
export interface GenericHmacOptions {
  algorithm: HmacAlgorithm;
  encoding: SignatureEncoding;
  /** Lower-case header names (the config parser normalises them); null: not read. */
  signatureHeader: string;
  timestampHeader: string | null;
  idHeader: string | null;
  /** Text before the encoded MAC in the signature header, e.g. `sha256=`; '' for none. */
  prefix: string;
  signedContent: readonly ContentPart[];
}

/**
 * One MAC of configurable content in one header: the generic `hmac` type, and the base of the
 * GitHub and Shopify presets (which differ only in options). One signature per header: providers
 * that send lists (Standard Webhooks, Stripe) have their own schemes.
 *
 * Order of checks, as everywhere: presence, format and tolerance (all cheap and public) before
 * any HMAC. The timestamp is only read when the template signs it (enforced by the config
 * parser): tolerance on an unsigned timestamp would stop nothing, since a replayer can rewrite it.
 */
/** Where the body goes among the signed pieces (parse runs before the body is at hand). */
const BODY: unique symbol = Symbol("body");
type ContentPiece = Buffer | typeof BODY;

export function genericHmacScheme(options: GenericHmacOptions, name: string = GENERIC_HMAC): SignatureScheme {
  const { algorithm, encoding, signatureHeader, timestampHeader, idHeader, prefix, signedContent } = options;
  const digestBytes = DIGEST_BYTES[algorithm];
  const signsId = signs(signedContent, "id");
  const format = `${prefix === "" ? "" : `"${prefix}" followed by `}the ${encoding} HMAC-${algorithm.toUpperCase()}`;
  const decode = encoding === "hex" ? parseHex : parseBase64;

  // The config parser refuses an id header outside signedContent: only a signed id may key.
  const deliveryIdSource: DeliveryIdSource =
    idHeader === null ? { from: "none" } : { from: "header", header: idHeader };

  /** Every check before the MAC: what it needs, or the failure. */
  function parse(
    headers: Record<string, HeaderValue>,
    ctx: HeaderCheckContext,
  ):
    | VerifyFailure
    | { ok: true; candidate: Buffer; timestamp: number | null; pieces: ContentPiece[]; id: string | null } {
    const sig = readSingleHeader(headers, signatureHeader);
    if (sig.kind === "missing") return fail("signature_missing", `Header ${signatureHeader} is missing.`);
    const ts = timestampHeader === null ? null : readSingleHeader(headers, timestampHeader);
    if (ts?.kind === "missing") return fail("timestamp_missing", `Header ${timestampHeader} is missing.`);
    const id = signsId && idHeader !== null ? readSingleHeader(headers, idHeader) : null;
    if (id?.kind === "missing") {
      return fail("signature_mismatch", `Header ${idHeader} is missing; it is part of the signed content.`);
    }

    if (sig.kind === "repeated") return fail("signature_mismatch", `Header ${signatureHeader} appears more than once.`);
    if (sig.kind === "oversized") return fail("signature_mismatch", `Header ${signatureHeader} is too long.`);
    const candidate = sig.value.startsWith(prefix) ? decode(sig.value.slice(prefix.length), digestBytes) : null;
    if (candidate === null) return fail("signature_mismatch", `Header ${signatureHeader} is not ${format}.`);

    let timestamp: number | null = null;
    let timestampBytes: Buffer | null = null;
    if (ts !== null) {
      if (ts.kind === "repeated") return fail("timestamp_invalid", `Header ${timestampHeader} appears more than once.`);
      if (ts.kind === "oversized") return fail("timestamp_invalid", `Header ${timestampHeader} is too long.`);
      const checked = checkTimestamp(ts.value, `Header ${timestampHeader}`, ctx);
      if (typeof checked !== "number") return checked;
      timestamp = checked;
      timestampBytes = Buffer.from(ts.value, "latin1"); // digits only: the bytes as sent
    }

    let idValue: string | null = null;
    let idBytes: Buffer | null = null;
    if (id !== null) {
      if (id.kind !== "ok")
        return fail("signature_mismatch", `Header ${idHeader} appears more than once or is too long.`);
      idBytes = headerBytes(id.value);
      if (idBytes === null)
        return fail("signature_mismatch", `Header ${idHeader} has characters no HTTP header can carry.`);
      idValue = id.value;
    }

    // The signed content in order; the body's place is kept for verify to fill in.
    const pieces: ContentPiece[] = [];
    for (const part of signedContent) {
      if (part.kind === "literal") pieces.push(part.bytes);
      else if (part.kind === "body") pieces.push(BODY);
      else if (part.kind === "timestamp" && timestampBytes !== null) pieces.push(timestampBytes);
      else if (part.kind === "id" && idBytes !== null) pieces.push(idBytes);
    }
    return { ok: true, candidate, timestamp, pieces, id: idValue };
  }

  function verify(req: VerifyRequest, ctx: VerifyContext): VerifyResult {
    const parsed = parse(req.headers, ctx);
    if (!parsed.ok) return parsed;
    const { candidate, timestamp, pieces } = parsed;
    const secret = findMatchingSecret(ctx.secrets, [candidate], (key) => {
      const mac = createHmac(algorithm, key);
      for (const piece of pieces) mac.update(piece === BODY ? req.rawBody : piece);
      return mac.digest();
    });
    if (secret === null) return fail("signature_mismatch");

    return { ok: true, secretId: secret.id, timestamp, deliveryId: parsed.id };
  }

  const checkHeaders = (headers: Record<string, HeaderValue>, ctx: HeaderCheckContext) => {
    const parsed = parse(headers, ctx);
    return parsed.ok ? null : parsed;
  };
  return { name, deliveryIdSource, signsTimestamp: timestampHeader !== null, verify, checkHeaders };
}
