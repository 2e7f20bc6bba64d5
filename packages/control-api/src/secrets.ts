import { randomBytes } from "node:crypto";
import { ConfigError } from "@tributary/errors";
import { createScheme, decodeSecret, type SchemeConfig, type SchemeType } from "@tributary/verify";
import { ManagementError } from "./errors.js";

/**
 * A new secret for a sender, in the form its scheme reads: `whsec_` + base64 for the Standard
 * Webhooks family, 32 random bytes as hex text for the HMAC schemes. A sender that signs with
 * Ed25519 gives its public key (whpk_…) instead: the private key never leaves it.
 */
export function generateSourceSecret(type: SchemeType): string {
  if (type === "standard-webhooks" || type === "svix") return `whsec_${randomBytes(32).toString("base64")}`;
  return randomBytes(32).toString("hex");
}

/** A new subscription signing secret (standard-webhooks): 32 random bytes. */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** The scheme's type, after checking its options as the gateway will (createScheme names a bad field). */
export function checkScheme(scheme: { type?: string }, field = "scheme"): SchemeType {
  try {
    createScheme(scheme as SchemeConfig);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ManagementError("invalid_resource", `${field}.${err.field}: ${err.problem}`, {
      field: `${field}.${err.field}`,
    });
  }
  return (scheme.type ?? "webhook-hmac-sha256") as SchemeType;
}

/** Checks a secret's text reads as the gateway will read it (form, length), without keeping it. */
export function checkSourceSecret(text: string, type: SchemeType, encoding: string | undefined, field: string): void {
  let bytes: number;
  try {
    if (encoding !== undefined && (type === "standard-webhooks" || type === "svix"))
      throw new ConfigError("encoding", `does not apply to scheme ${type}`);
    const decoded =
      encoding === undefined
        ? decodeSecret(text, type)
        : { key: Buffer.from(text, encoding as BufferEncoding), kind: "hmac" as const };
    bytes = decoded.kind === "hmac" ? decoded.key.length : Number.POSITIVE_INFINITY;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ManagementError("invalid_resource", `${field}: ${err.problem}`, { field });
  }
  if (bytes < 16) throw new ManagementError("invalid_resource", `${field}: shorter than 16 bytes`, { field });
}
