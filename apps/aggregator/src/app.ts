import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import { extname } from "node:path";
import fastifyStatic from "@fastify/static";
import { consoleAssetsDir } from "@tributary/console";
import type { ControlConnection, ErasureBackend } from "@tributary/control-api";
import { EnrichError, type Enricher } from "@tributary/enrich";
import { queryApiPlugin, registerRebuildRoute, type QueryApiDeps } from "@tributary/query-api";
import type { ErrorCatalogue } from "@tributary/errors";
import {
  bearerGuard,
  guardRoutes,
  HTTP_SERVER_LIMITS,
  httpServerOptions,
  isLoopbackAddress,
  limitConnections,
  type HttpServerLimits,
} from "@tributary/runtime";
import {
  hasDeliveryLog,
  isLifecycleStore,
  type LifecycleStore,
  isEventQueries,
  isReconcileReader,
  isRollupRebuilder,
  type ReconcileReader,
  type RollupRebuilder,
  type WarehouseReader,
  type WarehouseSink,
} from "@tributary/warehouse";
import type { Loader } from "@tributary/loader";
import { instrumentFastify, traceLogFields, type Telemetry } from "@tributary/telemetry";
import type { AggregatorSettings } from "./config.js";
import type { SweepReport } from "./retention.js";

export interface AggregatorHttpDeps {
  reader: WarehouseReader;
  loader: () => Loader | undefined;
  logger?: FastifyBaseLogger | boolean | { level: string };
  /** Serves /metrics (and traces the /v1 routes) when given. */
  telemetry?: Telemetry;
  /** The operator's reconciliation reads (`tributary reconcile`), when the warehouse offers them. */
  reconcile?: ReconcileReader;
  /** Rebuilds the stored rollups from the rows (`tributary rebuild rollups`), when the warehouse offers it. */
  rollups?: RollupRebuilder;
  /** Each table's rows, oldest row and retention, and the last retention pass (`tributary status`). */
  lifecycle?: { store: LifecycleStore; lastSweep: () => SweepReport | undefined };
  /** The query API (events, analytics) with its own scoped tokens; without it no route serves events. */
  api?: QueryApiDeps | undefined;
  /**
   * Bearer token of every route that is neither a probe nor the query API's: the operator
   * endpoints (reconciliation reads, the delivery log), /v1/stats and /metrics. Without one they
   * answer nobody, unless `operatorLoopback` lets token-less loopback callers through.
   */
  operatorToken?: string | undefined;
  /** Local development only: token-less callers at exactly 127.0.0.1 or ::1 pass the operator guard. */
  operatorLoopback?: boolean | undefined;
  /** Server timeouts and connection cap; default HTTP_SERVER_LIMITS (@tributary/runtime). */
  limits?: HttpServerLimits | undefined;
  /**
   * The web console's built files (@tributary/console), served at /console/ beside the query API
   * they call; served only with `api`. Default: the console package's.
   */
  consoleDir?: string | undefined;
}

/** Refusals of the aggregator's own endpoints (the query API has its own); README.md's table is generated from it. */
export const AGGREGATOR_API_ERRORS = {
  operator_token_required: {
    status: 403,
    meaning:
      "No `operatorToken` is configured: the operator endpoints, `/v1/stats` and `/metrics` answer nobody (with `operatorLoopback` on, token-less callers at 127.0.0.1 or ::1 only).",
    fix: "Configure `operatorToken` and send it as a bearer token (`operatorLoopback: true` is for local development only).",
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

type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * Guards everything but the probes and the query API: the operator endpoints read every source's
 * keys and delivery errors, stats and metrics map the deployment, and a busy caller would share
 * the warehouse connection with the loader. The token is checked in constant time (bearerGuard,
 * @tributary/runtime). Without a token nobody passes, except a token-less loopback caller where
 * `operatorLoopback` (local development) says so: never by default, since a proxy or a
 * port-forward in the pod makes every caller loopback.
 */
function operatorGuard(token: string | undefined, loopback: boolean | undefined): Guard {
  return bearerGuard({
    tokens: token === undefined ? [] : [{ token, principal: "operator" }],
    ...(loopback
      ? { anonymous: (request) => (isLoopbackAddress(request.socket.remoteAddress) ? "loopback" : undefined) }
      : {}),
    onUnauthorized: (_request, reply) =>
      refuse(reply, token === undefined ? "operator_token_required" : "unauthorized"),
  });
}

export const MAX_EVENTS_PAGE = 1000;

/** Where the web console is served: its static files (and index.html for every other path below). */
export const CONSOLE_ROUTES = ["/console", "/console/", "/console/*"] as const;

/**
 * The routes anyone may call: Kubernetes' probes, which carry nothing but "ok" and "ready", and
 * the web console's static files, which carry no data (the page asks the API with the user's token).
 */
export const OPEN_ROUTES = ["/healthz", "/readyz", ...CONSOLE_ROUTES] as const;

/**
 * Health, stats, the operator reads and (given `api`) the query API. DuckDB allows one writer
 * process, so while it is the warehouse the rows are read through the aggregator that holds the
 * file. Deny by default: every route but the probes needs the operator token, except the query
 * API's, which check their own scoped tokens. Everything is registered in one plugin, so each
 * route, /metrics included, goes through the onRoute hooks (the guard's, and a caller's that
 * lists the routes).
 */
export function buildHttp(deps: AggregatorHttpDeps): FastifyInstance {
  const limits = deps.limits ?? HTTP_SERVER_LIMITS;
  const app = Fastify({
    ...httpServerOptions(limits),
    logger: deps.logger ?? false,
    logController: new LogController({ disableRequestLogging: true }),
  });
  limitConnections(app, limits);
  void app.register(async (routes) => {
    guardRoutes(routes, { guard: operatorGuard(deps.operatorToken, deps.operatorLoopback), open: OPEN_ROUTES });
    // Hooks in this plugin apply to every route (the query API's too): /metrics and the spans.
    if (deps.telemetry) instrumentFastify(routes, deps.telemetry);
    registerHealthRoutes(routes, deps);
    if (deps.reconcile) registerReconcileRoutes(routes, deps.reconcile, deps.lifecycle?.store);
    if (deps.rollups) registerRebuildRoute(routes, deps.rollups);
    if (deps.lifecycle) registerLifecycleRoute(routes, deps.lifecycle);
    registerDeliveryLogRoute(routes, deps.reader);
    if (deps.api) {
      await routes.register(queryApiPlugin, deps.api);
      await registerConsoleRoutes(routes, deps.consoleDir ?? consoleAssetsDir);
    }
  });
  return app;
}

/**
 * The web console: `/console/<file>` from its built files (hashed names under assets/ cached for
 * a year), index.html for every other path below /console/, so a route reloaded or shared opens
 * the console. A strict content security policy keeps the page to its own scripts and to this
 * origin's API, where the bearer token it holds goes.
 */
async function registerConsoleRoutes(app: FastifyInstance, root: string): Promise<void> {
  await app.register(fastifyStatic, { root, serve: false });
  const headers = {
    "content-security-policy":
      "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
  const page = (reply: FastifyReply) =>
    reply.headers(headers).header("cache-control", "no-cache").sendFile("index.html", { cacheControl: false });
  app.get("/console", async (_request, reply) => reply.redirect("/console/"));
  app.get("/console/", async (_request, reply) => page(reply));
  app.get<{ Params: { "*": string } }>("/console/*", async (request, reply) => {
    const path = request.params["*"];
    if (extname(path) === "") return page(reply);
    void reply.headers(headers);
    return path.startsWith("assets/")
      ? reply.sendFile(path, { maxAge: 365 * 24 * 3600 * 1000, immutable: true })
      : reply.header("cache-control", "no-cache").sendFile(path, { cacheControl: false });
  });
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
  control?: { readonly connection: ControlConnection | undefined },
  retention?: { readonly last: SweepReport | undefined },
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
        ? {
            queries: sink,
            tokens,
            ...(hasDeliveryLog(sink) ? { deliveries: sink } : {}),
            anonymousLoopback: api.anonymousLoopback,
            rateLimit: api.rateLimit,
            ...(settings.control && control
              ? {
                  control: {
                    connection: () => control.connection,
                    keys: settings.control.keys,
                    allowPrivate: config.control.allowPrivate,
                    ...(config.control.prometheusUrl ? { prometheusUrl: config.control.prometheusUrl } : {}),
                    ...(isLifecycleStore(sink) ? { erasure: erasureBackend(sink, settings.enricher) } : {}),
                  },
                }
              : {}),
          }
        : undefined,
    operatorToken,
    operatorLoopback: config.operatorLoopback,
    // OTEL_SDK_DISABLED=true turns telemetry off entirely: no spans, no /metrics.
    ...(telemetry.settings.disabled ? {} : { telemetry }),
    ...(isReconcileReader(sink) ? { reconcile: sink } : {}),
    ...(isRollupRebuilder(sink) ? { rollups: sink } : {}),
    ...(isLifecycleStore(sink) ? { lifecycle: { store: sink, lastSweep: () => retention?.last } } : {}),
  });
}

/** Erasure's warehouse side: the sink's rows, and a visitor's hashes from the enrich stage's key. */
function erasureBackend(sink: LifecycleStore, enricher: Enricher | undefined): ErasureBackend {
  return {
    findRows: (selector) => sink.erasureTargets(selector),
    eraseRows: (selector, at) => sink.eraseEvents(selector, at),
    retainedSince: (now) => sink.eventsRetainedSince(now),
    visitorHashes: (ip, userAgent, from, to) => {
      if (!enricher) throw new EnrichError("visitor_hash_unavailable", "enrichment is off: rows carry no visitor hash");
      return enricher.visitorHashes(ip, userAgent, from, to);
    },
  };
}

/**
 * `GET /v1/lifecycle` (operator): each table's rows, oldest row and retention, and the last
 * retention pass. `tributary status` shows it.
 */
function registerLifecycleRoute(
  app: FastifyInstance,
  lifecycle: { store: LifecycleStore; lastSweep: () => SweepReport | undefined },
): void {
  app.get("/v1/lifecycle", async () => ({
    tables: await lifecycle.store.lifecycle(),
    lastSweep: lifecycle.lastSweep() ?? null,
  }));
}

/** `/healthz` (the process serves), `/readyz` (the loader runs and inserts succeed), and `/v1/stats` (operator). */
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
function registerDeliveryLogRoute(app: FastifyInstance, reader: WarehouseReader): void {
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
 * process; no event contents, but every source's keys: the operator's (deny by default).
 */
function registerReconcileRoutes(
  app: FastifyInstance,
  reader: ReconcileReader,
  lifecycle: LifecycleStore | undefined,
): void {
  const region = {
    type: "object",
    properties: { region: { type: "string", pattern: "^[a-z][a-z0-9_-]{0,31}$" } },
    required: ["region"],
  } as const;
  app.get<{ Params: { region: string } }>(
    "/v1/reconcile/:region/ranges",
    { schema: { params: region } },
    async (request) => ({
      region: request.params.region,
      ranges: await reader.seqRanges(request.params.region),
      // Rows erased in place still cover their sequence; reconciliation reports them as erased.
      erased: lifecycle ? await lifecycle.erasedRows(request.params.region) : 0,
      // Events received before this are past retention: their rows are gone by design, not lost.
      retainedSince: lifecycle?.eventsRetainedSince(new Date())?.toISOString() ?? null,
    }),
  );
  app.get<{ Params: { region: string }; Querystring: { limit?: number } }>(
    "/v1/reconcile/:region/doubles",
    {
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
