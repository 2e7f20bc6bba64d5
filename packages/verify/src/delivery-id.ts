import type { HeaderValue } from "./types.js";
import { readSingleHeader } from "./headers.js";

/**
 * The provider's delivery id, or null when the scheme reads none, or the header is absent,
 * repeated or oversized. An unusable id is never a failure: the event key then falls back to a
 * body field or the body hash (see @tributary/dedupe), which a retry reproduces just as well.
 */
export function readDeliveryId(headers: Record<string, HeaderValue>, idHeader: string | null): string | null {
  if (idHeader === null) return null;
  const read = readSingleHeader(headers, idHeader);
  return read.kind === "ok" ? read.value : null;
}
