import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BrokenCircuitError, breakerState, destinationBreaker, PROBE_JITTER } from "../src/breaker.js";
import { RetryableDeliveryError } from "../src/errors.js";

const failing = () => Promise.reject(new RetryableDeliveryError("HTTP 503", 503, undefined, "", 1));
const STEP_MS = 25;

/** Advances the fake clock in small steps until the breaker lets a (failing) probe through; the wait in ms. */
async function waitForProbe(breaker: ReturnType<typeof destinationBreaker>, limitMs: number): Promise<number> {
  for (let waited = 0; waited <= limitMs; waited += STEP_MS) {
    try {
      await breaker.execute(failing);
    } catch (err) {
      if (err instanceof BrokenCircuitError) {
        vi.advanceTimersByTime(STEP_MS);
        continue;
      }
      return waited;
    }
  }
  throw new Error(`no probe within ${limitMs} ms`);
}

describe("destination breaker - timing as configured", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("opens after failuresToOpen retryable failures; each probe waits at least halfOpenAfterMs (doubling), at most a quarter more", async () => {
    for (let run = 0; run < 20; run++) {
      const breaker = destinationBreaker({ failuresToOpen: 3, halfOpenAfterMs: 5_000, maxHalfOpenAfterMs: 20_000 });
      for (let i = 0; i < 3; i++) await expect(breaker.execute(failing)).rejects.toBeInstanceOf(RetryableDeliveryError);
      expect(breakerState(breaker)).toBe("open");
      for (const wait of [5_000, 10_000, 20_000, 20_000]) {
        vi.advanceTimersByTime(wait - 1);
        await expect(breaker.execute(failing)).rejects.toBeInstanceOf(BrokenCircuitError);
        vi.advanceTimersByTime(1);
        // The probe goes out (and fails again: open, with the next, longer wait) by a quarter more at most.
        const extra = await waitForProbe(breaker, wait * PROBE_JITTER + STEP_MS);
        expect(extra).toBeLessThanOrEqual(wait * PROBE_JITTER + STEP_MS);
      }
      vi.advanceTimersByTime(20_000 * (1 + PROBE_JITTER));
      await expect(breaker.execute(() => Promise.resolve("ok"))).resolves.toBe("ok");
      expect(breakerState(breaker)).toBe("closed");
    }
  });

  it("L12 - replicas whose breakers opened together probe the recovering destination at spread-out times", async () => {
    const waits: number[] = [];
    for (let replica = 0; replica < 20; replica++) {
      const breaker = destinationBreaker({ failuresToOpen: 1, halfOpenAfterMs: 4_000, maxHalfOpenAfterMs: 60_000 });
      await expect(breaker.execute(failing)).rejects.toBeInstanceOf(RetryableDeliveryError);
      waits.push(await waitForProbe(breaker, 4_000 * (1 + PROBE_JITTER) + STEP_MS));
    }
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(4_000);
    // Twenty replicas in lockstep would all probe at 4,000 ms; spread, they cover much of the next second.
    expect(new Set(waits).size).toBeGreaterThan(5);
    expect(Math.max(...waits) - Math.min(...waits)).toBeGreaterThanOrEqual(400);
  });
});
