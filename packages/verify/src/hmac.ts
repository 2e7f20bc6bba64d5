import { timingSafeEqual } from 'node:crypto';
import type { SourceSecret } from './types.js';

/** SHA-256 output: 32 bytes, 64 hex characters. */
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * Decodes a hex SHA-256 MAC, or returns null when the text is not exactly 64 hex digits (either
 * case). The format is checked first because `Buffer.from(s, 'hex')` silently stops at the first
 * bad character and would hand a short buffer to the comparison.
 *
 * No `sha256=` / `v1=` prefix is accepted: the seeds' senders send bare hex, and providers that
 * use a prefix (GitHub's `sha256=`, Stripe's `t=…,v1=…`, Standard Webhooks' `v1,<base64>`) get
 * their own scheme file, so one scheme never guesses at another's format.
 */
export function parseHexSha256(text: string): Buffer | null {
  return SHA256_HEX.test(text) ? Buffer.from(text, 'hex') : null;
}

/**
 * Returns the first secret whose MAC equals `candidate`, or null.
 *
 * Timing: the MAC is computed and compared for every secret, with no early exit, so the time
 * taken depends only on the number of secrets and the body length (both already known to the
 * sender), not on which secret matched or how many leading bytes agreed. `timingSafeEqual` needs
 * equal lengths; the candidate is a parsed 32-byte digest, and the length check only guards a
 * scheme bug. The one data-dependent step left is remembering the match — a few nanoseconds
 * that JavaScript cannot hide and that tells nothing to someone without a valid signature.
 * An empty key never matches: HMAC with no key is forgeable by anyone.
 */
export function findMatchingSecret(
  secrets: readonly SourceSecret[],
  candidate: Buffer,
  computeMac: (key: Buffer) => Buffer,
): SourceSecret | null {
  let matched: SourceSecret | null = null;
  for (const secret of secrets) {
    const expected = computeMac(secret.key);
    const equal = expected.length === candidate.length && timingSafeEqual(expected, candidate);
    if (equal && secret.key.length > 0 && matched === null) matched = secret;
  }
  return matched;
}
