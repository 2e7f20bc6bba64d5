import { Type, type Static } from "@sinclair/typebox";
import { StringEnum } from "@tributary/config";
import { DEFAULT_MAX_MSG_BYTES, MAX_PAYLOAD_BYTES } from "@tributary/streams";
import { DEFAULT_TOLERANCE_SECONDS, HMAC_ALGORITHMS, SCHEME_TYPES, SIGNATURE_ENCODINGS } from "@tributary/verify";

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024; // 256 KiB: webhooks are small; raise per source
/**
 * Room kept for an event's NATS headers: the key (at most ~300 bytes), source, region,
 * received-at, event type (at most 100 bytes) and traceparent come to well under 1 KiB; 8 KiB
 * leaves room for headers added later.
 */
export const HEADER_ALLOWANCE_BYTES = 8 * 1024;
/**
 * The largest `maxBodyBytes`: a body that, with its headers, fits the `max_payload` every server
 * config here sets (MAX_PAYLOAD_BYTES) and the regional stream's message size (its largest body,
 * DEFAULT_MAX_MSG_BYTES, plus room for headers). A body the region cannot take would otherwise be
 * answered "retry later" and retried by its sender for days. Servers or streams set lower (a stock
 * nats-server takes 1 MiB) are caught at start (region-limits.ts).
 */
export const MAX_BODY_BYTES_LIMIT = Math.min(MAX_PAYLOAD_BYTES - HEADER_ALLOWANCE_BYTES, DEFAULT_MAX_MSG_BYTES);
export const BATCH_MAX_BODY_BYTES_LIMIT = 64 * 1024 * 1024; // 64 MiB

export const SchemeSettingsSchema = Type.Object(
  {
    type: StringEnum(SCHEME_TYPES, { description: "the signature scheme the sender uses" }),
    signatureHeader: Type.Optional(Type.String({ minLength: 1 })),
    timestampHeader: Type.Optional(Type.String({ minLength: 1 })),
    idHeader: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
        description:
          "header holding a delivery id the signature covers (standard-webhooks, svix, hmac with {id}); schemes that sign none take only null",
      }),
    ),
    // The generic `hmac` scheme's options; createScheme refuses them on the other types.
    algorithm: Type.Optional(StringEnum(HMAC_ALGORITHMS)),
    encoding: Type.Optional(StringEnum(SIGNATURE_ENCODINGS)),
    prefix: Type.Optional(
      Type.Union([Type.String(), Type.Null()], {
        description: "text before the signature in its header, e.g. sha256=",
      }),
    ),
    signedContent: Type.Optional(
      Type.String({
        minLength: 1,
        description: "what is signed, from {id}, {timestamp} and {body}, e.g. {timestamp}.{body}",
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * A source's settings: everything but its secrets, which a config file gives as references (env or
 * file) and the control bucket as sealed values. The gateway's config file and the management API
 * validate against the same schema.
 */
export const SourceSettingsSchema = Type.Object(
  {
    scheme: SchemeSettingsSchema,
    toleranceSeconds: Type.Integer({
      minimum: 1,
      maximum: 86_400,
      default: DEFAULT_TOLERANCE_SECONDS,
      description:
        "how far (seconds) a signed timestamp may be from now; at most half of stream.duplicateWindowSeconds",
    }),
    idField: Type.Optional(
      Type.String({
        pattern: "^[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*$",
        description:
          "dotted path of the event id in the body, e.g. event_id or data.click_id (default: the scheme's, id for stripe and event_id for webhook-hmac-sha256)",
      }),
    ),
    eventTypeHeader: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
        description:
          "header naming the event type when the body does not (github: x-github-event, shopify: x-shopify-topic by default); null for none",
      }),
    ),
    strict: Type.Boolean({ default: false, description: "true refuses event types without a known schema" }),
    maxBodyBytes: Type.Integer({
      minimum: 64,
      maximum: MAX_BODY_BYTES_LIMIT,
      default: DEFAULT_MAX_BODY_BYTES,
      description: `largest accepted body in bytes (at most ${MAX_BODY_BYTES_LIMIT}, and what the regional NATS server takes less 8 KiB for headers)`,
    }),
    batch: Type.Optional(
      Type.Union(
        [
          Type.Boolean(),
          Type.Object(
            {
              maxItems: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: "events per batch" })),
              maxBodyBytes: Type.Optional(
                Type.Integer({
                  minimum: 1024,
                  maximum: BATCH_MAX_BODY_BYTES_LIMIT,
                  description: `bytes per batch request (at most ${BATCH_MAX_BODY_BYTES_LIMIT})`,
                }),
              ),
            },
            { additionalProperties: false },
          ),
        ],
        {
          description:
            "true, or { maxItems, maxBodyBytes } (default: the gateway's batch settings), to take batches on /batch; off by default",
        },
      ),
    ),
    rateLimit: Type.Optional(
      Type.Object(
        {
          max: Type.Integer({ minimum: 1, description: "requests allowed per window, per gateway process" }),
          windowSeconds: Type.Integer({
            minimum: 1,
            maximum: 86_400,
            default: 1,
            description: "length of the rate-limit window in seconds",
          }),
        },
        {
          additionalProperties: false,
          description: "cap a source's verified requests: { max, windowSeconds } (unsigned ones are not counted)",
        },
      ),
    ),
  },
  { additionalProperties: false },
);

export type SourceSettings = Static<typeof SourceSettingsSchema>;
