import type { SignatureScheme } from "../types.js";
import { standardWebhooksScheme, type StandardWebhooksOptions } from "./standard-webhooks.js";

export const SVIX = "svix";

export type SvixOptions = StandardWebhooksOptions;

export const SVIX_DEFAULTS: Readonly<SvixOptions> = Object.freeze({
  signatureHeader: "svix-signature",
  timestampHeader: "svix-timestamp",
  idHeader: "svix-id",
});

/**
 * Svix: Standard Webhooks under `svix-id` / `svix-timestamp` / `svix-signature` (Svix wrote the
 * standard; its headers predate the unbranded `webhook-*` names). Same secrets (`whsec_`), same
 * signed content, same list of signatures. A sender using the unbranded names is configured as
 * `standard-webhooks`: reading both sets here would leave two ids for one request.
 */
export function svixScheme(options: SvixOptions): SignatureScheme {
  return standardWebhooksScheme(options, SVIX);
}
