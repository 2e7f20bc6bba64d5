import { joinPath, describePath } from "./path.js";

export type ParseResult =
  | { ok: true; value: unknown; text: string }
  | { ok: false; code: "invalid_json" | "json_limits_exceeded"; message: string };

/**
 * Bounds on the shape of an accepted body. Webhook events are shallow and small; a body nested
 * thousands deep or with a hundred thousand keys is an attack on whatever walks it later
 * (validators, enrichment, transforms, the warehouse's JSON functions), so it is refused here.
 */
export const MAX_JSON_DEPTH = 32;
/** Object keys plus array elements, counted over the whole body. */
export const MAX_JSON_NODES = 10_000;

// fatal: invalid UTF-8 throws instead of becoming U+FFFD, which would silently change the event.
// ignoreBOM: false (the default) makes the decoder drop one leading UTF-8 BOM, so there is no
// separate strip step and no copy of the buffer.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * A key in JSON text, written plainly or with any of its letters as a \u escape (JSON allows
 * both, and JSON.parse folds them into the same key). Case-insensitive: a false alarm only costs
 * the exact scan below.
 */
function keyInText(key: string): RegExp {
  const letters = [...key].map((c) => `(?:${c}|\\\\u00${c.charCodeAt(0).toString(16)})`);
  return new RegExp(`"${letters.join("")}"\\s*:`, "i");
}
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;
const SUSPECT_PROTO = keyInText("__proto__");
const SUSPECT_CONSTRUCTOR = keyInText("constructor");

/**
 * Parses a request body once. Returns the value and the decoded text (BOM removed): the text is
 * what the warehouse stores as the payload, so callers need not decode the bytes again.
 *
 * Prototype poisoning: JSON.parse itself is safe (it defines `__proto__` as an own property and
 * never sets a prototype), but the raw event is replayed to destinations, transforms and tools we
 * do not control, where a naive deep merge would turn such a key into a polluted prototype. So,
 * like Fastify's default (onProtoPoisoning/onConstructorPoisoning: "error"), such bodies are
 * refused at the edge. A reviver would slow every parse (a JS call per value); instead a native
 * regex over the text flags the rare suspicious body, and only then is the parsed value scanned.
 */
export function parseEventBody(raw: Buffer): ParseResult {
  if (raw.length === 0) return invalid("body is empty; send a JSON object");
  let text: string;
  try {
    text = decoder.decode(raw);
  } catch {
    return invalid("body is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return invalid(`body is not valid JSON: ${(err as Error).message}`);
  }
  const tooComplex = exceedsLimits(value);
  if (tooComplex) return { ok: false, code: "json_limits_exceeded", message: tooComplex };
  // A lone UTF-16 surrogate (`"\ud800"`) parses in JavaScript but no warehouse can store it
  // (DuckDB's JSON type and ClickHouse refuse it): refuse it here, with a clear reason, rather
  // than accept it and dead-letter it later. The regex only flags candidates; the exact check
  // walks the strings.
  if (SURROGATE_ESCAPE.test(text)) {
    const broken = findIllFormedString(value);
    if (broken !== undefined)
      return invalid(`body holds a lone UTF-16 surrogate in ${describePath(broken)}; send well-formed Unicode`);
  }
  if (SUSPECT_PROTO.test(text) || SUSPECT_CONSTRUCTOR.test(text)) {
    const poisoned = findPoisonedKey(value);
    if (poisoned !== undefined) {
      return invalid(`body contains the forbidden key ${describePath(poisoned)} (prototype poisoning)`);
    }
  }
  return { ok: true, value, text };
}

/** Why the value is too deep or too large, or undefined when it is within the limits. */
function exceedsLimits(root: unknown): string | undefined {
  if (typeof root !== "object" || root === null) return undefined;
  // An explicit stack, for the same reason as below.
  const stack: Array<{ value: object; depth: number }> = [{ value: root, depth: 1 }];
  let nodes = 0;
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (item.depth > MAX_JSON_DEPTH) return `body nests deeper than ${MAX_JSON_DEPTH} levels`;
    const children = Array.isArray(item.value) ? item.value : Object.values(item.value);
    nodes += children.length;
    if (nodes > MAX_JSON_NODES) return `body has more than ${MAX_JSON_NODES} keys and array elements`;
    for (const child of children) {
      if (typeof child === "object" && child !== null) stack.push({ value: child, depth: item.depth + 1 });
    }
  }
  return undefined;
}

function invalid(message: string): ParseResult {
  return { ok: false, code: "invalid_json", message };
}

/** Path of the first key or string value that is not well-formed Unicode, if any. */
function findIllFormedString(root: unknown): string | undefined {
  const stack: { value: unknown; path: string }[] = [{ value: root, path: "" }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path } = item;
    if (typeof value === "string") {
      if (!value.isWellFormed()) return path;
      continue;
    }
    if (typeof value !== "object" || value === null) continue;
    for (const [key, child] of Object.entries(value)) {
      const childPath = joinPath(path, key);
      if (!key.isWellFormed()) return childPath;
      stack.push({ value: child, path: childPath });
    }
  }
  return undefined;
}

/** Path of the first `__proto__` key, or `constructor` holding a `prototype`, if any. */
function findPoisonedKey(root: unknown): string | undefined {
  // An explicit stack: JSON.parse accepts nesting deeper than the JS call stack allows.
  const stack: { value: unknown; path: string }[] = [{ value: root, path: "" }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path } = item;
    if (typeof value !== "object" || value === null) continue;
    for (const [key, child] of Object.entries(value)) {
      const childPath = joinPath(path, key);
      if (key === "__proto__") return childPath;
      if (key === "constructor" && typeof child === "object" && child !== null && Object.hasOwn(child, "prototype")) {
        return joinPath(childPath, "prototype");
      }
      stack.push({ value: child, path: childPath });
    }
  }
  return undefined;
}
