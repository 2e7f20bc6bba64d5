/**
 * Strict decoders for signature text. `Buffer.from(text, 'hex' | 'base64')` is lenient: it stops
 * at or skips bad characters and returns a shorter or different buffer without complaint. Every
 * decoder here checks the exact length first (cheap, refuses oversized input before any work) and
 * then that re-encoding gives back the same text, so only the one canonical spelling of a digest
 * is accepted and a malformed value can never reach a comparison.
 */

/** `bytes` bytes as hex, either case; null for anything else. */
export function parseHex(text: string, bytes: number): Buffer | null {
  if (text.length !== bytes * 2) return null;
  const decoded = Buffer.from(text, "hex");
  return decoded.length === bytes && decoded.toString("hex") === text.toLowerCase() ? decoded : null;
}

/** `bytes` bytes as standard, padded base64 (RFC 4648 §4, what every provider here sends). */
export function parseBase64(text: string, bytes: number): Buffer | null {
  if (text.length !== Math.ceil(bytes / 3) * 4) return null;
  const decoded = Buffer.from(text, "base64");
  return decoded.length === bytes && decoded.toString("base64") === text ? decoded : null;
}

const BASE64_TEXT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Standard, padded base64 of any length, for secrets and keys read from config; null otherwise.
 * Config is not hostile, so this checks the alphabet and padding only (as the providers' own
 * libraries do) and not canonical trailing bits, which would refuse keys those libraries accept.
 */
export function parseBase64Any(text: string): Buffer | null {
  return BASE64_TEXT.test(text) ? Buffer.from(text, "base64") : null;
}

/**
 * The bytes of a header value as they came off the wire. Node decodes header bytes as latin1, so
 * encoding back as latin1 restores them exactly (a UTF-8 id stays the bytes its sender signed).
 * A character above U+00FF cannot have come from an HTTP parser and has no single byte; null, so
 * the caller refuses rather than letting latin1 encoding silently truncate it to another byte.
 */
export function headerBytes(value: string): Buffer | null {
  // eslint-disable-next-line no-control-regex
  return /^[\u0000-\u00ff]*$/.test(value) ? Buffer.from(value, "latin1") : null;
}
