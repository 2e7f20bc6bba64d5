import { createSecretKey, timingSafeEqual, type KeyObject } from "node:crypto";
import { parseHex } from "./encoding.js";
import type { SourceSecret } from "./types.js";

/**
 * Decodes a hex SHA-256 MAC, or returns null when the text is not exactly 64 hex digits (either
 * case). The format is checked first because `Buffer.from(s, 'hex')` silently stops at the first
 * bad character and would hand a short buffer to the comparison.
 *
 * No `sha256=` / `v1=` prefix is accepted: deep-link senders send bare hex, and providers that
 * use a prefix (GitHub's `sha256=`, Stripe's `t=…,v1=…`, Standard Webhooks' `v1,<base64>`) get
 * their own scheme file, so one scheme never guesses at another's format.
 */
export function parseHexSha256(text: string): Buffer | null {
  return parseHex(text, 32);
}

/**
 * True for secrets that are HMAC keys. Only an explicit `hmac` or an absent kind counts: an
 * Ed25519 public key must never become an HMAC key (anyone who has seen it could forge), and an
 * unknown kind from an untyped caller fails closed.
 */
export function isHmacSecret(secret: SourceSecret): boolean {
  return secret.kind === undefined || secret.kind === "hmac";
}

/**
 * HMAC keys as KeyObjects, by the Buffer of the secret entry. On Node 24 (OpenSSL 3.5) passing a
 * Buffer to `createHmac` costs about 28 µs per call to import the key, against about 5 µs for the
 * whole 1 KiB HMAC with a prepared KeyObject (measured here; see BENCH.md) — so each key is
 * imported once. Entries are treated as immutable (see SourceSecret); the WeakMap lets retired
 * secrets go.
 */
const hmacKeys = new WeakMap<Buffer, KeyObject | null>();

/** The KeyObject for an HMAC key, or null when the entry holds no bytes (an untyped caller). */
export function hmacKey(raw: Buffer): KeyObject | null {
  if (!Buffer.isBuffer(raw)) return null;
  let key = hmacKeys.get(raw);
  if (key === undefined) {
    try {
      key = createSecretKey(raw);
    } catch {
      key = null; // cannot happen for a Buffer; never let a bad entry throw on a request
    }
    hmacKeys.set(raw, key);
  }
  return key;
}

/**
 * Returns the first HMAC secret whose MAC equals one of `candidates`, or null.
 *
 * Timing: the MAC is computed once per HMAC secret and compared with every candidate, with no
 * early exit, so the time taken depends only on the number of secrets, the number of candidates
 * and the body length (all already known to the sender), not on which secret matched or how many
 * leading bytes agreed. `timingSafeEqual` needs equal lengths; candidates are parsed digests of
 * the scheme's size, and the length check only guards a scheme bug. The one data-dependent step
 * left is remembering the match — a few nanoseconds that JavaScript cannot hide and that tells
 * nothing to someone without a valid signature. An empty key never matches: HMAC with no key is
 * forgeable by anyone. Callers cap `candidates` (MAX_SIGNATURES) before calling.
 */
export function findMatchingSecret(
  secrets: readonly SourceSecret[],
  candidates: readonly Buffer[],
  computeMac: (key: KeyObject) => Buffer,
): SourceSecret | null {
  let matched: SourceSecret | null = null;
  if (candidates.length === 0) return null;
  for (const secret of secrets) {
    const key = isHmacSecret(secret) ? hmacKey(secret.key) : null;
    if (key === null) continue; // depends on config only, never on the request
    const expected = computeMac(key);
    for (const candidate of candidates) {
      const equal = expected.length === candidate.length && timingSafeEqual(expected, candidate);
      if (equal && secret.key.length > 0 && matched === null) matched = secret;
    }
  }
  return matched;
}
