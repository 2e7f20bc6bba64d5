import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { bearerGuard, isLoopbackAddress } from "@tributary/runtime";
import type { Principal, TokenRegistry } from "./auth.js";
import { ApiError } from "./errors.js";

export const DEFAULT_API_RATE_LIMIT = { max: 600, windowMs: 60_000 };

/**
 * The rate limit, checked before the token (an onRequest hook registered ahead of the auth hook):
 * per valid token (a leaked or busy token cannot starve the others); everything else per address,
 * so made-up tokens are counted, neither escape the limit nor crowd real tokens out of the
 * limiter's store, and a guesser gets 429 before any token is compared. Beyond it: 429
 * rate_limited with Retry-After.
 *
 * Registered with `global: false` and added as an instance hook on purpose: the plugin's own
 * per-route hooks are appended after the instance's onRequest hooks, so a refused token would
 * never reach them.
 */
export async function registerRateLimit(
  app: FastifyInstance,
  registry: TokenRegistry,
  limits: { max: number; windowMs: number },
): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    max: limits.max,
    timeWindow: limits.windowMs,
    keyGenerator: (request: FastifyRequest) => {
      const principal = registry.match(request.headers.authorization);
      return principal ? `t:${principal.id}` : `ip:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) =>
      new ApiError("rate_limited", `more than ${context.max} requests in ${context.after}; retry later`),
  });
  const limit = app.rateLimit();
  app.addHook("onRequest", async (request, reply) => limit.call(app, request, reply));
}

/**
 * The auth hook (onRequest, after the rate limit): a known bearer token sets `request.principal`;
 * without a header, a caller at exactly 127.0.0.1 or ::1 reads every source when
 * `anonymousLoopback` is on (local development); anything else is 401.
 */
export function authHook(
  registry: TokenRegistry,
  anonymousLoopback: boolean | undefined,
): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  return bearerGuard<Principal>({
    tokens: registry,
    anonymous: (request) =>
      anonymousLoopback && isLoopbackAddress(request.socket.remoteAddress)
        ? { id: "loopback", sources: undefined, scope: "read" as const }
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
}
