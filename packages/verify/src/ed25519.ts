import { createPublicKey, verify, type KeyObject } from "node:crypto";
import type { SourceSecret } from "./types.js";

/** Raw Ed25519 public keys are 32 bytes; signatures 64 (RFC 8032). */
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/**
 * Parsed keys, by the Buffer of the secret entry. Building a KeyObject costs about as much as a
 * verification, and secrets are decoded once at start-up and kept, so each key is parsed once.
 * Entries are treated as immutable (documented on SourceSecret); a WeakMap lets retired secrets go.
 */
const keyObjects = new WeakMap<Buffer, KeyObject | null>();

/** The KeyObject for a raw public key, or null when the bytes are not an Ed25519 public key. */
export function ed25519PublicKey(raw: Buffer): KeyObject | null {
  if (!Buffer.isBuffer(raw)) return null; // an untyped caller's entry: matches nothing
  const cached = keyObjects.get(raw);
  if (cached !== undefined) return cached;
  let key: KeyObject | null = null;
  if (raw.length === ED25519_PUBLIC_KEY_BYTES) {
    try {
      key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
    } catch {
      key = null; // not a valid key: it matches nothing, the request is refused, nothing throws
    }
  }
  keyObjects.set(raw, key);
  return key;
}

/**
 * Returns the first `ed25519-public` secret under which one of `candidates` is a valid signature
 * of `data`, or null.
 *
 * Unlike the HMAC comparison this stops at the first match: verification involves no secret, so
 * its timing tells an attacker nothing they could not compute from the public key themselves.
 * The cost is bounded by the caller's cap on candidates (MAX_SIGNATURES) times the number of
 * public keys; candidates are already checked to be 64 bytes.
 */
export function findMatchingPublicKey(
  secrets: readonly SourceSecret[],
  candidates: readonly Buffer[],
  data: Buffer,
): SourceSecret | null {
  if (candidates.length === 0) return null;
  for (const secret of secrets) {
    if (secret.kind !== "ed25519-public") continue;
    const key = ed25519PublicKey(secret.key);
    if (key === null) continue;
    for (const candidate of candidates) {
      if (candidate.length !== ED25519_SIGNATURE_BYTES) continue;
      try {
        if (verify(null, data, key, candidate)) return secret;
      } catch {
        // node:crypto throws only on bad arguments, which the checks above exclude; never let
        // request input turn into an exception all the same.
      }
    }
  }
  return null;
}
