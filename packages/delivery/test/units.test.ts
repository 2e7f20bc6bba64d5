import { describe, expect, it } from "vitest";
import { classifyStatus, parseRetryAfter, retryDelayMs, TokenBucket } from "../src/index.js";

const policy = { initialDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 };

describe("backoff - exponential with full jitter", () => {
  it("doubles the ceiling per attempt up to the max", () => {
    expect(retryDelayMs(1, policy, undefined, () => 1)).toBe(100);
    expect(retryDelayMs(3, policy, undefined, () => 1)).toBe(400);
    expect(retryDelayMs(10, policy, undefined, () => 1)).toBe(1_000);
    expect(retryDelayMs(3, policy, undefined, () => 0.5)).toBe(200);
    expect(retryDelayMs(3, policy, undefined, () => 0)).toBe(1);
  });

  it("a longer Retry-After wins, capped", () => {
    expect(retryDelayMs(1, policy, 2_000, () => 1)).toBe(2_000);
    expect(retryDelayMs(1, policy, 60_000, () => 1)).toBe(5_000);
    expect(retryDelayMs(5, policy, 10, () => 1)).toBe(1_000);
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("3")).toBe(3_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it("classifies answers", () => {
    expect(classifyStatus(204)).toBe("delivered");
    for (const s of [408, 429, 500, 502, 503]) expect(classifyStatus(s)).toBe("retry");
    for (const s of [301, 400, 401, 404, 410, 422]) expect(classifyStatus(s)).toBe("reject");
  });
});

describe("rate limit - token bucket", () => {
  it("allows a burst, then one token per 1/rate seconds", () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    expect(bucket.tryTake()).toBe(0);
    expect(bucket.tryTake()).toBe(0);
    expect(bucket.tryTake()).toBe(100);
    now = 50;
    expect(bucket.tryTake()).toBe(50);
    now = 100;
    expect(bucket.tryTake()).toBe(0);
  });
});
