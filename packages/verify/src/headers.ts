import type { HeaderValue } from "./types.js";

/**
 * Longest header value a scheme will look at, in characters (Node decodes header bytes as latin1,
 * so characters = bytes). Real signatures, timestamps and ids are far shorter; the cap keeps
 * hostile input cheap (no regex or decode over megabytes) before anything else runs.
 */
export const MAX_HEADER_LENGTH = 1024; // 1 KiB

export type HeaderRead =
  { kind: "ok"; value: string } | { kind: "missing" } | { kind: "repeated" } | { kind: "oversized" };

/**
 * Reads a header that must appear exactly once. Names are looked up verbatim (callers pass the
 * lower-case name). A repeated header is refused rather than picked from: which copy the signer
 * meant is unknowable, and choosing one invites header-smuggling games between proxies.
 * Note that Node joins repeated custom headers into one string ("a, b"); that shape fails the
 * format check of the value instead, with the same outcome.
 */
export function readSingleHeader(headers: Record<string, HeaderValue>, name: string): HeaderRead {
  const raw: unknown = Object.hasOwn(headers, name) ? headers[name] : undefined;
  let value: unknown = raw;
  if (Array.isArray(raw)) {
    if (raw.length > 1) return { kind: "repeated" };
    value = raw[0];
  }
  if (typeof value !== "string") return { kind: "missing" };
  if (value.length > MAX_HEADER_LENGTH) return { kind: "oversized" };
  // HTTP strips optional whitespace around values; do the same for callers that did not.
  const trimmed = value.trim();
  if (trimmed === "") return { kind: "missing" };
  return { kind: "ok", value: trimmed };
}
