import type { ServerOptions } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** How long a client may take, and how many may be connected: the HTTP APIs' server limits. */
export interface HttpServerLimits {
  /** To send a request's headers (Node's headersTimeout). */
  headersTimeoutMs: number;
  /** To send a whole request, headers and body: a body trickled in is cut off with 408. */
  requestTimeoutMs: number;
  /**
   * A connection with no traffic either way for this long is closed. It must outlast the slowest
   * handler (an answer in the making is silence on the socket).
   */
  connectionTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** How often Node looks for requests past headersTimeoutMs or requestTimeoutMs (its default is 30 s). */
  timeoutCheckIntervalMs: number;
  /** Connections open at once; the server refuses more at accept. */
  maxConnections: number;
}

/**
 * The limits of the aggregator's, the delivery process's and the standalone API's servers: their
 * callers are operators' tools, Prometheus and API clients, so a request that takes 30 s to arrive
 * is an attack or a broken client. Fastify's defaults leave a request's time unbounded
 * (`requestTimeout: 0`), so a client trickling a body would hold its buffer and its connection
 * forever. `maxRequestsPerSocket` stays unset: with idle connections closed after 10 s, a busy
 * keep-alive connection costs nothing more per request, and capping it only forces reconnects.
 */
export const HTTP_SERVER_LIMITS: Readonly<HttpServerLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 120_000,
  keepAliveTimeoutMs: 10_000,
  timeoutCheckIntervalMs: 2_000,
  maxConnections: 512,
});

/**
 * The Fastify options that apply the limits (`maxConnections` is set on the server:
 * `limitConnections`), and refuse what a route's schema does not allow: Fastify's own ajv drops
 * properties a schema closes with `additionalProperties: false` and carries on, so a misspelt
 * field (`{"paused": true, "reson": "…"}`) would be accepted without it. Kept, they fail the
 * schema: 400 naming the field.
 */
export function httpServerOptions(limits: HttpServerLimits = HTTP_SERVER_LIMITS): {
  connectionTimeout: number;
  keepAliveTimeout: number;
  requestTimeout: number;
  http: ServerOptions;
  ajv: { customOptions: { removeAdditional: false } };
} {
  return {
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    http: { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: limits.timeoutCheckIntervalMs },
    ajv: { customOptions: { removeAdditional: false } },
  };
}

/** Caps the connections a Fastify app's server holds at once (Fastify has no option for it). */
export function limitConnections(app: FastifyInstance, limits: HttpServerLimits = HTTP_SERVER_LIMITS): void {
  app.server.maxConnections = limits.maxConnections;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route checks credentials itself (`OWN_AUTH`): `guardRoutes` adds no guard. */
    ownAuth?: boolean;
  }
}

/**
 * Route `config` of a route that checks credentials itself (the query API's scoped tokens):
 * `guardRoutes` leaves it to its own check.
 */
export const OWN_AUTH = Object.freeze({ ownAuth: true as const });

type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * Deny by default: every route registered on `app` from now on (its plugins' too) runs `guard`
 * first (an onRequest hook, so before the body is read), unless its path is in `open` (health
 * probes) or its `config` is `OWN_AUTH`. A route someone adds later is guarded without anyone
 * remembering to. Call it before registering the routes.
 */
export function guardRoutes(app: FastifyInstance, options: { guard: Guard; open: readonly string[] }): void {
  const open = new Set(options.open);
  app.addHook("onRoute", (route) => {
    if (open.has(route.url) || route.config?.ownAuth === true) return;
    const own =
      route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [options.guard, ...own];
  });
}
