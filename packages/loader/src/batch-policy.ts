/** When a batch is flushed: at `maxEvents`, at `maxBytes`, or when its oldest event is `maxAgeMs` old. */
export interface BatchPolicy {
  maxEvents: number;
  maxBytes: number;
  maxAgeMs: number;
}

export const DEFAULT_BATCH_POLICY: BatchPolicy = {
  maxEvents: 1000,
  maxBytes: 8 * 1024 * 1024, // 8 MiB
  maxAgeMs: 500,
};

export interface BatchState {
  events: number;
  bytes: number;
  /** When the first event of the batch arrived (ms); undefined while empty. */
  startedAt: number | undefined;
}

export function isFull(policy: BatchPolicy, state: BatchState): boolean {
  return state.events >= policy.maxEvents || state.bytes >= policy.maxBytes;
}

/** Milliseconds until the batch must be flushed by age; Infinity while empty. */
export function msUntilDue(policy: BatchPolicy, state: BatchState, now: number): number {
  if (state.startedAt === undefined) return Infinity;
  return Math.max(0, state.startedAt + policy.maxAgeMs - now);
}
