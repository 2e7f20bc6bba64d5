/** A dotted path of 1–16 non-empty segments, e.g. `id`, `event_id`, `data.click_id`. */
const MAX_SEGMENTS = 16;

function splitPath(path: string): string[] | null {
  if (typeof path !== "string" || path === "") return null;
  const segments = path.split(".");
  if (segments.length > MAX_SEGMENTS || segments.some((s) => s === "")) return null;
  return segments;
}

/** For config validation: true when readBodyField can use this path. */
export function isValidFieldPath(path: string): boolean {
  return splitPath(path) !== null;
}

/**
 * The value at a dotted path of a parsed JSON body, as an id string, or null.
 * - Only own properties of plain objects are followed (no arrays, no prototype keys such as
 *   `__proto__` or `constructor`), so hostile bodies cannot reach anything but their own data.
 * - Strings are returned as they are (empty → null); numbers as their decimal text when finite.
 *   Integers beyond 2^53 are refused (null): JSON.parse has already rounded them, and two
 *   different ids could collapse into one key. The body hash is used instead.
 * - Never throws; an invalid path gives null (check paths at start-up with isValidFieldPath).
 */
export function readBodyField(body: unknown, path: string): string | null {
  const segments = splitPath(path);
  if (segments === null) return null;
  let current: unknown = body;
  for (const segment of segments) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return null;
    if (!Object.hasOwn(current, segment)) return null;
    current = (current as Record<string, unknown>)[segment];
  }
  if (typeof current === "string") return current === "" ? null : current;
  if (typeof current === "number" && Number.isFinite(current)) {
    if (Number.isInteger(current) && !Number.isSafeInteger(current)) return null;
    return String(current);
  }
  return null;
}
