import { ConfigError } from "@tributary/errors";

/** A scheme config as read from a file: plain fields, not yet trusted. */
export type ConfigFields = Readonly<Record<string, unknown>>;

/**
 * Header options of a scheme and their defaults: a name, null for "off", or undefined for
 * "required, no default" (the generic `hmac` scheme's signature header).
 */
export type HeaderDefaults = Readonly<Record<string, string | null | undefined>>;

/** RFC 9110 field-name: a token. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$/;

/**
 * Reads and validates a scheme's header options: lower-cased names (requests carry lower-case
 * names), null only where `nullable` allows it, and no two options naming the same header (one
 * header cannot be both the signature and the timestamp).
 */
export function readHeaderOptions(
  fields: ConfigFields,
  defaults: HeaderDefaults,
  nullable: readonly string[],
): Record<string, string | null> {
  const options: Record<string, string | null> = {};
  const seen = new Map<string, string>(); // header name → option that claimed it
  for (const [option, fallback] of Object.entries(defaults)) {
    const value = fields[option];
    let header: string | null;
    if (value === undefined && fallback !== undefined) header = fallback;
    else if (value === undefined) throw new ConfigError(option, "is required");
    else if (value === null) {
      if (!nullable.includes(option)) throw new ConfigError(option, "is required and cannot be null");
      header = null;
    } else if (typeof value === "string" && HEADER_NAME.test(value)) {
      header = value.toLowerCase();
    } else {
      throw new ConfigError(option, "must be an HTTP header name (letters, digits, - and _)");
    }
    if (header !== null) {
      const other = seen.get(header);
      if (other !== undefined) throw new ConfigError(option, `names the same header as ${other} (${header})`);
      seen.set(header, option);
    }
    options[option] = header;
  }
  return options;
}

/** One of `allowed`, or `fallback` when absent. */
export function readChoice<T extends string>(
  fields: ConfigFields,
  option: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = fields[option];
  if (value === undefined) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(option, `must be one of ${allowed.join(", ")}`);
}
