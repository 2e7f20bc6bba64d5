import {
  BrokenCircuitError,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
  wrap,
  type IPolicy,
} from "cockatiel";
import { WarehouseError } from "@tributary/warehouse";

/** A failure worth retrying: the warehouse is down or slow, not refusing this data. */
export function isTransient(err: unknown): boolean {
  if (err instanceof BrokenCircuitError) return true;
  if (err instanceof WarehouseError) return err.code === "warehouse_unavailable";
  return false;
}

export function isRejected(err: unknown): err is WarehouseError {
  return err instanceof WarehouseError && err.code === "warehouse_rejected";
}

export interface InsertPolicyOptions {
  /** Consecutive failures that open the breaker. */
  failuresToOpen?: number;
  onBreak?: () => void;
  onReset?: () => void;
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

export interface InsertPolicy {
  policy: IPolicy;
  /** True while the breaker is open or half-open: the loader stops pulling then. */
  isOpen(): boolean;
}

/**
 * Retry with exponential backoff (100 ms doubling to 5 s, no attempt limit: a batch is held until
 * the warehouse takes it, the loader stops, or the loader breaks off for an isolation round), around
 * a circuit breaker that opens after a few consecutive failures and probes again after about 1 s,
 * growing to 30 s (cockatiel's decorrelated jitter: replicas probing a recovering warehouse spread
 * out). One policy per loader, as cockatiel's breakers must be shared to count. Data the warehouse
 * refuses is not retried.
 */
export function createInsertPolicy(opts: InsertPolicyOptions = {}): InsertPolicy {
  const breaker = circuitBreaker(handleWhen(isTransient), {
    halfOpenAfter: new ExponentialBackoff({ initialDelay: 1_000, maxDelay: 30_000 }),
    breaker: new ConsecutiveBreaker(opts.failuresToOpen ?? 3),
  });
  const retryPolicy = retry(handleWhen(isTransient), {
    maxAttempts: Number.POSITIVE_INFINITY,
    backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 5_000 }),
  });
  let open = false;
  breaker.onBreak(() => {
    open = true;
    opts.onBreak?.();
  });
  breaker.onReset(() => {
    open = false;
    opts.onReset?.();
  });
  if (opts.onRetry) {
    const onRetry = opts.onRetry;
    retryPolicy.onRetry((event) => onRetry(event.attempt, event.delay, "error" in event ? event.error : undefined));
  }
  return { policy: wrap(retryPolicy, breaker), isOpen: () => open };
}
