import { defineErrors } from "@tributary/errors";

/**
 * Why an event did not reach a destination, as recorded in the delivery log and the DLQ's
 * `Tributary-Dlq-Reason` (`<code>: <detail>`). Stable: dashboards and replays select on them.
 */
export const DELIVERY_FAILURES = {
  rejected: {
    meaning: "The destination answered a 4xx other than 408 or 429: the same request will not get better.",
    fix: "Fix the destination (or the transform that shapes the body), then replay the DLQ entry.",
  },
  attempts_exhausted: {
    meaning:
      "Every attempt up to `retry.maxAttempts` failed in a retryable way (timeout, refused connection, 408, 429, 5xx).",
    fix: "Bring the destination back, then replay; raise `retry.maxAttempts` for longer outages.",
  },
  invalid_json: {
    meaning: "The event body is not JSON, but the destination has a filter or a transform that needs it.",
    fix: "Drop the filter or transform for this source, or send JSON bodies.",
  },
  filter_failed: {
    meaning:
      "The filter expression failed on this event: an error, its depth or sequence limit, or the sandbox worker's memory.",
    fix: "Correct the filter, then replay.",
  },
  filter_timeout: {
    meaning:
      "The filter used more than `sandbox.filterTimeoutMs` of CPU time on this event on each of its first 3 deliveries (a run past it is retried first: a stalled machine is not the event's fault).",
    fix: "Make the filter cheaper, or raise `sandbox.filterTimeoutMs`, then replay.",
  },
  transform_failed: {
    meaning: "The transform threw, or returned something that is not JSON.",
    fix: "Correct the transform, then replay.",
  },
  transform_timeout: {
    meaning:
      "The transform used more than `sandbox.timeoutMs` of CPU time (a loop) and was interrupted, on each of its first 3 deliveries.",
    fix: "Remove the loop, or raise `sandbox.timeoutMs`, then replay.",
  },
  transform_memory: {
    meaning: "The transform ran out of `sandbox.memoryBytes`.",
    fix: "Build less in the transform, or raise `sandbox.memoryBytes`.",
  },
  address_refused: {
    meaning:
      "The destination's host is, or resolved at connect time to, a loopback, private, link-local, CGNAT, multicast or otherwise non-public address that its `allowPrivate` does not list: no request was made.",
    fix: "If the destination really is internal, add its CIDR or host name to `allowPrivate` (the destination's, or the delivery app's for every destination), then replay; otherwise its DNS points where it must not.",
  },
  missing_headers: {
    meaning: "The message lacks the wire contract's headers (source, event id, key): it cannot be routed or signed.",
    fix: "Publish only through a gateway; replaying will not help.",
  },
} as const;
export type DeliveryFailureCode = keyof typeof DELIVERY_FAILURES;

/** A retryable attempt failure: thrown inside the breaker so it counts there. */
export class RetryableDeliveryError extends defineErrors("RetryableDeliveryError", {
  delivery_retryable: {
    meaning: "One attempt failed in a way worth retrying; the retry policy and the breaker decide what comes next.",
    fix: "Nothing: internal to the deliverer. After the last attempt the event goes to the DLQ as `attempts_exhausted`.",
  },
}) {
  constructor(
    message: string,
    /** HTTP status, 0 when there was no answer (timeout, refused connection). */
    readonly responseStatus: number,
    /** From `Retry-After` on 429/503, in ms. */
    readonly retryAfterMs: number | undefined,
    readonly responseSnippet: string,
    readonly latencyMs: number,
    options?: ErrorOptions,
  ) {
    super("delivery_retryable", message, options);
  }
}
