/**
 * Default replay window, in seconds: the seeds' receivers and Standard Webhooks both use five
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
export function withinTolerance(
  timestamp: number,
  nowSeconds: number,
  toleranceSeconds: number,
): boolean {
  return Math.abs(nowSeconds - timestamp) <= toleranceSeconds;
}
