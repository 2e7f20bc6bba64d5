import { parseSignedContent } from "../signed-content.js";
import type { SignatureScheme } from "../types.js";
import { genericHmacScheme } from "./generic-hmac.js";

export const SHOPIFY = "shopify";

export type ShopifyOptions = {
  /** Lower-case header names (createScheme normalises them). */
  signatureHeader: string;
  /** null: do not read a delivery id. */
  idHeader: string | null;
};

export const SHOPIFY_DEFAULTS: Readonly<ShopifyOptions> = Object.freeze({
  signatureHeader: "x-shopify-hmac-sha256",
  idHeader: "x-shopify-webhook-id",
});

const BODY_ONLY = parseSignedContent("{body}");

/**
 * Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the raw body>`, keyed with the app's
 * client secret as typed (UTF-8). No signed timestamp (`X-Shopify-Triggered-At` is not covered
 * by the MAC, so no tolerance is applied to it). The delivery id `X-Shopify-Webhook-Id` is not
 * signed either: the same replay caveat as GitHub applies, and `idHeader: null` keys by body hash.
 */
export function shopifyScheme(options: ShopifyOptions): SignatureScheme {
  return genericHmacScheme(
    {
      algorithm: "sha256",
      encoding: "base64",
      signatureHeader: options.signatureHeader,
      timestampHeader: null,
      idHeader: options.idHeader,
      prefix: "",
      signedContent: BODY_ONLY,
    },
    SHOPIFY,
  );
}
