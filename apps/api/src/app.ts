import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { queryApiPlugin, type ApiToken } from "@tributary/query-api";
import type { EventQueries, WarehouseSink } from "@tributary/warehouse";

export interface ApiAppDeps {
  /** The warehouse's reads, and its health for /readyz. */
  warehouse: EventQueries & Pick<WarehouseSink, "health">;
  tokens: readonly ApiToken[];
  rateLimit?: { max: number; windowMs: number };
  logger?: FastifyBaseLogger | boolean | { level: string };
}

/** The standalone server's app: the probes beside the query API (its routes, tokens and limits). */
export function buildApiApp(deps: ApiAppDeps): FastifyInstance {
  const app = Fastify({ logger: deps.logger ?? false });
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    try {
      await deps.warehouse.health();
      return { status: "ready" };
    } catch {
      return reply.code(503).send({ status: "not_ready" });
    }
  });
  void app.register(queryApiPlugin, {
    queries: deps.warehouse,
    tokens: deps.tokens,
    ...(deps.rateLimit ? { rateLimit: deps.rateLimit } : {}),
  });
  return app;
}
