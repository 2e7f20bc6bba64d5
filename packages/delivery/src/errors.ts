/**
 * Why an event did not reach a destination, as recorded in the delivery log and the DLQ's
 * `Tributary-Dlq-Reason` (`<code>: <detail>`). Stable: dashboards and replays select on them.
 */
export const DeliveryFailureCodes = {
  /** The destination answered a 4xx other than 408/429: the request will not get better. */
  rejected: "rejected",
  /** Retryable failures until `retry.maxAttempts`. */
  attempts_exhausted: "attempts_exhausted",
  /** The body is not JSON, but the destination has a filter or a transform that needs it. */
  invalid_json: "invalid_json",
  /** The filter expression failed on this event (an error or its time/depth limit). */
  filter_failed: "filter_failed",
  /** The transformation threw, or returned something that is not JSON. */
  transform_failed: "transform_failed",
  /** The transformation ran past its time limit (a loop) and was interrupted. */
  transform_timeout: "transform_timeout",
  /** The transformation ran out of its memory limit. */
  transform_memory: "transform_memory",
  /** The message lacks the wire contract's headers. */
  missing_headers: "missing_headers",
} as const;
export type DeliveryFailureCode = (typeof DeliveryFailureCodes)[keyof typeof DeliveryFailureCodes];

/** A destination's config cannot work (bad filter syntax, transform without `transform`, …). */
export class DestinationConfigError extends Error {
  readonly code = "destination_config_invalid";
  constructor(
    readonly field: string,
    problem: string,
    readonly fix: string,
    options?: ErrorOptions,
  ) {
    super(`config ${field}: ${problem}${fix ? ` — ${fix}` : ""}`, options);
    this.name = "DestinationConfigError";
  }
}

export function isDestinationConfigError(err: unknown): err is DestinationConfigError {
  return err instanceof DestinationConfigError;
}

/** A retryable attempt failure: thrown inside the breaker so it counts there. */
export class RetryableDeliveryError extends Error {
  readonly code = "delivery_retryable";
  constructor(
    message: string,
    /** HTTP status, 0 when there was no answer (timeout, refused connection). */
    readonly status: number,
    /** From `Retry-After` on 429/503, in ms. */
    readonly retryAfterMs: number | undefined,
    readonly responseSnippet: string,
    readonly latencyMs: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "RetryableDeliveryError";
  }
}
