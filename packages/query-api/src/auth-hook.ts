import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { bearerGuard } from "@tributary/runtime";
import { isLoopback, type Principal, type TokenRegistry } from "./auth.js";
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
      const principal = registry.match(request.headers.authorization);
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
): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  const guard = bearerGuard<Principal>({
    tokens: registry,
    anonymous: (request) =>
      anonymousLoopback && isLoopback(request.socket.remoteAddress)
        ? { id: "loopback", sources: undefined }
        : undefined,
    onAuthorized: (request, principal) => {
      request.principal = principal;
    },
    onUnauthorized: (_request, _reply, refusal) => {
      throw new ApiError(
        "unauthorized",
        refusal === "missing" ? "send Authorization: Bearer <token>" : "the bearer token is not valid",
      );
    },
  });
  return async (request, reply) => {
    if (request.routeOptions.url === OPENAPI_PATH) return;
    return guard(request, reply);
  };
}
