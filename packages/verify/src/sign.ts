import { createHmac } from "node:crypto";
import { ConfigError } from "@tributary/errors";
import { decodeSecret } from "./secrets.js";

/**
 * The signing direction of Standard Webhooks, for outbound deliveries: what `standard-webhooks`
 * verification (here and in the spec's reference libraries) accepts. Pure: the caller passes the
 * clock (`timestampSeconds`).
 */
export interface StandardWebhooksSignInput {
  /** `webhook-id`: the message id (Tributary uses the event key). Part of the signed content. */
  id: string;
  /** `webhook-timestamp`, Unix seconds. */
  timestampSeconds: number;
  /** The exact bytes that will be sent. */
  body: Uint8Array;
}

/** The three headers of a signed Standard Webhooks request (lower-case names). */
export interface StandardWebhooksHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** A decoded HMAC signing key (`whsec_…` as the receiver's dashboard shows it). */
export interface SigningKey {
  key: Buffer;
}

/**
 * Fewest bytes of an outbound signing key: the Standard Webhooks spec asks for secrets of 24 to 64
 * random bytes. A shorter key would make every delivery's signature only as strong as a guessable
 * secret, and receivers cannot tell; inbound secrets have their floor for the same reason.
 */
export const MIN_SIGNING_SECRET_BYTES = 24;

/**
 * Decodes a `whsec_<base64>` signing secret once (at start-up). Throws ConfigError for
 * anything else, and for a key shorter than MIN_SIGNING_SECRET_BYTES — Ed25519 (`v1a`) signing
 * is not offered: no destination asked for it yet.
 */
export function standardWebhooksSigningKey(text: string): SigningKey {
  const decoded = decodeSecret(text, "standard-webhooks");
  if (decoded.kind !== "hmac")
    throw new ConfigError("secret", "must be a whsec_ HMAC secret to sign outbound requests");
  if (decoded.key.length < MIN_SIGNING_SECRET_BYTES)
    throw new ConfigError(
      "secret",
      `decodes to ${decoded.key.length} bytes; an outbound signing secret needs at least ${MIN_SIGNING_SECRET_BYTES} bytes`,
      `generate one: echo "whsec_$(openssl rand -base64 32)"`,
    );
  return { key: decoded.key };
}

/**
 * Signs with every key given (space-separated `v1,<base64>` entries), so a receiver can rotate:
 * sign with the old and the new secret while it moves, then drop the old one.
 */
export function signStandardWebhooks(
  input: StandardWebhooksSignInput,
  keys: readonly SigningKey[],
): StandardWebhooksHeaders {
  if (keys.length === 0) throw new ConfigError("secrets", "at least one signing secret is needed");
  if (!Number.isSafeInteger(input.timestampSeconds) || input.timestampSeconds < 0) {
    throw new ConfigError("timestampSeconds", "must be a non-negative integer (Unix seconds)");
  }
  const timestamp = String(input.timestampSeconds);
  const prefix = Buffer.from(`${input.id}.${timestamp}.`, "utf8");
  const signature = keys
    .map(({ key }) => `v1,${createHmac("sha256", key).update(prefix).update(input.body).digest("base64")}`)
    .join(" ");
  return { "webhook-id": input.id, "webhook-timestamp": timestamp, "webhook-signature": signature };
}
