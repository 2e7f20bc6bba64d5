import {
  BrokenCircuitError,
  CircuitState,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleType,
  noJitterGenerator,
  type CircuitBreakerPolicy,
  type GeneratorFn,
} from "cockatiel";
import { RetryableDeliveryError } from "./errors.js";

export type BreakerState = "closed" | "open" | "half-open";

/** How much longer than configured a probe may wait: its share of the spread across replicas. */
export const PROBE_JITTER = 0.25;

/**
 * The wait before a probe: the configured one (doubling per failed probe) plus up to
 * PROBE_JITTER of it, at random. Upward only: cockatiel's jitter generators also shorten the wait
 * (its default sends 61 % of first probes sooner, some under a second), and the config's wait is a
 * promise to a recovering destination. The spread is what keeps several delivery replicas, whose
 * breakers opened together, from probing it in lockstep.
 */
export const upwardJitterGenerator: GeneratorFn<number> = (attempts, options) => {
  const [delay, next] = noJitterGenerator(attempts, options);
  return [Math.round(delay * (1 + Math.random() * PROBE_JITTER)), next];
};

/**
 * One cockatiel breaker per destination (breakers must be shared to count). Only retryable
 * failures (timeouts, 5xx, 429) count; a 4xx is the event's fault, not the destination's health.
 * Opens after `failuresToOpen` in a row; a probe is let through after halfOpenAfterMs (doubling
 * while probes fail, up to maxHalfOpenAfterMs), each wait up to a quarter longer at random
 * (upwardJitterGenerator); a successful probe closes it.
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
      generator: upwardJitterGenerator,
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
