import { readHeaderOptions, type ConfigFields, type HeaderDefaults } from "./config.js";
import { ConfigError } from "@tributary/errors";
import { GENERIC_HMAC, genericHmacScheme, type HmacAlgorithm, type SignatureEncoding } from "./schemes/generic-hmac.js";
import { GENERIC_HMAC_OPTIONS, parseGenericHmacOptions } from "./schemes/generic-hmac-config.js";
import { GITHUB, GITHUB_DEFAULTS, githubScheme } from "./schemes/github.js";
import { HMAC_SHA256_BODY, HMAC_SHA256_BODY_DEFAULTS, hmacSha256BodyScheme } from "./schemes/hmac-sha256-body.js";
import { SHOPIFY, SHOPIFY_DEFAULTS, shopifyScheme } from "./schemes/shopify.js";
import { STANDARD_WEBHOOKS, STANDARD_WEBHOOKS_DEFAULTS, standardWebhooksScheme } from "./schemes/standard-webhooks.js";
import { STRIPE, STRIPE_DEFAULTS, stripeScheme } from "./schemes/stripe.js";
import { SVIX, SVIX_DEFAULTS, svixScheme } from "./schemes/svix.js";
import {
  WEBHOOK_HMAC_SHA256,
  WEBHOOK_HMAC_SHA256_DEFAULTS,
  webhookHmacSha256Scheme,
} from "./schemes/webhook-hmac-sha256.js";
import type { SignatureScheme } from "./types.js";

/**
 * Header options are names, case-insensitive. Schemes whose signature covers no id header accept
 * `idHeader: null` only (what used to turn an unsigned delivery id off): see UNSIGNED_ID_SCHEMES.
 */
export interface WebhookHmacSha256Config {
  /** Optional: this is the default scheme. */
  type?: typeof WEBHOOK_HMAC_SHA256;
  signatureHeader?: string; // default x-webhook-signature
  timestampHeader?: string; // default x-webhook-timestamp
  idHeader?: null; // x-webhook-id is not signed: keyed by the body's event_id or hash
}

export interface HmacSha256BodyConfig {
  type: typeof HMAC_SHA256_BODY;
  signatureHeader?: string; // default x-webhook-signature
  idHeader?: null; // the body alone is signed: keyed by its hash
}

/** All three headers are signed inputs, so none can be turned off. */
export interface StandardWebhooksConfig {
  type: typeof STANDARD_WEBHOOKS;
  signatureHeader?: string; // default webhook-signature
  timestampHeader?: string; // default webhook-timestamp
  idHeader?: string; // default webhook-id
}

export interface SvixConfig {
  type: typeof SVIX;
  signatureHeader?: string; // default svix-signature
  timestampHeader?: string; // default svix-timestamp
  idHeader?: string; // default svix-id
}

/** The delivery id is the body's `id` field: configure the gateway's `idField: "id"`. */
export interface StripeConfig {
  type: typeof STRIPE;
  signatureHeader?: string; // default stripe-signature
}

export interface GithubConfig {
  type: typeof GITHUB;
  signatureHeader?: string; // default x-hub-signature-256
  idHeader?: null; // x-github-delivery is not signed: keyed by the body's hash
}

export interface ShopifyConfig {
  type: typeof SHOPIFY;
  signatureHeader?: string; // default x-shopify-hmac-sha256
  idHeader?: null; // x-shopify-webhook-id is not signed: keyed by the body's hash
}

/** A MAC of configurable content in one header, for providers without a scheme of their own. */
export interface GenericHmacConfig {
  type: typeof GENERIC_HMAC;
  signatureHeader: string; // required
  algorithm?: HmacAlgorithm; // default sha256
  encoding?: SignatureEncoding; // default hex
  prefix?: string | null; // default none; e.g. "sha256="
  timestampHeader?: string | null; // default none; Unix seconds, must be signed
  idHeader?: string | null; // default none; must be signed ({id} in signedContent)
  /** Placeholders {id}, {timestamp}, {body}; default "{body}", or "{timestamp}.{body}" with a timestampHeader. */
  signedContent?: string;
}

export type SchemeConfig =
  | WebhookHmacSha256Config
  | HmacSha256BodyConfig
  | StandardWebhooksConfig
  | SvixConfig
  | StripeConfig
  | GithubConfig
  | ShopifyConfig
  | GenericHmacConfig;

export type SchemeType = NonNullable<SchemeConfig["type"]>;

export const DEFAULT_SCHEME_TYPE: SchemeType = WEBHOOK_HMAC_SHA256;

/** A scheme as createScheme knows it: the options it accepts and a builder from checked fields. */
interface SchemeEntry {
  /** Every option besides `type`. */
  options: readonly string[];
  build(fields: ConfigFields): SignatureScheme;
}

/** A scheme whose options are all header names (every type but `hmac`). */
function headerScheme<O extends Readonly<Record<string, string | null>>>(
  defaults: O,
  nullable: readonly (keyof O & string)[],
  build: (options: O) => SignatureScheme,
): SchemeEntry {
  // Safe: readHeaderOptions returns exactly the keys of `defaults`, each validated to a header
  // name, or to null only where `nullable` allows it.
  return {
    options: Object.keys(defaults),
    build: (fields) => build(readHeaderOptions(fields, defaults as HeaderDefaults, nullable) as unknown as O),
  };
}

/** Adding a provider: one file under schemes/, one line here, one member in SchemeConfig. */
const SCHEMES: Readonly<Record<SchemeType, SchemeEntry>> = {
  [WEBHOOK_HMAC_SHA256]: headerScheme(WEBHOOK_HMAC_SHA256_DEFAULTS, [], webhookHmacSha256Scheme),
  [HMAC_SHA256_BODY]: headerScheme(HMAC_SHA256_BODY_DEFAULTS, [], hmacSha256BodyScheme),
  [STANDARD_WEBHOOKS]: headerScheme(STANDARD_WEBHOOKS_DEFAULTS, [], standardWebhooksScheme),
  [SVIX]: headerScheme(SVIX_DEFAULTS, [], svixScheme),
  [STRIPE]: headerScheme(STRIPE_DEFAULTS, [], stripeScheme),
  [GITHUB]: headerScheme(GITHUB_DEFAULTS, [], githubScheme),
  [SHOPIFY]: headerScheme(SHOPIFY_DEFAULTS, [], shopifyScheme),
  [GENERIC_HMAC]: {
    options: GENERIC_HMAC_OPTIONS,
    build: (fields) => genericHmacScheme(parseGenericHmacOptions(fields)),
  },
};

export const SCHEME_TYPES: readonly SchemeType[] = Object.freeze(Object.keys(SCHEMES) as SchemeType[]);

/**
 * Schemes whose signature covers no id header. Their providers' delivery-id headers (GitHub's,
 * Shopify's, the deep-link platforms') used to be the event key, but whoever replays a captured
 * request can put a fresh id there, and each fresh id was a new key: a new row and a new delivery.
 * They are keyed by signed content instead (a body field or the body's hash). `idHeader: null`,
 * which used to mean "key by the body", is still accepted; a header name is refused.
 */
const UNSIGNED_ID_SCHEMES: ReadonlySet<SchemeType> = new Set([WEBHOOK_HMAC_SHA256, HMAC_SHA256_BODY, GITHUB, SHOPIFY]);

function withoutUnsignedIdHeader(type: SchemeType, fields: ConfigFields): ConfigFields {
  if (!UNSIGNED_ID_SCHEMES.has(type) || !Object.hasOwn(fields, "idHeader")) return fields;
  if (fields["idHeader"] !== null)
    throw new ConfigError(
      "idHeader",
      `is not covered by the ${type} signature: a replay could carry any id there, so it cannot key events`,
      "remove idHeader; events are keyed by the body's id field (the source's idField) or the body's SHA-256",
    );
  const { idHeader: _off, ...rest } = fields;
  return rest;
}

/** True for a known scheme type name. */
export function isSchemeType(value: unknown): value is SchemeType {
  return typeof value === "string" && Object.hasOwn(SCHEMES, value);
}

/**
 * Builds a scheme from a plain config object (as read from a config file). Throws
 * `ConfigError` naming the bad field; unknown fields are refused, not ignored, so a typo
 * in a header option cannot silently fall back to the default header.
 */
export function createScheme(config: SchemeConfig): SignatureScheme {
  const raw: unknown = config;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError("config", 'must be an object like { "type": "webhook-hmac-sha256" }');
  }
  const fields = raw as ConfigFields;

  const type = fields["type"] ?? DEFAULT_SCHEME_TYPE;
  if (!isSchemeType(type)) throw new ConfigError("type", `must be one of ${SCHEME_TYPES.join(", ")}`);
  const scheme = SCHEMES[type];
  const options = withoutUnsignedIdHeader(type, fields);

  for (const field of Object.keys(options)) {
    if (field !== "type" && !scheme.options.includes(field)) {
      const allowed = ["type", ...scheme.options].join(", ");
      throw new ConfigError(field, `is not an option of scheme ${type} (options: ${allowed})`);
    }
  }
  return scheme.build(options);
}
