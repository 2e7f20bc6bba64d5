/**
 * Most signature entries a scheme looks at in one header (Standard Webhooks' space-separated list,
 * Stripe's comma-separated `t=…,v1=…`). Senders list one entry per active secret — two or three
 * during a rotation — so 16 is generous; a header with more is refused as `signature_mismatch`
 * before any crypto. The HMAC work stays one MAC per active secret (each compared with at most 16
 * candidates); Ed25519 has its own, smaller cap below.
 */
export const MAX_SIGNATURES = 16;

/**
 * Splits a list header into its non-empty entries, or null when there are more than
 * MAX_SIGNATURES. The header is already capped at MAX_HEADER_LENGTH, so the split is cheap.
 */
export function splitEntries(value: string, separator: string): string[] | null {
  const entries = value.split(separator).filter((entry) => entry !== "");
  return entries.length > MAX_SIGNATURES ? null : entries;
}

/**
 * Most Ed25519 (`v1a`) signatures checked per request. A sender lists one per signing key — two
 * while rotating — and an Ed25519 verification costs some 15–30 HMACs of a 1 KiB body (BENCH.md).
 * Forged `v1a` entries need no secret to produce, so without this smaller cap one request could
 * buy 11 verifications per configured public key; more than this many is `signature_mismatch`.
 */
export const MAX_ED25519_SIGNATURES = 4;
