import { defineErrors, type CodedErrorOptions } from "@tributary/errors";

/**
 * Every error the gateway answers with, in one place: stable code → HTTP status, meaning, fix.
 * docs/errors.md is generated from it; a test keeps the two in step.
 */
export const GATEWAY_ERRORS = {
  unknown_source: {
    status: 404,
    meaning: "No source with this id is configured in this gateway.",
    fix: "Check the sourceId in the URL against the gateway's `sources` config.",
  },
  route_not_found: {
    status: 404,
    meaning: "No such endpoint.",
    fix: "POST events to /v1/sources/{sourceId}/events, batches to /v1/sources/{sourceId}/batch.",
  },
  batch_not_enabled: {
    status: 404,
    meaning:
      "This source does not take batches: `/batch` is for first-party producers, and a source enables it with `batch`.",
    fix: "POST one event per request to /v1/sources/{sourceId}/events, or set `batch` on the source.",
  },
  unsupported_media_type: {
    status: 415,
    meaning: "The body is not sent as JSON (a batch: as NDJSON or a JSON array).",
    fix: "Send `Content-Type: application/json`; for a batch `application/x-ndjson` or `application/json`.",
  },
  payload_too_large: {
    status: 413,
    meaning:
      "The body is larger than the source's `maxBodyBytes`, or than the regional stream can store with its headers: never storable, so not worth retrying.",
    fix: "Send smaller events or raise `maxBodyBytes` for the source (within what NATS takes).",
  },
  signature_missing: {
    status: 401,
    meaning: "The signature header is absent or empty.",
    fix: "Sign the request as the source's scheme requires.",
  },
  signature_mismatch: {
    status: 401,
    meaning: "No active secret of the source produces this signature over this body.",
    fix: "Sign the exact raw bytes you send with a current secret.",
  },
  timestamp_missing: {
    status: 401,
    meaning: "The scheme needs a timestamp header and there is none.",
    fix: "Send the scheme's timestamp header (Unix seconds).",
  },
  timestamp_invalid: {
    status: 401,
    meaning: "The timestamp header is not a Unix time in seconds.",
    fix: "Send whole seconds since the epoch.",
  },
  timestamp_out_of_tolerance: {
    status: 401,
    meaning: "The signed timestamp is further from the gateway's clock than the source's tolerance.",
    fix: "Sign with the current time; check the sender's clock.",
  },
  invalid_json: {
    status: 400,
    meaning:
      "The body is not valid UTF-8 JSON, or holds a prototype-poisoning key (`__proto__`, `constructor.prototype`).",
    fix: "Send one JSON object.",
  },
  json_limits_exceeded: {
    status: 400,
    meaning: "The body nests deeper than 32 levels or has more than 10,000 keys and array elements.",
    fix: "Flatten or split the event.",
  },
  invalid_batch: {
    status: 400,
    meaning: "The batch body is neither NDJSON (one JSON value per line) nor one JSON array, or it holds no item.",
    fix: "Send one event per line, or a JSON array of events, with at least one event.",
  },
  batch_too_large: {
    status: 413,
    meaning: "The batch has more items or bytes than the gateway's `batch.maxItems` / `batch.maxBodyBytes`.",
    fix: "Split the batch; the limits are in the message.",
  },
  schema_violation: {
    status: 422,
    meaning: "The event does not match the envelope or its type's payload schema.",
    fix: "Read `error.details` for the failing fields.",
  },
  rate_limited: {
    status: 429,
    meaning: "The source sent more than its `rateLimit` allows in the window (per gateway process).",
    fix: "Retry after `Retry-After` seconds; ask for a higher limit.",
  },
  overloaded: {
    status: 503,
    meaning:
      "This gateway process is at its limit; `error.details.limit` says which (`publishes_in_flight`, `event_loop_delay` or `heap_used`). Nothing was stored.",
    fix: "Retry after `Retry-After` seconds, ideally with jitter; another instance may answer.",
  },
  buffer_full: {
    status: 503,
    meaning:
      "The regional stream is full; nothing was stored. `Retry-After` is computed from the stream's fill level and drain rate.",
    fix: "Retry after `Retry-After` seconds.",
  },
  buffer_unavailable: {
    status: 503,
    meaning: "The regional stream did not acknowledge the event in time; it may not be stored.",
    fix: "Retry after `Retry-After` seconds; the event key makes the retry safe.",
  },
  shutting_down: {
    status: 503,
    meaning: "This gateway process is shutting down.",
    fix: "Retry after `Retry-After` seconds (another instance will answer).",
  },
  bad_request: {
    status: 400,
    meaning:
      "The request is malformed at the HTTP level: its request line, headers or body framing (Content-Length, chunked encoding), a URL that does not percent-decode, or an HTTP/1.1 request without Host.",
    fix: "Check the request line, the headers and the body's framing.",
  },
  request_timeout: {
    status: 408,
    meaning:
      "The request did not arrive in time: its headers within `http.headersTimeoutMs`, or all of it within `http.requestTimeoutMs`. The connection is closed; nothing was stored.",
    fix: "Send the whole request at once; a proxy in front should buffer request bodies or time out first.",
  },
  headers_too_large: {
    status: 431,
    meaning: "The request line and headers are larger than the server takes (16 KiB).",
    fix: "Send fewer or shorter headers.",
  },
  expectation_failed: {
    status: 417,
    meaning: "The request's `Expect` header asks for something other than `100-continue`.",
    fix: "Drop the Expect header, or send `Expect: 100-continue`.",
  },
  internal_error: {
    status: 500,
    meaning: "An unexpected error; nothing was acknowledged.",
    fix: "Retry; report it if it persists.",
  },
} as const satisfies Record<string, { status: number; meaning: string; fix: string }>;

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

export interface GatewayErrorOptions extends CodedErrorOptions {
  /** For a 503: seconds the sender should wait, when computed (else the configured default). */
  retryAfterSeconds?: number;
}

/** A refusal with a stable code; the error handler turns it into `{ error: { code, message, details? } }`. */
export class GatewayError extends defineErrors("GatewayError", GATEWAY_ERRORS) {
  declare readonly status: number;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: GatewayErrorCode, message: string, options?: GatewayErrorOptions) {
    super(code, message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}
