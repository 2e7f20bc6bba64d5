/**
 * A token bucket per destination. Hand-written: a dozen lines, and the rate limiter packages on npm
 * either count per key in a store (meant for servers) or schedule their own queues, where this
 * only needs "wait until a token is free" in front of each request.
 */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#tokens = burst;
    this.#last = now();
  }

  /** Ms to wait before a token is free (0: one was taken). */
  tryTake(): number {
    const now = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.perSecond);
    this.#last = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) / this.perSecond) * 1000);
  }

  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.tryTake();
      if (wait === 0 || signal?.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
    }
  }
}
