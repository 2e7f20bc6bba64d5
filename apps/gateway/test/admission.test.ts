import { describe, expect, it } from "vitest";
import { clampSeconds, FillTracker, InFlightLimiter, QUEUE_CHECK_FLOOR, type StreamSample } from "../src/admission.js";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe("in-flight limiter", () => {
  it("admission - a hard bound on events in flight; a batch is admitted whole or not at all", () => {
    const c = clock();
    const limiter = new InFlightLimiter({ maxInFlight: 10, maxQueueMs: 2500, now: c.now });
    expect(limiter.tryAcquire(6)).toBe(true);
    expect(limiter.tryAcquire(5)).toBe(false); // 11 > 10: nothing of it is taken
    expect(limiter.inFlight).toBe(6);
    expect(limiter.tryAcquire(4)).toBe(true);
    expect(limiter.tryAcquire(1)).toBe(false);
    limiter.release(3);
    expect(limiter.tryAcquire(1)).toBe(true);
    expect(limiter.inFlight).toBe(8);
    expect(limiter.refusedFull).toBe(2);
  });

  it("admission - refuses when the queue would take longer than maxQueueMs at the measured ack rate", () => {
    const c = clock();
    const limiter = new InFlightLimiter({ maxInFlight: 100_000, maxQueueMs: 1000, now: c.now });
    // 200 acks within the last second: 200/s.
    expect(limiter.tryAcquire(200)).toBe(true);
    c.advance(500);
    limiter.release(200);
    expect(limiter.ackRate()).toBe(200);
    // 200 in flight drain in 1 s at 200/s: fine up to the floor, then the queue check applies.
    expect(limiter.tryAcquire(200)).toBe(true);
    expect(limiter.inFlight).toBeLessThanOrEqual(QUEUE_CHECK_FLOOR);
    expect(limiter.tryAcquire(100)).toBe(false); // 300 / 200 per s = 1.5 s > 1 s
    expect(limiter.refusedSlow).toBe(1);
    // Acks older than a second no longer count; with no rate known, only the hard bound applies.
    c.advance(1500);
    expect(limiter.ackRate()).toBe(0);
    expect(limiter.tryAcquire(100)).toBe(true);
  });

  it("admission - Retry-After is the time to drain what is in flight, at least 1 s", () => {
    const c = clock();
    const limiter = new InFlightLimiter({ maxInFlight: 10_000, maxQueueMs: 60_000, now: c.now });
    expect(limiter.retryAfterSeconds(2, 300)).toBe(2); // no rate yet: the configured default
    limiter.tryAcquire(1000);
    limiter.release(1000);
    limiter.tryAcquire(5000);
    expect(limiter.retryAfterSeconds(2, 300)).toBe(5); // 5000 in flight at 1000/s
    expect(limiter.retryAfterSeconds(2, 3)).toBe(3);
    limiter.release(4990);
    expect(limiter.retryAfterSeconds(2, 300)).toBe(1);
  });

  it("admission - clampSeconds rounds up into [min, max]", () => {
    expect(clampSeconds(0.2, 1, 10)).toBe(1);
    expect(clampSeconds(3.01, 1, 10)).toBe(4);
    expect(clampSeconds(99, 1, 10)).toBe(10);
    expect(clampSeconds(Number.POSITIVE_INFINITY, 1, 10)).toBe(10);
  });
});

describe("stream fill tracker", () => {
  const options = { nearlyFullRatio: 0.9, staleAfterMs: 5000, minRetryAfterSeconds: 2, maxRetryAfterSeconds: 300 };
  const sample = (over: Partial<StreamSample>): StreamSample => ({
    at: 0,
    bytes: 0,
    messages: 0,
    maxBytes: 1_000_000,
    firstSeq: 1,
    lastSeq: 0,
    firstTs: null,
    maxAgeMs: 0,
    ...over,
  });

  it("outage budget - time to fill at the input rate, at most max_age; unknown before a rate", () => {
    const fill = new FillTracker(options);
    fill.update(sample({ at: 0, bytes: 100_000, messages: 100, lastSeq: 100, maxAgeMs: 3_600_000 }));
    expect(fill.outageBudgetSeconds()).toBeNull();
    // 100 messages of 1 kB arrived in a second: 100 kB/s into 800 kB of room → 8 s.
    fill.update(sample({ at: 1000, bytes: 200_000, messages: 200, lastSeq: 200, maxAgeMs: 3_600_000 }));
    expect(fill.state(1000).ingressBytesPerSecond).toBeCloseTo(100_000);
    expect(fill.outageBudgetSeconds()).toBeCloseTo(8);
    // No input: the budget is how long an unsourced event survives, max_age.
    const idle = new FillTracker(options);
    idle.update(sample({ at: 0, bytes: 100_000, messages: 100, lastSeq: 100, maxAgeMs: 3_600_000 }));
    idle.update(sample({ at: 1000, bytes: 100_000, messages: 100, lastSeq: 100, maxAgeMs: 3_600_000 }));
    expect(idle.outageBudgetSeconds()).toBe(3600);
  });

  it("fill - nearly full at the ratio; stale when no reading came for a while", () => {
    const fill = new FillTracker(options);
    expect(fill.state(0)).toMatchObject({ fill: null, fresh: false, nearlyFull: false });
    fill.update(sample({ at: 1000, bytes: 899_999, messages: 1000 }));
    expect(fill.state(1000)).toMatchObject({ fresh: true, nearlyFull: false, full: false });
    fill.update(sample({ at: 2000, bytes: 900_000, messages: 1000 }));
    expect(fill.state(2000)).toMatchObject({ fill: 0.9, nearlyFull: true });
    expect(fill.state(7001).fresh).toBe(false);
  });

  it("fill - full after the stream refused, until a later reading shows headroom again", () => {
    const fill = new FillTracker(options);
    fill.update(sample({ at: 1000, bytes: 999_500, messages: 2000 }));
    fill.markFull(1500);
    // A reading taken before the refusal cannot clear it.
    fill.update(sample({ at: 1400, bytes: 900_000, messages: 1800 }));
    expect(fill.state(1600).full).toBe(true);
    // Headroom is 1% of max_bytes here (10 kB): 5 kB free is not enough, 20 kB is.
    fill.update(sample({ at: 2000, bytes: 995_000, messages: 1990 }));
    expect(fill.state(2000).full).toBe(true);
    fill.update(sample({ at: 3000, bytes: 980_000, messages: 1960 }));
    expect(fill.state(3000).full).toBe(false);
  });

  it("fill - Retry-After from the drain rate: the time to free the headroom", () => {
    const fill = new FillTracker(options);
    // 1000 messages of 1000 bytes; 100 of them age out per second → 100 kB/s.
    fill.update(sample({ at: 0, bytes: 1_000_000, messages: 1000, firstSeq: 1 }));
    fill.update(sample({ at: 1000, bytes: 1_000_000, messages: 1000, firstSeq: 101 }));
    expect(fill.state(1000).drainBytesPerSecond).toBeCloseTo(100_000);
    fill.markFull(1000);
    // Headroom 10 kB, nothing free: 0.1 s at 100 kB/s, so the minimum, 2 s.
    expect(fill.retryAfterSeconds(1000)).toBe(2);
    // A slow drain (10 messages/s, 10 kB/s, smoothed) → longer.
    fill.update(sample({ at: 11_000, bytes: 1_000_000, messages: 1000, firstSeq: 201 }));
    expect(fill.state(11_000).drainBytesPerSecond).toBeLessThan(100_000);
    const slow = new FillTracker(options);
    slow.update(sample({ at: 0, bytes: 1_000_000, messages: 1000, firstSeq: 1 }));
    slow.update(sample({ at: 10_000, bytes: 1_000_000, messages: 1000, firstSeq: 2 })); // 100 B/s
    expect(slow.retryAfterSeconds(10_000)).toBe(100); // 10 kB at 100 B/s
  });

  it("fill - nothing draining: Retry-After is the time until the oldest event ages out, within the bounds", () => {
    const fill = new FillTracker(options);
    fill.update(sample({ at: 10_000, bytes: 1_000_000, messages: 1000, firstTs: 0, maxAgeMs: 60_000 }));
    expect(fill.retryAfterSeconds(10_000)).toBe(50);
    expect(fill.retryAfterSeconds(59_500)).toBe(2);
    const week = new FillTracker(options);
    week.update(sample({ at: 10_000, bytes: 1_000_000, messages: 1000, firstTs: 0, maxAgeMs: 7 * 24 * 3600 * 1000 }));
    expect(week.retryAfterSeconds(10_000)).toBe(300);
  });
});
