import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { isLoopback, type TokenRegistry } from "./auth.js";
import { ApiError } from "./errors.js";
import { OPENAPI_PATH } from "./openapi.js";

export const DEFAULT_API_RATE_LIMIT = { max: 600, windowMs: 60_000 };

/**
 * The rate limit: per valid token (a leaked or busy token cannot starve the others); everything
 * else per address, so made-up tokens neither escape the limit nor crowd real tokens out of the
 * limiter's store. Beyond it: 429 rate_limited with Retry-After.
 */
export async function registerRateLimit(
  app: FastifyInstance,
  registry: TokenRegistry,
  limits: { max: number; windowMs: number },
): Promise<void> {
  await app.register(rateLimit, {
    max: limits.max,
    timeWindow: limits.windowMs,
    keyGenerator: (request: FastifyRequest) => {
      const principal = registry.authenticate(request.headers.authorization);
      return principal ? `t:${principal.id}` : `ip:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) =>
      new ApiError("rate_limited", `more than ${context.max} requests in ${context.after}; retry later`),
  });
}

/**
 * The auth hook (onRequest): a known bearer token sets `request.principal`; without a header, a
 * loopback caller reads every source when `anonymousLoopback` is on; anything else is 401. The
 * OpenAPI document is open.
 */
export function authHook(
  registry: TokenRegistry,
  anonymousLoopback: boolean | undefined,
): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    if (request.routeOptions.url === OPENAPI_PATH) return;
    const principal = registry.authenticate(request.headers.authorization);
    if (principal) {
      request.principal = principal;
      return;
    }
    if (request.headers.authorization === undefined && anonymousLoopback && isLoopback(request.socket.remoteAddress)) {
      request.principal = { id: "loopback", sources: undefined };
      return;
    }
    throw new ApiError(
      "unauthorized",
      request.headers.authorization ? "the bearer token is not valid" : "send Authorization: Bearer <token>",
    );
  };
}
