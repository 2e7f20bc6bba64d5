/**
 * The one catalogue of verification failures: code → HTTP status and default message. The gateway
 * maps a failed result to its response with `VERIFY_FAILURE_CODES[result.code].status`; the codes
 * are part of the wire contract (`{"error":{"code":…}}`) and never change meaning.
 *
 * Every failure is 401: the request did not prove who sent it. A malformed, oversized or repeated
 * header is reported under the nearest code (signature_mismatch / timestamp_invalid) with a
 * specific message, so the code set stays the small one senders already handle.
 */
export const VERIFY_FAILURE_CODES = {
  signature_missing: { status: 401, message: "The signature header is missing." },
  signature_mismatch: { status: 401, message: "The signature does not match any active secret." },
  timestamp_missing: { status: 401, message: "The timestamp header is missing." },
  timestamp_invalid: {
    status: 401,
    message: "The timestamp header is not a Unix time in whole seconds.",
  },
  timestamp_out_of_tolerance: {
    status: 401,
    message: "The timestamp is outside the allowed tolerance of the receiver clock.",
  },
} as const satisfies Record<string, { status: 401; message: string }>;

export type VerifyFailureCode = keyof typeof VERIFY_FAILURE_CODES;

export function isVerifyFailureCode(value: unknown): value is VerifyFailureCode {
  return typeof value === "string" && Object.hasOwn(VERIFY_FAILURE_CODES, value);
}

/** A failed verification, as `verify` returns it. */
export interface VerifyFailure {
  ok: false;
  code: VerifyFailureCode;
  message: string;
}

/**
 * A failed result. `detail` is a fixed sentence chosen by the scheme (it may name a header, never
 * echo a header's value, so responses cannot reflect attacker input).
 */
export function fail(code: VerifyFailureCode, detail?: string): VerifyFailure {
  return { ok: false, code, message: detail ?? VERIFY_FAILURE_CODES[code].message };
}
