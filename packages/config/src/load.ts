import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject } from "ajv";
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { ConfigError } from "./errors.js";

export interface LoadConfigOptions {
  /** Path of a JSON config file; its absence is an error only when given. */
  file?: string | undefined;
  /**
   * Values applied over the file (after env translation by the app). Keys are dotted paths,
   * e.g. `{ "nats.servers": ["nats://…"] }`; undefined values are ignored (blank env = unset).
   */
  overrides?: Record<string, unknown>;
}

const ajv = new Ajv({ allErrors: false, useDefaults: true, coerceTypes: false, strict: false });

/** Reads a JSON file; an unreadable or malformed file is a ConfigError naming the file. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(path, "cannot read the config file", "check the path (TRIBUTARY_CONFIG or --config)", {
      cause: err,
    });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(path, `is not valid JSON (${(err as Error).message})`, "fix the JSON syntax", { cause: err });
  }
}

/** Sets `value` at a dotted path, creating objects on the way. */
export function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

function jsonPathOf(error: ErrorObject): string {
  const base = error.instancePath.replace(/^\//, "").split("/").filter(Boolean);
  if (error.keyword === "required") base.push(String(error.params.missingProperty));
  if (error.keyword === "additionalProperties") base.push(String(error.params.additionalProperty));
  return base.length
    ? base
        .map((k) => (/^\d+$/.test(k) ? `[${k}]` : k))
        .join(".")
        .replace(/\.\[/g, "[")
    : "(root)";
}

/** Finds the schema node for an instance path, to read its `description` as the fix. */
function describeAt(schema: TSchema, path: string): string {
  let node: TSchema | undefined = schema;
  for (const key of path.replace(/\[(\d+)\]/g, ".$1").split(".")) {
    if (!node) break;
    if (node.properties && key in node.properties) node = node.properties[key] as TSchema;
    else if (node.items) node = node.items as TSchema;
    else if (typeof node.additionalProperties === "object") node = node.additionalProperties as TSchema;
    else if (node.patternProperties) node = Object.values(node.patternProperties as Record<string, TSchema>)[0];
    else node = undefined;
  }
  return typeof node?.description === "string" ? node.description : "";
}

function problemOf(error: ErrorObject): string {
  switch (error.keyword) {
    case "required":
      return "is required";
    case "additionalProperties":
      return "is not a known setting (a typo?)";
    case "enum":
      return `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return error.message ?? "is invalid";
  }
}

/**
 * Validates raw config against a TypeBox schema (defaults applied) and returns it typed. Apps call
 * this once at start-up; the first problem is thrown as a ConfigError that names the field and,
 * from the schema's `description`, how to fix it.
 */
export function validateConfig<S extends TSchema>(schema: S, raw: unknown): Static<S> {
  const validate = ajv.compile(schema);
  const copy = structuredClone(raw);
  if (validate(copy)) return copy as Static<S>;
  const error = validate.errors?.[0];
  if (!error) throw new ConfigError("(root)", "is invalid", "");
  const field = jsonPathOf(error);
  throw new ConfigError(field, problemOf(error), describeAt(schema, field));
}

/** File (optional) + overrides, validated. */
export function loadConfig<S extends TSchema>(schema: S, options: LoadConfigOptions): Static<S> {
  const raw = (options.file ? readJsonFile(options.file) : {}) as Record<string, unknown>;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(options.file ?? "(root)", "must be a JSON object", "wrap the settings in { … }");
  }
  for (const [path, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(raw, path, value);
  }
  return validateConfig(schema, raw);
}

/**
 * A string setting with a fixed set of values, as JSON Schema `enum` (TypeBox unions of literals
 * report "must be equal to constant"; an enum error lists the allowed values).
 */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { default?: T[number]; description?: string } = {},
) {
  return Type.Unsafe<T[number]>({ type: "string", enum: [...values], ...options });
}
