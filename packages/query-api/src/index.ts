export { isLoopback, scopeSources, TokenRegistry } from "./auth.js";
export type { ApiToken, Principal } from "./auth.js";
export { API_ERRORS, ApiError } from "./errors.js";
export type { ApiErrorCode } from "./errors.js";
export { ANALYTICS_VIEWS, DEFAULT_API_RATE_LIMIT, queryApiPlugin, registerQueryApi } from "./plugin.js";
export type { QueryApiDeps } from "./plugin.js";
export { DEFAULT_PAGE, MAX_PAGE } from "./schemas.js";
export { ApiTokenRefSchema, RateLimitSchema, resolveApiTokens } from "./config.js";
export type { ApiTokenRef } from "./config.js";
