import {
  BrokenCircuitError,
  CircuitState,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleType,
  noJitterGenerator,
  type CircuitBreakerPolicy,
} from "cockatiel";
import { RetryableDeliveryError } from "./errors.js";

export type BreakerState = "closed" | "open" | "half-open";

/**
 * One cockatiel breaker per destination (breakers must be shared to count). Only retryable
 * failures (timeouts, 5xx, 429) count; a 4xx is the event's fault, not the destination's health.
 * Opens after `failuresToOpen` in a row; a probe is let through after halfOpenAfterMs (doubling
 * while probes fail, up to maxHalfOpenAfterMs); a successful probe closes it. Without jitter
 * (cockatiel's default would send 61 % of first probes sooner, some under a second): the wait is
 * what the config says.
 */
export function destinationBreaker(opts: {
  failuresToOpen: number;
  halfOpenAfterMs: number;
  maxHalfOpenAfterMs: number;
}): CircuitBreakerPolicy {
  return circuitBreaker(handleType(RetryableDeliveryError), {
    halfOpenAfter: new ExponentialBackoff({
      initialDelay: opts.halfOpenAfterMs,
      maxDelay: Math.max(opts.halfOpenAfterMs, opts.maxHalfOpenAfterMs),
      generator: noJitterGenerator,
    }),
    breaker: new ConsecutiveBreaker(opts.failuresToOpen),
  });
}

export function breakerState(policy: CircuitBreakerPolicy): BreakerState {
  switch (policy.state) {
    case CircuitState.Closed:
      return "closed";
    case CircuitState.HalfOpen:
      return "half-open";
    default:
      return "open"; // Open and Isolated
  }
}

export { BrokenCircuitError };
