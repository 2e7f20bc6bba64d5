import { defineErrors } from "@tributary/errors";

/** The query API's refusals: one code, one status, one place (docs/errors.md is generated from it). */
export const API_ERRORS = {
  unauthorized: {
    status: 401,
    meaning: "no bearer token, or one the API does not know",
    fix: "send Authorization: Bearer <token>",
  },
  forbidden_source: {
    status: 403,
    meaning: "the token is not scoped to the source asked for",
    fix: "use a token for that source, or ask without source",
  },
  invalid_parameter: {
    status: 400,
    meaning: "a query parameter is unknown, malformed or out of range; `field` names it",
    fix: "correct the named parameter",
  },
  not_found: {
    status: 404,
    meaning: "no event with this key that the token may read (another source's event answers the same)",
    fix: "check the key (source:event_id) and the token's sources",
  },
  rate_limited: {
    status: 429,
    meaning: "too many requests from this token (or address) in the window",
    fix: "wait for Retry-After seconds",
  },
  warehouse_unavailable: { status: 503, meaning: "the warehouse did not answer", fix: "retry later" },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends defineErrors("ApiError", API_ERRORS) {
  declare readonly status: number;
  constructor(code: ApiErrorCode, message: string, field?: string) {
    super(code, message, field === undefined ? undefined : { field });
  }
}

export function errorBody(
  code: ApiErrorCode,
  message: string,
  field?: string,
): { error: { code: ApiErrorCode; message: string; field?: string } } {
  return { error: { code, message, ...(field !== undefined ? { field } : {}) } };
}
