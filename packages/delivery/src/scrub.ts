import { oneLine } from "@tributary/streams";

/** The longest filter or transform error detail kept (in the DLQ reason and the delivery log). */
export const MAX_DETAIL_CHARS = 200;

/** What is left of a stretch of the event's body found in an error text. */
export const BODY_SNIPPET_CHARS = 16;

/**
 * An error text fit to persist for weeks (the DLQ, the warehouse's delivery log), outside the
 * sources' redaction rules: one line, at most `max` characters, and every stretch of it that is
 * also in one of `bodies` (the event as received, the body sent) cut to its first
 * BODY_SNIPPET_CHARS characters and "…". Filter and transform errors quote the values they fail
 * on, and destinations echo what they were sent; a snippet is enough to recognise the event.
 * Stretches are found through windows of BODY_SNIPPET_CHARS characters at fixed steps, so any
 * stretch of twice that length or more is cut (a shorter one is a snippet already), with one
 * substring search of each body per window: bounded work for a megabyte body.
 */
export function scrubDetail(text: string, bodies: readonly string[], max = MAX_DETAIL_CHARS): string {
  // Enough of the text to give `max` characters after cutting, and no more work than that.
  const t = oneLine(text).slice(0, max * 4);
  const inBody = (piece: string) => bodies.some((body) => body.includes(piece));
  const w = BODY_SNIPPET_CHARS;
  let out = "";
  let copied = 0;
  for (let i = 0; i + w <= t.length; i += w) {
    if (i < copied || !inBody(t.slice(i, i + w))) continue;
    // The whole stretch around the window: the longest extensions still in a body (binary search:
    // a piece of a body's text is in it, so containment only breaks as a stretch grows).
    let lo = Math.max(copied, i - w);
    let hi = i;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (inBody(t.slice(mid, i + w))) hi = mid;
      else lo = mid + 1;
    }
    const start = lo;
    lo = i + w;
    hi = t.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (inBody(t.slice(start, mid))) lo = mid;
      else hi = mid - 1;
    }
    const end = lo;
    out += `${t.slice(copied, start)}${t.slice(start, start + w)}…`;
    copied = end;
  }
  out += t.slice(copied);
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}
