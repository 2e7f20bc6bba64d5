import { SchemeConfigError } from './errors.js';
import {
  HMAC_SHA256_BODY,
  HMAC_SHA256_BODY_DEFAULTS,
  hmacSha256BodyScheme,
} from './schemes/hmac-sha256-body.js';
import {
  WEBHOOK_HMAC_SHA256,
  WEBHOOK_HMAC_SHA256_DEFAULTS,
  webhookHmacSha256Scheme,
} from './schemes/webhook-hmac-sha256.js';
import type { SignatureScheme } from './types.js';

/** Header options are names, case-insensitive; `idHeader: null` turns the delivery id off. */
export interface WebhookHmacSha256Config {
  /** Optional: this is the default scheme. */
  type?: typeof WEBHOOK_HMAC_SHA256;
  signatureHeader?: string; // default x-webhook-signature
  timestampHeader?: string; // default x-webhook-timestamp
  idHeader?: string | null; // default x-webhook-id
}

export interface HmacSha256BodyConfig {
  type: typeof HMAC_SHA256_BODY;
  signatureHeader?: string; // default x-webhook-signature
  idHeader?: string | null; // default null: no delivery id (see HMAC_SHA256_BODY_DEFAULTS)
}

export type SchemeConfig = WebhookHmacSha256Config | HmacSha256BodyConfig;
export type SchemeType = typeof WEBHOOK_HMAC_SHA256 | typeof HMAC_SHA256_BODY;

export const DEFAULT_SCHEME_TYPE: SchemeType = WEBHOOK_HMAC_SHA256;

/**
 * Header options of a scheme and their defaults; null means "off". A scheme is known here by its
 * defaults (which list its options) and a builder taking the validated, lower-cased options.
 */
type HeaderOptions = Readonly<Record<string, string | null>>;
interface SchemeEntry {
  defaults: HeaderOptions;
  /** Options that may be set to null to turn them off. */
  nullable: readonly string[];
  build(options: HeaderOptions): SignatureScheme;
}

function entry<O extends HeaderOptions>(
  defaults: O,
  nullable: readonly (keyof O & string)[],
  build: (options: O) => SignatureScheme,
): SchemeEntry {
  // Safe: createScheme passes exactly the keys of `defaults`, each validated to the same shape.
  return { defaults, nullable, build: (options) => build(options as O) };
}

/** Adding a provider: one file under schemes/, one line here, one member in SchemeConfig. */
const SCHEMES: Readonly<Record<SchemeType, SchemeEntry>> = {
  [WEBHOOK_HMAC_SHA256]: entry(WEBHOOK_HMAC_SHA256_DEFAULTS, ['idHeader'], webhookHmacSha256Scheme),
  [HMAC_SHA256_BODY]: entry(HMAC_SHA256_BODY_DEFAULTS, ['idHeader'], hmacSha256BodyScheme),
};

export const SCHEME_TYPES: readonly SchemeType[] = Object.freeze(Object.keys(SCHEMES) as SchemeType[]);

/** RFC 9110 field-name: a token. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$/;

/**
 * Builds a scheme from a plain config object (as read from a config file). Throws
 * `SchemeConfigError` naming the bad field; unknown fields are refused, not ignored, so a typo
 * in a header option cannot silently fall back to the default header.
 */
export function createScheme(config: SchemeConfig): SignatureScheme {
  const raw: unknown = config;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SchemeConfigError('config', 'must be an object like { "type": "webhook-hmac-sha256" }');
  }
  const fields = raw as Record<string, unknown>;

  const type = fields['type'] ?? DEFAULT_SCHEME_TYPE;
  if (typeof type !== 'string' || !Object.hasOwn(SCHEMES, type)) {
    throw new SchemeConfigError('type', `must be one of ${SCHEME_TYPES.join(', ')}`);
  }
  const scheme = SCHEMES[type as SchemeType];

  for (const field of Object.keys(fields)) {
    if (field !== 'type' && !Object.hasOwn(scheme.defaults, field)) {
      const allowed = ['type', ...Object.keys(scheme.defaults)].join(', ');
      throw new SchemeConfigError(field, `is not an option of scheme ${type} (options: ${allowed})`);
    }
  }

  const options: Record<string, string | null> = {};
  const seen = new Map<string, string>(); // header name → option that claimed it
  for (const [option, fallback] of Object.entries(scheme.defaults)) {
    const value = fields[option];
    let header: string | null;
    if (value === undefined) header = fallback;
    else if (value === null) {
      if (!scheme.nullable.includes(option)) {
        throw new SchemeConfigError(option, 'is required and cannot be null');
      }
      header = null;
    } else if (typeof value === 'string' && HEADER_NAME.test(value)) {
      header = value.toLowerCase();
    } else {
      throw new SchemeConfigError(option, 'must be an HTTP header name (letters, digits, - and _)');
    }
    if (header !== null) {
      const other = seen.get(header);
      if (other !== undefined) {
        throw new SchemeConfigError(option, `names the same header as ${other} (${header})`);
      }
      seen.set(header, option);
    }
    options[option] = header;
  }

  return scheme.build(options);
}
