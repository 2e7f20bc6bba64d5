/**
 * Histogram buckets (seconds) for latencies that are milliseconds on a good day and hours after an
 * outage: a backlog loaded after a six-hour link cut must land in real buckets, not pile into +Inf,
 * or "how late is the data" has no answer exactly when it matters.
 */
export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200,
  14400, 28800, 86400, 259200,
] as const;

/** Short operations (a publish's PubAck, a warehouse insert): 0.5 ms to a minute. */
export const OPERATION_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

/** Events per warehouse batch: 1 to the loader's 50,000 ceiling. */
export const BATCH_SIZE_BUCKETS = [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000] as const;
