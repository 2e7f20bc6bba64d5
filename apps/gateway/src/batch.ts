/**
 * Splitting a batch body into its items' own bytes, pure and without copying: each item is a
 * subarray of the body, stored verbatim as its own stream message and hashed for its key.
 * Items are not parsed here; each is parsed once, on its own, by the ingest path.
 */

export type SplitResult =
  { ok: true; items: Buffer[] } | { ok: false; code: "invalid_batch" | "batch_too_large"; message: string };

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

function isSpace(byte: number): boolean {
  return byte === SPACE || byte === TAB || byte === LF || byte === CR;
}

/** Index after a leading UTF-8 byte-order mark, if there is one. */
function afterBom(body: Buffer): number {
  return body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
}

function tooMany(maxItems: number): SplitResult {
  return { ok: false, code: "batch_too_large", message: `the batch has more than ${maxItems} items; split it` };
}

function invalid(message: string): SplitResult {
  return { ok: false, code: "invalid_batch", message };
}

/**
 * NDJSON (JSON Lines): one item per line, LF or CRLF; blank lines (also a trailing newline) are
 * skipped. An item's bytes are its line without the line break and surrounding blanks.
 */
export function splitNdjson(body: Buffer, maxItems: number): SplitResult {
  const items: Buffer[] = [];
  let start = afterBom(body);
  while (start < body.length) {
    let end = body.indexOf(LF, start);
    if (end === -1) end = body.length;
    let from = start;
    let to = end;
    while (from < to && isSpace(body[from]!)) from++;
    while (to > from && isSpace(body[to - 1]!)) to--;
    if (to > from) {
      if (items.length === maxItems) return tooMany(maxItems);
      items.push(body.subarray(from, to));
    }
    start = end + 1;
  }
  if (items.length === 0) return invalid("the batch holds no item; send one JSON event per line");
  return { ok: true, items };
}

/**
 * One JSON array of items. A byte scanner finds each top-level element's bounds (tracking strings,
 * escapes and nesting), so an element's bytes are exactly what the sender wrote between the commas,
 * blanks trimmed. The elements themselves are checked later, one by one (a malformed element is
 * that item's invalid_json, not the whole batch's).
 */
export function splitJsonArray(body: Buffer, maxItems: number): SplitResult {
  let i = afterBom(body);
  const n = body.length;
  while (i < n && isSpace(body[i]!)) i++;
  if (body[i] !== OPEN_ARRAY) return invalid("the batch is not a JSON array; send [event, event, …] or NDJSON");
  i++;
  const items: Buffer[] = [];
  // Closers expected for the open brackets inside the current element.
  const closers: number[] = [];
  let start = -1; // first byte of the current element, -1 between elements
  let last = -1; // last non-blank byte of the current element
  let inString = false;
  for (; i < n; i++) {
    const byte = body[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
      last = i;
      continue;
    }
    if (closers.length === 0 && (byte === COMMA || byte === CLOSE_ARRAY)) {
      if (start === -1) {
        if (byte === CLOSE_ARRAY && items.length === 0)
          return invalid("the batch is an empty array; send at least one event");
        return invalid(`the batch array has an empty element at byte ${i}`);
      }
      if (items.length === maxItems) return tooMany(maxItems);
      items.push(body.subarray(start, last + 1));
      start = -1;
      if (byte === CLOSE_ARRAY) {
        for (i++; i < n; i++)
          if (!isSpace(body[i]!)) return invalid(`the batch has bytes after its closing ] at byte ${i}`);
        return { ok: true, items };
      }
      continue;
    }
    if (isSpace(byte)) continue;
    if (start === -1) start = i;
    last = i;
    if (byte === QUOTE) inString = true;
    else if (byte === OPEN_ARRAY) closers.push(CLOSE_ARRAY);
    else if (byte === OPEN_OBJECT) closers.push(CLOSE_OBJECT);
    else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      if (closers.pop() !== byte)
        return invalid(`the batch array has a mismatched ${String.fromCharCode(byte)} at byte ${i}`);
    }
  }
  return invalid("the batch array is not closed; send one complete JSON array");
}
