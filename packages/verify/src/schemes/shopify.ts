import { parseSignedContent } from "../signed-content.js";
import type { SignatureScheme } from "../types.js";
import { genericHmacScheme } from "./generic-hmac.js";

export const SHOPIFY = "shopify";

export type ShopifyOptions = {
  /** Lower-case header name (createScheme normalises it). */
  signatureHeader: string;
};

export const SHOPIFY_DEFAULTS: Readonly<ShopifyOptions> = Object.freeze({
  signatureHeader: "x-shopify-hmac-sha256",
});

const BODY_ONLY = parseSignedContent("{body}");

/**
 * Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the raw body>`, keyed with the app's
 * client secret as typed (UTF-8). No signed timestamp (`X-Shopify-Triggered-At` is not covered
 * by the MAC, so no tolerance is applied to it). `X-Shopify-Webhook-Id` is not signed either, so
 * as with GitHub it is not read and events are keyed by the body's hash (a retry resends the same
 * body). The body's own `id` is the resource's (an order's), shared by its create and update
 * events, so it cannot key them.
 */
export function shopifyScheme(options: ShopifyOptions): SignatureScheme {
  return genericHmacScheme(
    {
      algorithm: "sha256",
      encoding: "base64",
      signatureHeader: options.signatureHeader,
      timestampHeader: null,
      idHeader: null,
      prefix: "",
      signedContent: BODY_ONLY,
    },
    SHOPIFY,
  );
}
