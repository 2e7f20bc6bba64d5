import { Type, type Static } from "@sinclair/typebox";

/** Event types become NATS subject tokens (`events.{region}.{source}.{eventType}`). */
export const EVENT_TYPE_MAX_LENGTH = 100;
/** Dot-separated tokens of `[A-Za-z0-9_-]`: no spaces, `*`, `>` or empty tokens in a subject. */
export const EVENT_TYPE_PATTERN = "^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$";
export const EVENT_ID_MAX_LENGTH = 256;
export const SCHEMA_VERSION_MAX_LENGTH = 64;
/** A numeric timestamp below this is epoch seconds, else epoch ms (1e11 s is year 5138, 1e11 ms is 1973). */
export const EPOCH_SECONDS_BELOW = 1e11;

const DATE_TIME_EXAMPLE = '"2026-03-04T14:32:08.441Z"';
export const DATE_TIME_MESSAGE = `must be an ISO-8601 date-time with a time zone, e.g. ${DATE_TIME_EXAMPLE}`;

/**
 * The envelope as Tributary reads it, under canonical names. Senders may use either name of each
 * field; the validator picks one per field (event_type over event, event_id over id, occurred_at
 * over timestamp; null counts as absent) and validates it here. The name that lost is left alone
 * like any other unknown field: unknown fields are kept, never rejected.
 */
export const EnvelopeSchema = Type.Object(
  {
    event_type: Type.String({
      minLength: 1,
      maxLength: EVENT_TYPE_MAX_LENGTH,
      pattern: EVENT_TYPE_PATTERN,
      errorMessage:
        `must be a string of 1-${EVENT_TYPE_MAX_LENGTH} characters: ` +
        'dot-separated tokens of letters, digits, "_" or "-" (e.g. "link.clicked")',
    }),
    // Numeric ids are kept only while exact: above 2^53 JSON.parse rounds, and two different ids
    // could collide into one dedupe key.
    event_id: Type.Optional(
      Type.Union(
        [
          Type.String({ minLength: 1, maxLength: EVENT_ID_MAX_LENGTH }),
          Type.Integer({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }),
        ],
        {
          errorMessage:
            `must be a non-empty string of at most ${EVENT_ID_MAX_LENGTH} characters, ` +
            "or an integer of magnitude below 2^53 (send larger ids as strings)",
        },
      ),
    ),
    occurred_at: Type.Optional(
      Type.Union([Type.String({ format: "date-time" }), Type.Number({ minimum: 0, maximum: 8.64e15 })], {
        errorMessage:
          `must be an ISO-8601 date-time with a time zone (e.g. ${DATE_TIME_EXAMPLE}) ` +
          "or a non-negative number of epoch seconds or milliseconds",
      }),
    ),
    schema_version: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: SCHEMA_VERSION_MAX_LENGTH }), Type.Number()], {
        errorMessage: `must be a non-empty string of at most ${SCHEMA_VERSION_MAX_LENGTH} characters, or a number`,
      }),
    ),
    data: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);
export type Envelope = Static<typeof EnvelopeSchema>;

/** Each canonical field and the names a sender may use for it, the winning name first. */
export const ENVELOPE_FIELD_NAMES = {
  // `type`/`created` are Stripe's names, `type`/`time` CloudEvents' (and many providers').
  event_type: ["event_type", "event", "type"],
  event_id: ["event_id", "id"],
  occurred_at: ["occurred_at", "timestamp", "created", "time"],
  schema_version: ["schema_version"],
} as const;

/**
 * An envelope timestamp as an ISO string (UTC, millisecond precision), or null when it cannot be
 * a real instant. Call it after the schema check, which guarantees the type.
 */
export function normalizeTimestamp(value: string | number): string | null {
  let ms: number;
  if (typeof value === "number") {
    ms = Math.round(value < EPOCH_SECONDS_BELOW ? value * 1000 : value);
  } else {
    // RFC 3339 allows a bare hour offset ("+02") that Date.parse does not; a leap second
    // (":60") stays unparseable and is reported.
    ms = Date.parse(value.replace(/([+-]\d\d)$/, "$1:00"));
  }
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
