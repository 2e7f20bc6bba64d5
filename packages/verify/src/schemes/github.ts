import { parseSignedContent } from "../signed-content.js";
import type { SignatureScheme } from "../types.js";
import { genericHmacScheme } from "./generic-hmac.js";

export const GITHUB = "github";

export type GithubOptions = {
  /** Lower-case header names (createScheme normalises them). */
  signatureHeader: string;
  /** null: do not read a delivery id. */
  idHeader: string | null;
};

export const GITHUB_DEFAULTS: Readonly<GithubOptions> = Object.freeze({
  signatureHeader: "x-hub-signature-256",
  idHeader: "x-github-delivery",
});

const BODY_ONLY = parseSignedContent("{body}");

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, secret as typed
 * (UTF-8). No timestamp, so no tolerance. The delivery id `X-GitHub-Delivery` is the event key
 * (GitHub keeps it on redelivery) but is not signed: a captured request can be replayed under a
 * fresh id, and nothing bounds that in time. Set `idHeader: null` to key by the body hash instead.
 * The legacy SHA-1 `X-Hub-Signature` is not accepted.
 */
export function githubScheme(options: GithubOptions): SignatureScheme {
  return genericHmacScheme(
    {
      algorithm: "sha256",
      encoding: "hex",
      signatureHeader: options.signatureHeader,
      timestampHeader: null,
      idHeader: options.idHeader,
      prefix: "sha256=",
      signedContent: BODY_ONLY,
    },
    GITHUB,
  );
}
