import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import { queryApiPlugin, type QueryApiDeps } from "@tributary/query-api";
import type { ErrorCatalogue } from "@tributary/errors";
import { bearerGuard } from "@tributary/runtime";
import {
  hasDeliveryLog,
  isEventQueries,
  isReconcileReader,
  type ReconcileReader,
  type WarehouseReader,
  type WarehouseSink,
} from "@tributary/warehouse";
import type { Loader } from "@tributary/loader";
import { instrumentFastify, traceLogFields, type Telemetry } from "@tributary/telemetry";
import type { AggregatorSettings } from "./config.js";

export interface AggregatorHttpDeps {
  reader: WarehouseReader;
  loader: () => Loader | undefined;
  logger?: FastifyBaseLogger | boolean | { level: string };
  /** Serves /metrics (and traces the /v1 routes) when given. */
  telemetry?: Telemetry;
  /** The operator's reconciliation reads (`tributary reconcile`), when the warehouse offers them. */
  reconcile?: ReconcileReader;
  /** The query API (events, analytics); without it, /v1/events is the plain newest-rows list. */
  api?: QueryApiDeps | undefined;
  /**
   * Bearer token of the operator endpoints (reconciliation reads, the delivery log); without one
   * they answer loopback callers only.
   */
  operatorToken?: string | undefined;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/** Refusals of the aggregator's own endpoints (the query API has its own); README.md's table is generated from it. */
export const AGGREGATOR_API_ERRORS = {
  operator_token_required: {
    status: 403,
    meaning: "Operator endpoints answer loopback callers only while no `operatorToken` is configured.",
    fix: "Configure `operatorToken` and send it as a bearer token, or call from the same host.",
  },
  unauthorized: {
    status: 401,
    meaning: "Missing or wrong operator bearer token.",
    fix: "Send `Authorization: Bearer <operatorToken>`.",
  },
  not_supported: {
    status: 404,
    meaning: "This warehouse keeps no delivery log.",
    fix: "Read delivery attempts where the log is kept (the DuckDB or ClickHouse deployment that loads it).",
  },
} as const satisfies ErrorCatalogue;

function refuse(reply: FastifyReply, code: keyof typeof AGGREGATOR_API_ERRORS, message?: string): FastifyReply {
  const spec = AGGREGATOR_API_ERRORS[code];
  return reply.code(spec.status).send({ error: { code, message: message ?? spec.meaning } });
}

/**
 * Guards the operator endpoints: they read every source's keys and delivery errors, and a busy
 * caller would share the warehouse connection with the loader. The token is checked in constant
 * time (bearerGuard, @tributary/runtime).
 */
function operatorGuard(token: string | undefined): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  if (token === undefined)
    return async (request, reply) => {
      if (LOOPBACK.has(request.socket.remoteAddress ?? "")) return;
      return refuse(reply, "operator_token_required");
    };
  return bearerGuard({
    tokens: [{ token, principal: "operator" }],
    onUnauthorized: (_request, reply) => refuse(reply, "unauthorized"),
  });
}

export const MAX_EVENTS_PAGE = 1000;

/**
 * Health and a small read endpoint. DuckDB allows one writer process, so while it is the warehouse
 * the rows are read through the aggregator that holds the file.
 */
export function buildHttp(deps: AggregatorHttpDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logger ?? false,
    logController: new LogController({ disableRequestLogging: true }),
  });
  if (deps.telemetry) instrumentFastify(app, deps.telemetry);
  registerHealthRoutes(app, deps);
  const operatorOnly = operatorGuard(deps.operatorToken);
  if (deps.reconcile) registerReconcileRoutes(app, deps.reconcile, operatorOnly);
  registerDeliveryLogRoute(app, deps.reader, operatorOnly);
  if (deps.api) {
    void app.register(queryApiPlugin, deps.api);
  } else {
    app.get<{ Querystring: { limit?: number } }>(
      "/v1/events",
      {
        schema: {
          querystring: {
            type: "object",
            properties: { limit: { type: "integer", minimum: 1, maximum: MAX_EVENTS_PAGE, default: 20 } },
            additionalProperties: false,
          },
        },
      },
      async (request) => ({ data: await deps.reader.recentEvents(request.query.limit ?? 20) }),
    );
  }
  return app;
}

/**
 * The aggregator process's HTTP app: the query API where the warehouse answers queries (and
 * `api.enabled`), the reconciliation reads where it offers them, /metrics unless telemetry is off.
 */
export function buildAggregatorHttp(
  settings: AggregatorSettings,
  sink: WarehouseSink & WarehouseReader,
  telemetry: Telemetry,
  loader: () => Loader | undefined,
): FastifyInstance {
  const { config, tokens, operatorToken } = settings;
  const api = config.api;
  return buildHttp({
    reader: sink,
    loader,
    // Log lines written inside a span (a batch's load) carry its trace id.
    logger: { level: config.logLevel, ...(telemetry.tracing ? { mixin: () => traceLogFields() } : {}) },
    api:
      api.enabled && isEventQueries(sink)
        ? { queries: sink, tokens, anonymousLoopback: api.anonymousLoopback, rateLimit: api.rateLimit }
        : undefined,
    operatorToken,
    // OTEL_SDK_DISABLED=true turns telemetry off entirely: no spans, no /metrics.
    ...(telemetry.settings.disabled ? {} : { telemetry }),
    ...(isReconcileReader(sink) ? { reconcile: sink } : {}),
  });
}

/** `/healthz` (the process serves), `/readyz` (the loader runs and inserts succeed) and `/v1/stats`. */
function registerHealthRoutes(app: FastifyInstance, deps: AggregatorHttpDeps): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    const loader = deps.loader();
    const ready = loader !== undefined && loader.healthy;
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready" });
  });
  app.get("/v1/stats", async () => {
    const loader = deps.loader();
    const last = loader?.lastLoad;
    return {
      rows: await deps.reader.countEvents(),
      // How fresh the warehouse is (`tributary status`), from what this process loaded: kept in
      // memory, so polling stats adds no query beside the loader's inserts. Null until a first load.
      newest: last
        ? { received_at: last.newestReceivedAt.toISOString(), loaded_at: last.committedAt.toISOString() }
        : null,
      loader: loader?.counters ?? null,
    };
  });
}

/** The delivery log: attempts to HTTP destinations, newest first (an operator endpoint). */
function registerDeliveryLogRoute(
  app: FastifyInstance,
  reader: WarehouseReader,
  onRequest: ReturnType<typeof operatorGuard>,
): void {
  app.get<{ Querystring: { limit?: number; destination?: string; event_key?: string; outcome?: string } }>(
    "/v1/deliveries",
    {
      onRequest,
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
      if (!hasDeliveryLog(reader)) return refuse(reply, "not_supported");
      const { limit = 20, destination, event_key: eventKey, outcome } = request.query;
      const query = {
        ...(destination ? { destination } : {}),
        ...(eventKey ? { eventKey } : {}),
        ...(outcome ? { outcome } : {}),
      };
      return {
        data: await reader.recentDeliveries(limit, query),
        total: await reader.countDeliveries(query),
      };
    },
  );
}

/** Keys asked about at once by `tributary reconcile`. */
export const MAX_RECONCILE_KEYS = 10_000;

/**
 * Operator reads for `tributary reconcile`: which region sequences the warehouse holds (as ranges),
 * which it holds twice, and which of a set of event keys it has. Served here because DuckDB is one
 * process; like /v1/stats they carry no event contents.
 */
function registerReconcileRoutes(
  app: FastifyInstance,
  reader: ReconcileReader,
  onRequest: ReturnType<typeof operatorGuard>,
): void {
  const region = {
    type: "object",
    properties: { region: { type: "string", pattern: "^[a-z][a-z0-9_-]{0,31}$" } },
    required: ["region"],
  } as const;
  app.get<{ Params: { region: string } }>(
    "/v1/reconcile/:region/ranges",
    { onRequest, schema: { params: region } },
    async (request) => ({
      region: request.params.region,
      ranges: await reader.seqRanges(request.params.region),
    }),
  );
  app.get<{ Params: { region: string }; Querystring: { limit?: number } }>(
    "/v1/reconcile/:region/doubles",
    {
      onRequest,
      schema: {
        params: region,
        querystring: {
          type: "object",
          properties: { limit: { type: "integer", minimum: 1, maximum: 10_000, default: 1000 } },
          additionalProperties: false,
        },
      },
    },
    async (request) => ({
      region: request.params.region,
      doubles: await reader.seqDoubles(request.params.region, request.query.limit ?? 1000),
    }),
  );
  app.post<{ Body: { keys: string[] } }>(
    "/v1/reconcile/keys",
    {
      onRequest,
      // Up to 10,000 keys of up to 512 bytes, JSON-quoted.
      bodyLimit: 8 * 1024 * 1024,
      schema: {
        body: {
          type: "object",
          properties: {
            keys: { type: "array", items: { type: "string", maxLength: 512 }, maxItems: MAX_RECONCILE_KEYS },
          },
          required: ["keys"],
          additionalProperties: false,
        },
      },
    },
    async (request) => ({ present: [...(await reader.existingKeys(request.body.keys))] }),
  );
}
