import type { ValidateFunction } from "ajv";
import { createAjv, toIssue, type ValidationIssue } from "./ajv.js";
import { ENVELOPE_FIELD_NAMES, EnvelopeSchema, normalizeTimestamp, type Envelope } from "./envelope.js";
import { describePath } from "./path.js";
import { EVENT_DATA_SCHEMAS, isKnownEventType, type KnownEventType } from "./payloads.js";

/** An accepted event: the envelope fields under canonical names, and the body as parsed. */
export interface NormalizedEvent {
  eventType: string;
  eventId: string | null;
  /** ISO-8601 UTC with milliseconds, e.g. "2026-03-04T14:32:08.441Z". */
  occurredAt: string | null;
  schemaVersion: string | null;
  /** True when the type has a payload schema (and `data` passed it). */
  known: boolean;
  /** The parsed envelope, unchanged: unknown fields and the losing field names included. */
  body: Record<string, unknown>;
}

export type ValidationResult =
  | { ok: true; event: NormalizedEvent }
  | { ok: false; code: "schema_violation"; message: string; errors: ValidationIssue[] };

export interface ValidateOptions {
  /** The source's setting: when true, events of unknown types are refused. */
  strict: boolean;
  /**
   * The event type when the body names none: providers such as GitHub (`X-GitHub-Event`) and
   * Shopify (`X-Shopify-Topic`) send it in a header. A type in the body wins.
   */
  eventType?: string | undefined;
}

export interface EventValidator {
  validate(value: unknown, options: ValidateOptions): ValidationResult;
}

interface Compiled {
  envelope: ValidateFunction<Envelope>;
  data: ReadonlyMap<string, ValidateFunction>;
}

// Compiling is the expensive part (ajv generates code), so it happens once per process, on first
// use, however many validators are created. A Map, not an object, so that an event type such as
// "constructor" can never find an inherited entry.
let compiled: Compiled | undefined;
function compile(): Compiled {
  if (compiled !== undefined) return compiled;
  const ajv = createAjv();
  const data = new Map<string, ValidateFunction>();
  for (const [type, schema] of Object.entries(EVENT_DATA_SCHEMAS)) data.set(type, ajv.compile(schema));
  compiled = { envelope: ajv.compile<Envelope>(EnvelopeSchema), data };
  return compiled;
}

type CanonicalField = keyof typeof ENVELOPE_FIELD_NAMES;

export function createEventValidator(): EventValidator {
  const { envelope, data: dataValidators } = compile();

  return {
    validate(value, options) {
      const { strict } = options;
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return violation({ path: "", message: `must be a JSON object, not ${describeJsonType(value)}` });
      }
      const body = value as Record<string, unknown>;

      // Pick the winning name of each field and validate the winners under canonical names.
      const view: Record<string, unknown> = {};
      const usedName = new Map<string, string>();
      for (const [field, names] of Object.entries(ENVELOPE_FIELD_NAMES) as [CanonicalField, readonly string[]][]) {
        const name = names.find((n) => Object.hasOwn(body, n) && body[n] !== null && body[n] !== undefined);
        if (name === undefined) continue;
        view[field] = body[name];
        usedName.set(field, name);
      }
      if (Object.hasOwn(body, "data")) view["data"] = body["data"];
      if (!("event_type" in view) && options.eventType !== undefined) {
        view["event_type"] = options.eventType;
        usedName.set("event_type", "(event type header)");
      }
      if (!("event_type" in view)) {
        return violation({ path: "event_type", message: 'is required (as "event_type", "event" or "type")' });
      }
      const rename = (segment: string): string => usedName.get(segment) ?? segment;
      if (!envelope(view)) return violation(toIssue(envelope.errors, [], rename));
      const fields = view as Envelope;

      let occurredAt: string | null = null;
      if (fields.occurred_at !== undefined) {
        occurredAt = normalizeTimestamp(fields.occurred_at);
        if (occurredAt === null) {
          const message = "is not a representable instant (leap seconds are not supported)";
          return violation({ path: rename("occurred_at"), message });
        }
      }

      const eventType = fields.event_type;
      const known = isKnownEventType(eventType);
      if (known) {
        const issue = checkData(eventType, body["data"], dataValidators);
        if (issue !== undefined) return violation(issue);
      } else if (strict) {
        return violation({
          path: rename("event_type"),
          message: `"${eventType}" is not a known event type, and this source is strict (it accepts known types only)`,
        });
      }

      return {
        ok: true,
        event: {
          eventType,
          eventId: fields.event_id === undefined ? null : String(fields.event_id),
          occurredAt,
          schemaVersion: fields.schema_version === undefined ? null : String(fields.schema_version),
          known,
          body,
        },
      };
    },
  };
}

function checkData(
  type: KnownEventType,
  data: unknown,
  validators: ReadonlyMap<string, ValidateFunction>,
): ValidationIssue | undefined {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    const found = data === undefined ? "it is missing" : `got ${describeJsonType(data)}`;
    return { path: "data", message: `must be an object for event type "${type}" (${found})` };
  }
  const validate = validators.get(type);
  if (validate === undefined || validate(data)) return undefined;
  return toIssue(validate.errors, ["data"]);
}

function violation(issue: ValidationIssue): ValidationResult {
  const message = `${describePath(issue.path)} ${issue.message}`;
  return { ok: false, code: "schema_violation", message, errors: [issue] };
}

function describeJsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}
