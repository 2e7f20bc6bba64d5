import { ED25519_PUBLIC_KEY_BYTES, ed25519PublicKey } from "./ed25519.js";
import { parseBase64Any } from "./encoding.js";
import { ConfigError } from "@tributary/errors";
import { STANDARD_WEBHOOKS } from "./schemes/standard-webhooks.js";
import { SVIX } from "./schemes/svix.js";
import type { SchemeType } from "./create-scheme.js";
import type { SecretKind } from "./types.js";

/** Standard Webhooks secret prefixes: HMAC secret, Ed25519 public key, Ed25519 private key. */
export const HMAC_SECRET_PREFIX = "whsec_";
export const ED25519_PUBLIC_KEY_PREFIX = "whpk_";
export const ED25519_PRIVATE_KEY_PREFIX = "whsk_";

export interface DecodedSecret {
  key: Buffer;
  kind: SecretKind;
}

/**
 * Turns a secret's text, as the provider's dashboard shows it, into the bytes and kind a
 * `SourceSecret` holds: `{ id, ...decodeSecret(text, type) }`. Throws `ConfigError`
 * (field `secret`, never echoing the text) — it runs on config at start-up, not on requests.
 *
 * - `standard-webhooks`, `svix`: `whsec_<base64>` → HMAC key bytes; `whpk_<base64>` → a 32-byte
 *   Ed25519 public key for `v1a`. The prefix is required: without it a pasted public key would be
 *   taken for an HMAC secret, and anyone holding the (public) key could then forge `v1` signatures.
 *   `whsk_` (the sender's private key) is refused: a receiver needs only the public key.
 * - every other type: the text's UTF-8 bytes, unchanged. Stripe HMACs with the whole `whsec_…`
 *   string (prefix included, not base64-decoded); GitHub and Shopify with the secret as typed.
 *   `whpk_`/`whsk_` text is refused there: a key pair is never an HMAC secret.
 */
export function decodeSecret(text: string, type: SchemeType): DecodedSecret {
  const standard = type === STANDARD_WEBHOOKS || type === SVIX;
  if (text.startsWith(ED25519_PRIVATE_KEY_PREFIX)) {
    throw new ConfigError("secret", "is an Ed25519 private key (whsk_); configure the public key (whpk_) instead");
  }
  if (text.startsWith(ED25519_PUBLIC_KEY_PREFIX)) {
    if (!standard) {
      throw new ConfigError("secret", `is an Ed25519 public key (whpk_), which scheme ${type} cannot use`);
    }
    const key = parseBase64Any(text.slice(ED25519_PUBLIC_KEY_PREFIX.length));
    if (key === null || key.length !== ED25519_PUBLIC_KEY_BYTES || ed25519PublicKey(key) === null) {
      throw new ConfigError("secret", "whpk_ must be followed by the base64 of a 32-byte Ed25519 public key");
    }
    return { key, kind: "ed25519-public" };
  }
  if (!standard) {
    if (text.length === 0) throw new ConfigError("secret", "is empty");
    return { key: Buffer.from(text, "utf8"), kind: "hmac" };
  }
  if (!text.startsWith(HMAC_SECRET_PREFIX)) {
    throw new ConfigError(
      "secret",
      `must start with whsec_ (HMAC secret) or whpk_ (Ed25519 public key) for scheme ${type}`,
    );
  }
  const key = parseBase64Any(text.slice(HMAC_SECRET_PREFIX.length));
  if (key === null || key.length === 0) {
    throw new ConfigError("secret", "whsec_ must be followed by non-empty standard base64");
  }
  return { key, kind: "hmac" };
}
