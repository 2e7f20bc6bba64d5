import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { hasDeliveryLog, type WarehouseReader } from "@tributary/warehouse";
import type { Loader } from "@tributary/loader";

export interface AggregatorHttpDeps {
  reader: WarehouseReader;
  loader: () => Loader | undefined;
  logger?: FastifyBaseLogger | boolean | { level: string };
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
  app.get<{ Querystring: { limit?: number } }>(
    "/v1/events",
    { schema: { querystring: { type: "object", properties: { limit: { type: "integer", minimum: 1, maximum: MAX_EVENTS_PAGE, default: 20 } }, additionalProperties: false } } },
    async (request) => ({ data: await deps.reader.recentEvents(request.query.limit ?? 20) }),
  );
  // The delivery log (issue 12): attempts to HTTP destinations, newest first.
  app.get<{ Querystring: { limit?: number; destination?: string; event_key?: string; outcome?: string } }>(
    "/v1/deliveries",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            limit: { type: "integer", minimum: 1, maximum: MAX_EVENTS_PAGE, default: 20 },
            destination: { type: "string", maxLength: 64 },
            event_key: { type: "string", maxLength: 1024 },
            outcome: { type: "string", enum: ["delivered", "retry", "dlq"] },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      if (!hasDeliveryLog(deps.reader)) return reply.code(404).send({ error: { code: "not_supported", message: "this warehouse keeps no delivery log" } });
      const { limit = 20, destination, event_key: eventKey, outcome } = request.query;
      const query = { ...(destination ? { destination } : {}), ...(eventKey ? { eventKey } : {}), ...(outcome ? { outcome } : {}) };
      return { data: await deps.reader.recentDeliveries(limit, query), total: await deps.reader.countDeliveries(query) };
    },
  );
  return app;
}
