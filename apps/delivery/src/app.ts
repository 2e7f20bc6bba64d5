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
import { bearerGuard } from "@tributary/runtime";
import type { DeliveryService } from "./service.js";

export interface DeliveryAppDeps {
  service: () => DeliveryService | undefined;
  /** NATS connection state, for readiness. */
  natsConnected: () => boolean;
  /** Bearer token of the admin endpoints; undefined leaves them open (bind to loopback then). */
  adminToken?: string | undefined;
  logger?: FastifyBaseLogger | boolean | { level: string };
}

/** Error codes of this API (stable; README.md's table is generated from it). */
export const DELIVERY_API_ERRORS = {
  unauthorized: {
    status: 401,
    meaning: "Missing or wrong bearer token.",
    fix: "Send `Authorization: Bearer <adminToken>`.",
  },
  unknown_destination: {
    status: 404,
    meaning: "No destination with this name is configured.",
    fix: "Use a name `GET /v1/stats` lists.",
  },
  invalid_range: { status: 400, meaning: "`from` is not before `to`.", fix: "Give an ISO time range with from < to." },
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

/** `/healthz`, `/readyz` and `/v1/stats` (per destination: counters, breaker, lag in the stream). */
const statusRoutes: FastifyPluginCallback<DeliveryAppDeps> = (app, deps, done) => {
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
    const destinations: Record<string, unknown> = {};
    for (const [name, { deliverer }] of service.deliverers)
      destinations[name] = { ...deliverer.snapshot(), consumer: await service.lag(name) };
    return { destinations };
  });
  done();
};

/** The admin API's context: bearer-token check and the destination a request names. */
interface AdminScope {
  /** preHandler: 401 without the admin token (when one is configured). */
  admin(request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
  /** The service and the named destination, or undefined with the reply sent (503 or 404). */
  destinationOf(
    name: string,
    reply: FastifyReply,
  ): { service: DeliveryService; entry: { config: DestinationConfig } } | undefined;
}

function adminScope(deps: DeliveryAppDeps): AdminScope {
  // Checked in constant time, whatever the given token's length (bearerGuard, @tributary/runtime).
  const guard = deps.adminToken
    ? bearerGuard({
        tokens: [{ token: deps.adminToken, principal: "admin" }],
        onUnauthorized: (_request, reply) => fail(reply, "unauthorized"),
      })
    : undefined;
  return {
    admin: async (request, reply) => guard?.(request, reply),
    destinationOf: (name, reply) => {
      const service = deps.service();
      if (!service) return void fail(reply, "not_ready");
      const entry = service.deliverers.get(name);
      if (!entry) return void fail(reply, "unknown_destination", `no destination named ${JSON.stringify(name)}`);
      return { service, entry };
    },
  };
}

const nameParams = {
  type: "object",
  properties: { name: { type: "string", pattern: "^[a-z][a-z0-9_-]{0,31}$" } },
  required: ["name"],
} as const;

/** `GET /v1/destinations/:name/dlq`: a page of the destination's DLQ entries. */
function dlqListRoute(app: FastifyInstance, { admin, destinationOf }: AdminScope): void {
  app.get<{ Params: { name: string }; Querystring: { limit: number; from_seq: number } }>(
    "/v1/destinations/:name/dlq",
    {
      preHandler: admin,
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
      const found = destinationOf(request.params.name, reply);
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
function dlqReplayRoute(app: FastifyInstance, { admin, destinationOf }: AdminScope): void {
  app.post<{ Params: { name: string }; Body: { limit?: number } | undefined }>(
    "/v1/destinations/:name/dlq/replay",
    {
      preHandler: admin,
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
      const found = destinationOf(request.params.name, reply);
      if (!found) return reply;
      const result = await replayDeliveryDlq(found.service.js, found.service.jsm, request.params.name, {
        limit: request.body?.limit ?? DEFAULT_DELIVERY_REPLAY_LIMIT,
      });
      return reply.code(202).send({ status: "replaying", ...result });
    },
  );
}

/** `POST /v1/destinations/:name/replay`: a time range of the hub stream, delivered to it again. */
function rangeReplayRoute(app: FastifyInstance, { admin, destinationOf }: AdminScope): void {
  app.post<{ Params: { name: string }; Body: { from: string; to: string; limit?: number } }>(
    "/v1/destinations/:name/replay",
    {
      preHandler: admin,
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
      const found = destinationOf(request.params.name, reply);
      if (!found) return reply;
      const from = new Date(request.body.from);
      const to = new Date(request.body.to);
      if (!(from.getTime() <= to.getTime())) return fail(reply, "invalid_range");
      const result = await replayDeliveryRange(found.service.js, found.service.jsm, found.entry.config, {
        from,
        to,
        limit: request.body.limit ?? DEFAULT_DELIVERY_REPLAY_LIMIT,
      });
      return reply.code(202).send({ status: "replaying", ...result });
    },
  );
}

/** The admin API: list a destination's DLQ, replay it, replay a time range of the hub stream to it. */
const adminRoutes: FastifyPluginCallback<DeliveryAppDeps> = (app, deps, done) => {
  const scope = adminScope(deps);
  dlqListRoute(app, scope);
  dlqReplayRoute(app, scope);
  rangeReplayRoute(app, scope);
  done();
};

/**
 * Health, per-destination stats (counters, breaker state, lag in the stream) and the admin API:
 * list a destination's DLQ, replay it, replay a time range of the hub stream to it.
 */
export function buildApp(deps: DeliveryAppDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logger ?? false,
    logController: new LogController({ disableRequestLogging: true }),
  });
  void app.register(statusRoutes, deps);
  void app.register(adminRoutes, deps);
  return app;
}
