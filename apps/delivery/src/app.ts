import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginCallback,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import { replayDeliveryRange, type DestinationConfig } from "@tributary/delivery";
import { DEFAULT_DELIVERY_REPLAY_LIMIT, listDeliveryDlq, replayDeliveryDlq } from "@tributary/streams";
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
import { instrumentFastify, type Telemetry } from "@tributary/telemetry";
import { LagCache } from "./lags.js";
import type { DeliveryService } from "./service.js";

/** What one time-range replay may do before it answers: events read, and time. */
export interface RangeReplayBudget {
  /** Events read from the hub stream at most (each is a message fetched from NATS). */
  maxScan: number;
  /** Time spent at most; the answer comes within it plus one fetch (5 s). */
  timeoutMs: number;
}

/** A call reads 100,000 events or runs 20 s at most, then says where to resume. */
export const DEFAULT_RANGE_REPLAY_BUDGET: Readonly<RangeReplayBudget> = { maxScan: 100_000, timeoutMs: 20_000 };

export interface DeliveryAppDeps {
  service: () => DeliveryService | undefined;
  /** NATS connection state, for readiness. */
  natsConnected: () => boolean;
  /**
   * Bearer token of every route but the probes: /v1/stats, /metrics and the admin API. Without
   * one they answer nobody, unless `adminLoopback` lets token-less loopback callers through.
   */
  adminToken?: string | undefined;
  /** Local development only: token-less callers at exactly 127.0.0.1 or ::1 pass the admin guard. */
  adminLoopback?: boolean | undefined;
  /** Serves /metrics (and traces the /v1 routes) when given. */
  telemetry?: Telemetry | undefined;
  /** Bounds of one time-range replay; default DEFAULT_RANGE_REPLAY_BUDGET. */
  replay?: RangeReplayBudget | undefined;
  /** Server timeouts and connection cap; default HTTP_SERVER_LIMITS (@tributary/runtime). */
  limits?: HttpServerLimits | undefined;
  logger?: FastifyBaseLogger | boolean | { level: string };
}

/** Error codes of this API (stable; README.md's table is generated from it). */
export const DELIVERY_API_ERRORS = {
  unauthorized: {
    status: 401,
    meaning: "Missing or wrong bearer token.",
    fix: "Send `Authorization: Bearer <adminToken>`.",
  },
  admin_token_required: {
    status: 403,
    meaning:
      "No `adminToken` is configured: `/v1/stats`, `/metrics` and the admin API answer nobody (with `adminLoopback` on, token-less callers at 127.0.0.1 or ::1 only).",
    fix: "Configure `adminToken` and send it as a bearer token (`adminLoopback: true` is for local development only).",
  },
  unknown_destination: {
    status: 404,
    meaning: "No destination with this name is configured.",
    fix: "Use a name `GET /v1/stats` lists.",
  },
  invalid_range: { status: 400, meaning: "`from` is not before `to`.", fix: "Give an ISO time range with from < to." },
  replay_in_progress: {
    status: 409,
    meaning: "A time-range replay is running in this process; one runs at a time.",
    fix: "Wait for its answer, then ask again.",
  },
  not_ready: {
    status: 503,
    meaning: "The deliverers are not running yet (streams missing, or still starting).",
    fix: "Retry later; the log says what it waits for.",
  },
} as const satisfies ErrorCatalogue;
type DeliveryApiErrorCode = keyof typeof DELIVERY_API_ERRORS;

function fail(reply: FastifyReply, code: DeliveryApiErrorCode, message?: string) {
  const spec = DELIVERY_API_ERRORS[code];
  return reply.code(spec.status).send({ error: { code, message: message ?? spec.meaning } });
}

const MAX_LIST = 1_000;

/** The routes anyone may call: Kubernetes' probes, which carry nothing but "ok" and "ready". */
export const OPEN_ROUTES = ["/healthz", "/readyz"] as const;

/**
 * The admin guard: the token, checked in constant time (bearerGuard, @tributary/runtime), in
 * onRequest, so an unauthenticated body is never read or validated. Without a token nobody
 * passes, except a token-less loopback caller where `adminLoopback` (local development) says so.
 */
function adminGuard(deps: DeliveryAppDeps): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  const token = deps.adminToken;
  return bearerGuard({
    tokens: token === undefined ? [] : [{ token, principal: "admin" }],
    ...(deps.adminLoopback
      ? { anonymous: (request) => (isLoopbackAddress(request.socket.remoteAddress) ? "loopback" : undefined) }
      : {}),
    onUnauthorized: (_request, reply) => fail(reply, token === undefined ? "admin_token_required" : "unauthorized"),
  });
}

/** `/healthz`, `/readyz` and `/v1/stats` (per destination: counters, breaker, lag in the stream). */
const statusRoutes: FastifyPluginCallback<DeliveryAppDeps> = (app, deps, done) => {
  const lags = new LagCache();
  app.get("/healthz", async () => ({ status: "ok" }));
  // Ready when the deliverers run and NATS is reachable; a failing destination does not make the
  // process unready (its breaker handles it; restarting would not help).
  app.get("/readyz", async (_request, reply) => {
    const ready = deps.service() !== undefined && deps.natsConnected();
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready" });
  });
  app.get("/v1/stats", async (_request, reply) => {
    const service = deps.service();
    // Not an empty list while it waits for its streams: operators' tools must not read "no destinations, all fine".
    if (!service)
      return fail(
        reply,
        "not_ready",
        "the deliverers are not running yet (waiting for the streams to be provisioned, or starting)",
      );
    const lag = await lags.lags(service);
    const destinations: Record<string, unknown> = {};
    for (const [name, { deliverer }] of service.deliverers)
      destinations[name] = { ...deliverer.snapshot(), consumer: lag.get(name) ?? null };
    return { destinations };
  });
  done();
};

/** The service and the named destination, or undefined with the reply sent (503 or 404). */
function destinationOf(
  deps: DeliveryAppDeps,
  name: string,
  reply: FastifyReply,
): { service: DeliveryService; entry: { config: DestinationConfig } } | undefined {
  const service = deps.service();
  if (!service) return void fail(reply, "not_ready");
  const entry = service.deliverers.get(name);
  if (!entry) return void fail(reply, "unknown_destination", `no destination named ${JSON.stringify(name)}`);
  return { service, entry };
}

const nameParams = {
  type: "object",
  properties: { name: { type: "string", pattern: "^[a-z][a-z0-9_-]{0,31}$" } },
  required: ["name"],
} as const;

/** `GET /v1/destinations/:name/dlq`: a page of the destination's DLQ entries. */
function dlqListRoute(app: FastifyInstance, deps: DeliveryAppDeps): void {
  app.get<{ Params: { name: string }; Querystring: { limit: number; from_seq: number } }>(
    "/v1/destinations/:name/dlq",
    {
      schema: {
        params: nameParams,
        querystring: {
          type: "object",
          properties: {
            limit: { type: "integer", minimum: 1, maximum: MAX_LIST, default: 100 },
            from_seq: { type: "integer", minimum: 1, default: 1 },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const found = destinationOf(deps, request.params.name, reply);
      if (!found) return reply;
      const data = await listDeliveryDlq(found.service.jsm, request.params.name, {
        limit: request.query.limit,
        fromSeq: request.query.from_seq,
      });
      return { data, next_seq: data.length === request.query.limit ? data[data.length - 1]!.seq + 1 : null };
    },
  );
}

/** `POST /v1/destinations/:name/dlq/replay`: the DLQ entries go back to the destination. */
function dlqReplayRoute(app: FastifyInstance, deps: DeliveryAppDeps): void {
  app.post<{ Params: { name: string }; Body: { limit?: number } | undefined }>(
    "/v1/destinations/:name/dlq/replay",
    {
      schema: {
        params: nameParams,
        body: {
          type: ["object", "null"],
          properties: { limit: { type: "integer", minimum: 1, maximum: DEFAULT_DELIVERY_REPLAY_LIMIT } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const found = destinationOf(deps, request.params.name, reply);
      if (!found) return reply;
      const result = await replayDeliveryDlq(found.service.js, found.service.jsm, request.params.name, {
        limit: request.body?.limit ?? DEFAULT_DELIVERY_REPLAY_LIMIT,
      });
      return reply.code(202).send({ status: "replaying", ...result });
    },
  );
}

/** A replay's signal: aborted at its time budget, or when the caller hangs up (nobody reads the answer). */
function replaySignal(reply: FastifyReply, timeoutMs: number): AbortSignal {
  const gone = new AbortController();
  // The response closes before it finished only when the connection went away.
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) gone.abort();
  });
  return AbortSignal.any([AbortSignal.timeout(timeoutMs), gone.signal]);
}

/**
 * `POST /v1/destinations/:name/replay`: a time range of the hub stream, delivered to it again.
 * Bounded work inside the request (see README): one at a time per process (each destination has
 * one scan consumer, and every replay is NATS work), at most `maxScan` events read and
 * `timeoutMs` spent; a call cut short says where to resume (`resume_from`). Chosen over a
 * background job: nothing to lose on a restart, no job state to keep, and the CLI already runs a
 * truncated replay again from where it stopped.
 */
function rangeReplayRoute(app: FastifyInstance, deps: DeliveryAppDeps): void {
  const budget = deps.replay ?? DEFAULT_RANGE_REPLAY_BUDGET;
  let running = false;
  app.post<{ Params: { name: string }; Body: { from: string; to: string; limit?: number } }>(
    "/v1/destinations/:name/replay",
    {
      schema: {
        params: nameParams,
        body: {
          type: "object",
          properties: {
            from: { type: "string", format: "date-time" },
            to: { type: "string", format: "date-time" },
            limit: { type: "integer", minimum: 1, maximum: 100_000 },
          },
          required: ["from", "to"],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const found = destinationOf(deps, request.params.name, reply);
      if (!found) return reply;
      const from = new Date(request.body.from);
      const to = new Date(request.body.to);
      if (!(from.getTime() <= to.getTime())) return fail(reply, "invalid_range");
      if (running) return fail(reply, "replay_in_progress");
      running = true;
      try {
        const result = await replayDeliveryRange(found.service.js, found.service.jsm, found.entry.config, {
          from,
          to,
          limit: request.body.limit ?? DEFAULT_DELIVERY_REPLAY_LIMIT,
          maxScan: budget.maxScan,
          signal: replaySignal(reply, budget.timeoutMs),
        });
        return reply.code(202).send({
          status: "replaying",
          replayed: result.replayed,
          scanned: result.scanned,
          truncated: result.truncated,
          // "limit", "scan_budget" or "time_budget" (a deadline, or the caller gone); null when the range was read to its end.
          stopped: result.stopped === undefined ? null : result.stopped === "aborted" ? "time_budget" : result.stopped,
          resume_from: result.resumeFrom?.toISOString() ?? null,
        });
      } finally {
        running = false;
      }
    },
  );
}

/** The admin API: list a destination's DLQ, replay it, replay a time range of the hub stream to it. */
const adminRoutes: FastifyPluginCallback<DeliveryAppDeps> = (app, deps, done) => {
  dlqListRoute(app, deps);
  dlqReplayRoute(app, deps);
  rangeReplayRoute(app, deps);
  done();
};

/**
 * Health, per-destination stats (counters, breaker state, lag in the stream), /metrics and the
 * admin API: list a destination's DLQ, replay it, replay a time range of the hub stream to it.
 * Deny by default: every route but the probes needs the admin token (`guardRoutes`). Everything is
 * registered in one plugin, so each route, /metrics included, goes through the onRoute hooks (the
 * guard's, and a caller's that lists the routes).
 */
export function buildApp(deps: DeliveryAppDeps): FastifyInstance {
  const limits = deps.limits ?? HTTP_SERVER_LIMITS;
  const app = Fastify({
    ...httpServerOptions(limits),
    logger: deps.logger ?? false,
    logController: new LogController({ disableRequestLogging: true }),
  });
  limitConnections(app, limits);
  void app.register(async (routes) => {
    guardRoutes(routes, { guard: adminGuard(deps), open: OPEN_ROUTES });
    if (deps.telemetry) instrumentFastify(routes, deps.telemetry);
    await routes.register(statusRoutes, deps);
    await routes.register(adminRoutes, deps);
  });
  return app;
}
