import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { queryApiPlugin, type ApiToken } from "@tributary/query-api";
import { HTTP_SERVER_LIMITS, httpServerOptions, limitConnections, type HttpServerLimits } from "@tributary/runtime";
import { hasDeliveryLog, type EventQueries, type WarehouseSink } from "@tributary/warehouse";

export interface ApiAppDeps {
  /** The warehouse's reads, and its health for /readyz. */
  warehouse: EventQueries & Pick<WarehouseSink, "health">;
  tokens: readonly ApiToken[];
  rateLimit?: { max: number; windowMs: number };
  logger?: FastifyBaseLogger | boolean | { level: string };
  /** Server timeouts and connection cap; default HTTP_SERVER_LIMITS (@tributary/runtime). */
  limits?: HttpServerLimits;
}

/**
 * The standalone server's app: the probes beside the query API (its routes, tokens and limits),
 * on a server that bounds its clients (a body trickled in is cut off with 408).
 */
export function buildApiApp(deps: ApiAppDeps): FastifyInstance {
  const limits = deps.limits ?? HTTP_SERVER_LIMITS;
  const app = Fastify({ ...httpServerOptions(limits), logger: deps.logger ?? false });
  limitConnections(app, limits);
  // In a plugin, like every app's routes: each passes through the onRoute hooks (a caller's that lists them).
  void app.register(async (routes) => {
    routes.get("/healthz", async () => ({ status: "ok" }));
    routes.get("/readyz", async (_request, reply) => {
      try {
        await deps.warehouse.health();
        return { status: "ready" };
      } catch {
        return reply.code(503).send({ status: "not_ready" });
      }
    });
    await routes.register(queryApiPlugin, {
      queries: deps.warehouse,
      tokens: deps.tokens,
      ...(hasDeliveryLog(deps.warehouse) ? { deliveries: deps.warehouse } : {}),
      ...(deps.rateLimit ? { rateLimit: deps.rateLimit } : {}),
    });
  });
  return app;
}
