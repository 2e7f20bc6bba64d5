/** What happened to one attempt (or to an event set aside without one). */
export type AttemptOutcome = "delivered" | "retry" | "dlq";

/**
 * One line of the delivery log: every HTTP attempt, and every event dead-lettered without one
 * (a transform that failed: attempt as counted by the stream, status 0). Published as JSON on
 * `deliveries.{destination}`; the aggregator loads it into the warehouse's `deliveries` table.
 */
export interface AttemptRecord {
  destination: string;
  event_key: string;
  /** The stream's delivery count of this event for this destination (1 = first try). */
  attempt: number;
  outcome: AttemptOutcome;
  /** HTTP status; 0 when there was no answer or no request. */
  status: number;
  latency_ms: number;
  /** `<code>: <detail>` for failures, "" when delivered. */
  error: string;
  /** ISO time the attempt ended. */
  at: string;
}

/** Per-destination counters, for /v1/stats and the metrics the telemetry layer exports. */
export interface DestinationStats {
  /** Messages taken from the stream (redeliveries count again). */
  pulled: number;
  /** Not for this destination (source/type of a replay, the filter, or a transform returning null): acked. */
  filtered: number;
  delivered: number;
  /** Retryable failures handed back to the stream with a delay. */
  retried: number;
  /** Dead-lettered: rejected (4xx), exhausted, or failed in filter/transform. */
  dlq: number;
  rejected: number;
  exhausted: number;
  /** Dead-lettered by the transform (an error, its memory, or past its CPU time on every try). */
  transformFailures: number;
  /** Dead-lettered by the filter (an error, its limits, or past its CPU time on every try). */
  filterFailures: number;
  /** Filter or transform runs past their CPU time that were retried (nak with backoff). */
  sandboxTimeouts: number;
  /** Sandbox workers replaced (ended by the watchdog, out of memory, or crashed). */
  sandboxRestarts: number;
  /** Events dead-lettered because the destination's address was refused (`address_refused`). */
  addressRefused: number;
  /** HTTP requests made. */
  attempts: number;
  /** Times an event waited because the breaker was open (no request made). */
  breakerHeld: number;
  /** Times the breaker opened (also again after a failed probe). */
  breakerOpens: number;
  breakerState: "closed" | "open" | "half-open";
  /** The breaker's sliding window now: attempts and retryable failures (in snapshot(); reset on closing). */
  breakerWindow: { attempts: number; failures: number };
  /** Paused (pause(), or the breaker open for `breaker.pauseAfterMs`): nothing pulled, no requests. */
  paused: boolean;
  /** Why, while paused; "" otherwise. */
  pausedReason: string;
  /** ISO time it was paused; "" when not paused. */
  pausedAt: string;
  /** Times it was paused. */
  pauses: number;
  inFlight: number;
  latencyMs: { count: number; sum: number; max: number };
  /** Delivery-log records the DELIVERIES stream did not take. */
  logFailures: number;
  /** DLQ writes that failed (each is tried again later, up to a bound). */
  dlqWriteFailures: number;
  /** Dead-lettered events the DLQ refused every time: terminated without an entry (terminal state). */
  dlqAbandoned: number;
}

export function emptyStats(): DestinationStats {
  return {
    pulled: 0,
    filtered: 0,
    delivered: 0,
    retried: 0,
    dlq: 0,
    rejected: 0,
    exhausted: 0,
    transformFailures: 0,
    filterFailures: 0,
    sandboxTimeouts: 0,
    sandboxRestarts: 0,
    addressRefused: 0,
    attempts: 0,
    breakerHeld: 0,
    breakerOpens: 0,
    breakerState: "closed",
    breakerWindow: { attempts: 0, failures: 0 },
    paused: false,
    pausedReason: "",
    pausedAt: "",
    pauses: 0,
    inFlight: 0,
    latencyMs: { count: 0, sum: 0, max: 0 },
    logFailures: 0,
    dlqWriteFailures: 0,
    dlqAbandoned: 0,
  };
}
