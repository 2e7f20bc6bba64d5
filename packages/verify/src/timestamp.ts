import { fail, type VerifyFailure } from "./codes.js";

/**
 * Default replay window, in seconds: deep-link receivers and Standard Webhooks both use five
 * minutes either side of the receiver clock.
 */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60; // 5 minutes

/**
 * At most 12 digits: Unix seconds need 10 until the year 2286, and the cap keeps `Number()` exact
 * and cheap. No sign, no fraction, no exponent — milliseconds (13 digits) are refused, which
 * catches the commonest sender bug loudly instead of as a permanent tolerance failure.
 */
const UNIX_SECONDS = /^[0-9]{1,12}$/;

export function parseUnixSeconds(text: string): number | null {
  return UNIX_SECONDS.test(text) ? Number(text) : null;
}

/**
 * True when `timestamp` is within ±tolerance of now, edges included. Written as `<=` so that a
 * NaN tolerance or clock fails closed (refuses) instead of accepting everything.
 */
export function withinTolerance(timestamp: number, nowSeconds: number, toleranceSeconds: number): boolean {
  return Math.abs(nowSeconds - timestamp) <= toleranceSeconds;
}

/**
 * Parses a timestamp as sent and applies the tolerance: the timestamp, or the failure to return.
 * `label` names where it came from in the fixed message (a header name, or `t` for Stripe).
 */
export function checkTimestamp(
  text: string,
  label: string,
  ctx: { nowSeconds: number; toleranceSeconds: number },
): number | VerifyFailure {
  const timestamp = parseUnixSeconds(text);
  if (timestamp === null) return fail("timestamp_invalid", `${label} is not a Unix time in whole seconds.`);
  if (!withinTolerance(timestamp, ctx.nowSeconds, ctx.toleranceSeconds)) return fail("timestamp_out_of_tolerance");
  return timestamp;
}
