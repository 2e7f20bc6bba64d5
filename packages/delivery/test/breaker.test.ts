import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BrokenCircuitError, breakerState, destinationBreaker } from "../src/breaker.js";
import { RetryableDeliveryError } from "../src/errors.js";

const failing = () => Promise.reject(new RetryableDeliveryError("HTTP 503", 503, undefined, "", 1));

describe("destination breaker - timing as configured", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("opens after failuresToOpen retryable failures; the first probe comes exactly halfOpenAfterMs later, then doubling (no jitter)", async () => {
    for (let run = 0; run < 20; run++) {
      const breaker = destinationBreaker({ failuresToOpen: 3, halfOpenAfterMs: 5_000, maxHalfOpenAfterMs: 20_000 });
      for (let i = 0; i < 3; i++) await expect(breaker.execute(failing)).rejects.toBeInstanceOf(RetryableDeliveryError);
      expect(breakerState(breaker)).toBe("open");
      for (const wait of [5_000, 10_000, 20_000, 20_000]) {
        vi.advanceTimersByTime(wait - 1);
        await expect(breaker.execute(failing)).rejects.toBeInstanceOf(BrokenCircuitError);
        vi.advanceTimersByTime(1);
        // The probe goes out (and fails again: open, with the next, longer wait).
        await expect(breaker.execute(failing)).rejects.toBeInstanceOf(RetryableDeliveryError);
      }
      vi.advanceTimersByTime(20_000);
      await expect(breaker.execute(() => Promise.resolve("ok"))).resolves.toBe("ok");
      expect(breakerState(breaker)).toBe("closed");
    }
  });
});
