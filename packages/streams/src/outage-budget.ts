/** The largest budget reported: a year stands for "not limited by this stream". */
export const MAX_OUTAGE_BUDGET_SECONDS = 365 * 24 * 3600;

export interface OutageBudgetInput {
  /** Bytes the stream holds now. */
  bytes: number;
  /** The stream's max_bytes; 0 or -1: unlimited. */
  maxBytes: number;
  /** The stream's max_age in milliseconds; 0: unlimited. */
  maxAgeMs: number;
  /** Bytes per second arriving (measured from the stream's last sequence and average message size). */
  ingressBytesPerSecond: number;
}

/**
 * How long a regional stream can ride out a cut from the hub at the current input rate, in
 * seconds: the sooner of
 * - the time until it is full (`discard: new` then refuses events at the edge with 503), counting
 *   as if nothing aged out meanwhile — conservative, since ageing out frees room; and
 * - max_age: an event the hub has not sourced is lost once it ages out of the region.
 * A stream with neither limit, or no input, reports MAX_OUTAGE_BUDGET_SECONDS.
 */
export function outageBudgetSeconds(input: OutageBudgetInput): number {
  let budget = MAX_OUTAGE_BUDGET_SECONDS;
  if (input.maxAgeMs > 0) budget = Math.min(budget, input.maxAgeMs / 1000);
  if (input.maxBytes > 0 && input.ingressBytesPerSecond > 0) {
    const free = Math.max(0, input.maxBytes - input.bytes);
    budget = Math.min(budget, free / input.ingressBytesPerSecond);
  }
  return budget;
}
