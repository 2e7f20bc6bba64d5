/**
 * When to try an event again after its `attempt`-th failure: exponential (initial × 2^(attempt-1),
 * capped) with full jitter (AWS architecture blog, "Exponential Backoff and Jitter"), so a
 * destination coming back is not hit by every held event at once. A `Retry-After` from the
 * destination wins when it is longer, capped by maxRetryAfterMs.
 */
export function retryDelayMs(
  attempt: number,
  policy: { initialDelayMs: number; maxDelayMs: number; maxRetryAfterMs: number },
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  const jittered = Math.max(1, Math.round(ceiling * random()));
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, policy.maxRetryAfterMs));
}

/** `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** What an HTTP answer means for the event. 408 and 429 are the 4xx worth retrying. */
export function classifyStatus(status: number): "delivered" | "retry" | "reject" {
  if (status >= 200 && status < 300) return "delivered";
  if (status === 408 || status === 429 || status >= 500) return "retry";
  return "reject"; // 1xx/3xx (redirects are not followed: the URL is configured) and other 4xx
}
