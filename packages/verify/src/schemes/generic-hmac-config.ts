import { readChoice, readHeaderOptions, type ConfigFields } from "../config.js";
import { ConfigError } from "@tributary/errors";
import { parseSignedContent, signs } from "../signed-content.js";
import { HMAC_ALGORITHMS, SIGNATURE_ENCODINGS, type GenericHmacOptions } from "./generic-hmac.js";

/** Every option of the `hmac` type besides `type`. */
export const GENERIC_HMAC_OPTIONS = [
  "signatureHeader",
  "timestampHeader",
  "idHeader",
  "algorithm",
  "encoding",
  "prefix",
  "signedContent",
] as const;

/** Visible ASCII without spaces or commas: what providers put before a MAC (`sha256=`, `v1=`). */
const PREFIX = /^[\x21-\x2b\x2d-\x7e]{1,32}$/;

/**
 * Validates an `hmac` config. The signature header is required (there is no neutral default);
 * everything else defaults to the commonest form: SHA-256, hex, no prefix, and a template of
 * `{body}` — or `{timestamp}.{body}` when a timestamp header is configured.
 */
export function parseGenericHmacOptions(fields: ConfigFields): GenericHmacOptions {
  const headers = readHeaderOptions(fields, { signatureHeader: undefined, timestampHeader: null, idHeader: null }, [
    "timestampHeader",
    "idHeader",
  ]);
  const signatureHeader = headers["signatureHeader"];
  if (typeof signatureHeader !== "string") throw new ConfigError("signatureHeader", "is required");
  const timestampHeader = headers["timestampHeader"] ?? null;
  const idHeader = headers["idHeader"] ?? null;

  const prefix = fields["prefix"] ?? "";
  if (typeof prefix !== "string" || (prefix !== "" && !PREFIX.test(prefix))) {
    throw new ConfigError(
      "prefix",
      'must be up to 32 visible ASCII characters without spaces or commas, e.g. "sha256="',
    );
  }

  const template = fields["signedContent"] ?? (timestampHeader === null ? "{body}" : "{timestamp}.{body}");
  if (typeof template !== "string")
    throw new ConfigError("signedContent", 'must be a template string such as "{timestamp}.{body}"');
  const signedContent = parseSignedContent(template);
  if (signs(signedContent, "timestamp") && timestampHeader === null) {
    throw new ConfigError("timestampHeader", "is required when signedContent includes {timestamp}");
  }
  if (!signs(signedContent, "timestamp") && timestampHeader !== null) {
    // A timestamp outside the signature can be rewritten by whoever replays the request, so a
    // tolerance check on it would look like replay protection without being any.
    throw new ConfigError("signedContent", "must include {timestamp} when timestampHeader is set");
  }
  if (signs(signedContent, "id") && idHeader === null) {
    throw new ConfigError("idHeader", "is required when signedContent includes {id}");
  }
  if (!signs(signedContent, "id") && idHeader !== null) {
    // An id outside the signature can be rewritten by whoever replays the request: each fresh id
    // would be a fresh event key, a new row and a new delivery.
    throw new ConfigError(
      "idHeader",
      "is not in signedContent: a replay could carry any id there, so it cannot key events",
      'add {id} to signedContent (e.g. "{id}.{timestamp}.{body}"), or remove idHeader to key by the body',
    );
  }

  return {
    algorithm: readChoice(fields, "algorithm", HMAC_ALGORITHMS, "sha256"),
    encoding: readChoice(fields, "encoding", SIGNATURE_ENCODINGS, "hex"),
    signatureHeader,
    timestampHeader,
    idHeader,
    prefix,
    signedContent,
  };
}
