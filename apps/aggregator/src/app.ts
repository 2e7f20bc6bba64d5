import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { queryApiPlugin, type QueryApiDeps } from "@tributary/api";
import type { WarehouseReader } from "@tributary/warehouse";
import type { Loader } from "@tributary/loader";

export interface AggregatorHttpDeps {
  reader: WarehouseReader;
  loader: () => Loader | undefined;
  logger?: FastifyBaseLogger | boolean | { level: string };
  /** The query API (events, analytics); without it, /v1/events is the plain newest-rows list. */
  api?: QueryApiDeps | undefined;
}

export const MAX_EVENTS_PAGE = 1000;

/**
 * Health and a small read endpoint. DuckDB allows one writer process, so while it is the warehouse
 * the rows are read through the aggregator that holds the file.
 */
export function buildHttp(deps: AggregatorHttpDeps): FastifyInstance {
  const app = Fastify({ logger: deps.logger ?? false, logController: new LogController({ disableRequestLogging: true }) });
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    const loader = deps.loader();
    const ready = loader !== undefined && loader.healthy;
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready" });
  });
  app.get("/v1/stats", async () => ({
    rows: await deps.reader.countEvents(),
    loader: deps.loader()?.counters ?? null,
  }));
  if (deps.api) {
    void app.register(queryApiPlugin, deps.api);
    return app;
  }
  app.get<{ Querystring: { limit?: number } }>(
    "/v1/events",
    { schema: { querystring: { type: "object", properties: { limit: { type: "integer", minimum: 1, maximum: MAX_EVENTS_PAGE, default: 20 } }, additionalProperties: false } } },
    async (request) => ({ data: await deps.reader.recentEvents(request.query.limit ?? 20) }),
  );
  return app;
}
