/**
 * Batch size that follows the warehouse: grow while flushes are fast, shrink when they are slow
 * (additive increase is too slow to find a 10× better size, so both directions are multiplicative,
 * with growth gentler than shrinking — a warehouse under pressure gets relief quickly).
 */
export interface AdaptiveOptions {
  /** Smallest batch, in events. */
  min: number;
  /** Largest batch, in events (also bounded by the consumer's max_ack_pending). */
  max: number;
  /** Flush latency to aim for, in ms: below half of it the batch grows, above it the batch shrinks. */
  targetLatencyMs: number;
  /** Starting size; default the middle of the range on a log scale. */
  initial?: number;
}

export const DEFAULT_ADAPTIVE: AdaptiveOptions = { min: 100, max: 10_000, targetLatencyMs: 1_000 };

const GROW = 1.5;
const SHRINK = 0.5;

export class AdaptiveBatchSize {
  #size: number;

  constructor(private readonly opts: AdaptiveOptions = DEFAULT_ADAPTIVE) {
    if (opts.min < 1 || opts.max < opts.min)
      throw new RangeError(`adaptive batch: need 1 <= min (${opts.min}) <= max (${opts.max})`);
    this.#size = clamp(opts.initial ?? Math.round(Math.sqrt(opts.min * opts.max)), opts.min, opts.max);
  }

  /** The batch size to fill now. */
  get current(): number {
    return this.#size;
  }

  /**
   * Feeds one flush back. `wasFull` says whether the batch reached the size limit: a batch flushed
   * by age was small because input was slow, which says nothing about the warehouse, so it only
   * counts when it was slow.
   */
  record(latencyMs: number, wasFull: boolean): void {
    if (latencyMs > this.opts.targetLatencyMs) {
      this.#size = clamp(Math.floor(this.#size * SHRINK), this.opts.min, this.opts.max);
    } else if (wasFull && latencyMs < this.opts.targetLatencyMs / 2) {
      this.#size = clamp(Math.ceil(this.#size * GROW), this.opts.min, this.opts.max);
    }
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
