import { Ajv, type ErrorObject } from "ajv";
import addFormatsModule from "ajv-formats";
import { renderPath } from "./path.js";

// ajv-formats is CommonJS; under NodeNext its default import is `module.exports`, whose
// `default` property is the plugin itself (also true at run time).
const addFormats = addFormatsModule.default;

/** One problem in an event, located by its JSON path (`data.link_id`; "" is the body). */
export interface ValidationIssue {
  path: string;
  message: string;
}

/**
 * Our one annotation keyword. On a schema node it replaces ajv's generic wording for a failure of
 * that node (a union's "must match a schema in anyOf", a pattern's regex) with a sentence a sender
 * can act on. `required` failures are reported at the missing child, so they never use it.
 */
export const ERROR_MESSAGE_KEYWORD = "errorMessage";

export function createAjv(): Ajv {
  const ajv = new Ajv({
    allErrors: false, // stop at the first problem: cheaper, and one clear message is enough
    verbose: true, // puts parentSchema on errors, where errorMessage lives
    strict: true, // schema mistakes throw at compile time instead of validating loosely
    strictRequired: false, // except `anyOf: [{ required: [a] }, { required: [b] }]`, the "one of these fields" idiom
    keywords: [ERROR_MESSAGE_KEYWORD],
    // The body must stay byte-for-byte what the sender signed: never coerce, default or remove.
    coerceTypes: false,
    useDefaults: false,
    removeAdditional: false,
  });
  addFormats(ajv);
  return ajv;
}

/**
 * Turns ajv's errors into the issue that stopped validation. With allErrors: false that is the
 * last one; any earlier ones are the failed branches of a union, already summed up by it.
 * `prefix` locates the validated value in the body; `rename` maps a canonical envelope field
 * back to the name the sender used.
 */
export function toIssue(
  errors: readonly ErrorObject[] | null | undefined,
  prefix: readonly string[] = [],
  rename: (segment: string) => string = (s) => s,
): ValidationIssue {
  const error = errors?.at(-1);
  if (error === undefined) return { path: renderPath(prefix), message: "is invalid" };
  const segments = [...prefix, ...pointerToSegments(error.instancePath)];
  let message: string;
  if (error.keyword === "required") {
    segments.push(String((error.params as { missingProperty: string }).missingProperty));
    message = "is required";
  } else if (typeof error.parentSchema?.[ERROR_MESSAGE_KEYWORD] === "string") {
    message = error.parentSchema[ERROR_MESSAGE_KEYWORD] as string;
  } else if (error.keyword === "enum") {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
    message = `must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}`;
  } else {
    message = error.message ?? "is invalid";
  }
  const [first, ...rest] = segments;
  return { path: renderPath(first === undefined ? [] : [rename(first), ...rest]), message };
}

function pointerToSegments(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}
