import type { FastifyInstance } from "fastify";
import { registerControlRoutes, type ControlApiDeps } from "@tributary/control-api";
import type { EventQueries, QueriedEvent } from "@tributary/warehouse";
import { TokenRegistry, type ApiToken, type Principal } from "./auth.js";
import { authHook, DEFAULT_API_RATE_LIMIT, registerRateLimit } from "./auth-hook.js";
import { queryApiErrorHandler } from "./error-handler.js";
import { registerOpenApi, registerOpenApiRoute } from "./openapi.js";
import { DEFAULT_MAX_PAGE_BYTES } from "./page.js";
import { registerAnalyticsRoutes } from "./routes/analytics.js";
import { registerDeliveryRoutes, type DeliveryLogReader } from "./routes/deliveries.js";
import { registerEventRoutes } from "./routes/events.js";

export interface QueryApiDeps {
  queries: EventQueries;
  tokens: readonly ApiToken[];
  /**
   * Local development only: requests without a token from exactly 127.0.0.1 or ::1 read every
   * source (the local `tributary rows` and dev loop). Off by default; never where a proxy or a
   * sidecar forwards over loopback (every caller would be "local").
   */
  anonymousLoopback?: boolean;
  /** Requests per window per token (or per address without a valid one). Default 600 per minute. */
  rateLimit?: { max: number; windowMs: number };
  /** Bytes of events (payloads included) one page holds at most. Default DEFAULT_MAX_PAGE_BYTES (8 MiB). */
  maxPageBytes?: number;
  /** The delivery log (the warehouse's attempts table): each event's and subscription's attempts, a subscription's last hour. */
  deliveries?: DeliveryLogReader;
  /** The management routes (sources, subscriptions, audit) over the control bucket; absent: not served. */
  control?: ControlApiDeps;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Who is asking, set by the auth hook (auth-hook.ts). */
    principal?: Principal;
  }
}

/**
 * The query API as an encapsulated Fastify plugin: its own auth, rate limit, error format and
 * OpenAPI document, whatever the host app does. Register it on the aggregator (DuckDB: the
 * process that owns the file) or on a standalone server (ClickHouse).
 */
export async function queryApiPlugin(app: FastifyInstance, deps: QueryApiDeps): Promise<void> {
  const registry = new TokenRegistry(deps.tokens);
  app.setErrorHandler(queryApiErrorHandler);
  // Before the routes: the OpenAPI document collects each route as it is added.
  await registerOpenApi(app);
  // The rate limit first: a refused token is counted before it is refused.
  await registerRateLimit(app, registry, deps.rateLimit ?? DEFAULT_API_RATE_LIMIT);
  app.addHook("onRequest", authHook(registry, deps.anonymousLoopback));
  registerEventRoutes(app, deps.queries, deps.maxPageBytes ?? DEFAULT_MAX_PAGE_BYTES);
  registerAnalyticsRoutes(app, deps.queries);
  if (deps.deliveries) registerDeliveryRoutes(app, deps.queries, deps.deliveries);
  if (deps.control) {
    const log = deps.deliveries;
    registerControlRoutes(app, {
      ...deps.control,
      findEvent: deps.control.findEvent ?? findEventIn(deps.queries),
      newestEvent: deps.control.newestEvent ?? newestEventIn(deps.queries),
      // A subscription's health: its last hour in the delivery log.
      ...(log && !deps.control.deliveryStats
        ? { deliveryStats: (since: Date, destination?: string) => log.deliveryHealth(since, destination) }
        : {}),
    });
  }
  registerOpenApiRoute(app);
}

/** Registers the query API on an app (encapsulated: its hooks and limits stay inside). */
export async function registerQueryApi(app: FastifyInstance, deps: QueryApiDeps): Promise<void> {
  await app.register(queryApiPlugin, deps);
}

type EventLocation = Awaited<ReturnType<NonNullable<ControlApiDeps["findEvent"]>>>;

function locationOf(row: QueriedEvent | undefined): EventLocation {
  return row
    ? { key: row.event_key, source: row.source, type: row.event_type, region: row.region, receivedAt: row.received_at }
    : undefined;
}

/** Where the warehouse says an event is: what a resend by key reads the hub stream with. */
function findEventIn(queries: EventQueries): NonNullable<ControlApiDeps["findEvent"]> {
  return async (key) => locationOf(await queries.getEvent(key));
}

/** The newest event loaded among some sources: what a filter preview runs on unless given a key. */
function newestEventIn(queries: EventQueries): NonNullable<ControlApiDeps["newestEvent"]> {
  return async (sources) => locationOf((await queries.listEvents({ sources }, { limit: 1 })).rows[0]);
}
