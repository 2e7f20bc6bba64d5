import { parseSignedContent } from "../signed-content.js";
import type { SignatureScheme } from "../types.js";
import { genericHmacScheme } from "./generic-hmac.js";

export const GITHUB = "github";

export type GithubOptions = {
  /** Lower-case header name (createScheme normalises it). */
  signatureHeader: string;
};

export const GITHUB_DEFAULTS: Readonly<GithubOptions> = Object.freeze({
  signatureHeader: "x-hub-signature-256",
});

const BODY_ONLY = parseSignedContent("{body}");

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, secret as typed
 * (UTF-8). No timestamp, so no tolerance. `X-GitHub-Delivery` is not signed: a captured request
 * could be replayed under a fresh id, and nothing bounds that in time, so it is not read and events
 * are keyed by the body's hash (a redelivery sends the same body, so it keeps its key). Neither is
 * `X-GitHub-Event`; the gateway never lets the type it names into the key.
 * The legacy SHA-1 `X-Hub-Signature` is not accepted.
 */
export function githubScheme(options: GithubOptions): SignatureScheme {
  return genericHmacScheme(
    {
      algorithm: "sha256",
      encoding: "hex",
      signatureHeader: options.signatureHeader,
      timestampHeader: null,
      idHeader: null,
      prefix: "sha256=",
      signedContent: BODY_ONLY,
    },
    GITHUB,
  );
}
