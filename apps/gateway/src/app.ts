import rateLimit from "@fastify/rate-limit";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import type { EventMessage, PublishReceipt } from "@tributary/streams";
import type { GatewayConfig, ResolvedSource } from "./config.js";
import { GatewayCounters } from "./counters.js";
import { GatewayError, type GatewayErrorCode } from "./errors.js";
import { ingestEvent } from "./ingest.js";

export interface GatewayDeps {
  config: GatewayConfig;
  /** Publishes to the regional stream and resolves on its PubAck. */
  publish: (msg: EventMessage) => Promise<PublishReceipt>;
  /** True while NATS is connected and the regional stream is known. */
  isReady: () => boolean;
  /** Milliseconds since the epoch; tests move the clock. */
  now?: () => number;
  logger?: FastifyBaseLogger | boolean;
}

declare module "fastify" {
  interface FastifyRequest {
    tributarySource?: ResolvedSource;
  }
}


// Fastify's own errors that a sender can cause, mapped to our stable codes.
const FASTIFY_CODES: Record<string, GatewayErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "bad_request",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
};

export function buildApp(deps: GatewayDeps): FastifyInstance {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  const counters = new GatewayCounters();
  const maxBody = Math.max(...[...config.sources.values()].map((s) => s.maxBodyBytes));
  let closing = false;

  const app = Fastify({
    logger: deps.logger ?? { level: config.logLevel },
    // Per-request logs cost throughput; refusals are counted instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: maxBody,
    return503OnClosing: false, // answered below with our own code and Retry-After
  });

  app.removeAllContentTypeParsers();
  // The raw bytes are what was signed: keep them as a Buffer and parse JSON ourselves, once, after
  // the signature checks out.
  for (const type of ["application/json", /^application\/[\w.-]+\+json$/]) {
    app.addContentTypeParser(type, { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  }

  const send = (reply: import("fastify").FastifyReply, err: GatewayError) => {
    counters.refusal(err.code);
    if (err.status === 503) reply.header("retry-after", String(config.retryAfterSeconds));
    const error: Record<string, unknown> = { code: err.code, message: err.message };
    if (err.details !== undefined) error.details = err.details;
    return reply.code(err.status).send({ error });
  };

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof GatewayError) return send(reply, err);
    const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (mapped) return send(reply, new GatewayError(mapped, err.message));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return send(reply, new GatewayError("bad_request", err.message));
    request.log.error({ err }, "unexpected error");
    return send(reply, new GatewayError("internal_error", "unexpected error"));
  });

  app.setNotFoundHandler((_request, reply) => send(reply, new GatewayError("route_not_found", "no such endpoint")));

  app.addHook("preClose", async () => {
    closing = true;
  });
  // While closing, every answer (also the in-flight 202s) tells keep-alive clients to go: the server
  // closes only idle connections when close() starts, and one that finishes a request later would
  // otherwise stay open until its keep-alive timeout and hold the shutdown.
  app.addHook("onSend", async (_request, reply) => {
    if (closing) reply.header("connection", "close");
  });

  // Per-source rate limits, counted in this process's memory (N replicas allow N × max). Sources
  // without a limit, and unknown ones (refused just after), are not counted at all.
  void app.register(rateLimit, {
    global: false,
    hook: "onRequest",
    addHeadersOnExceeding: { "x-ratelimit-limit": false, "x-ratelimit-remaining": false, "x-ratelimit-reset": false },
    addHeaders: { "x-ratelimit-limit": false, "x-ratelimit-remaining": false, "x-ratelimit-reset": false, "retry-after": true },
  });
  const limitOf = (key: string) => config.sources.get(key)?.rateLimit;

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    const ready = !closing && deps.isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready", region: config.region });
  });
  app.get("/v1/stats", async () => ({ region: config.region, ...counters.toJSON() }));

  // Registered after the rate-limit plugin (registration is ordered) so its route options apply.
  void app.register(async (scope) => {
    scope.post<{ Params: { sourceId: string } }>("/v1/sources/:sourceId/events", {
      config: {
        rateLimit: {
          keyGenerator: (request) => (request.params as { sourceId: string }).sourceId,
          allowList: (_request, key) => limitOf(key) === undefined,
          max: (_request, key) => limitOf(key)?.max ?? Number.MAX_SAFE_INTEGER,
          timeWindow: (_request, key) => limitOf(key)?.windowMs ?? 1000,
          errorResponseBuilder: (request, context) =>
            new GatewayError("rate_limited", `source ${JSON.stringify((request.params as { sourceId: string }).sourceId)} is limited to ${context.max} requests per ${context.after}`),
        },
      },
      // Refuse what we can before reading the body: an unknown source or a declared oversize body.
      onRequest: async (request) => {
        if (closing) throw new GatewayError("shutting_down", "the gateway is shutting down");
        const source = config.sources.get(request.params.sourceId);
        if (!source) throw new GatewayError("unknown_source", `source ${JSON.stringify(request.params.sourceId)} is not configured`);
        const declared = Number(request.headers["content-length"] ?? 0);
        if (declared > source.maxBodyBytes) {
          throw new GatewayError("payload_too_large", `body is ${declared} bytes; source ${source.id} accepts at most ${source.maxBodyBytes}`);
        }
        request.tributarySource = source;
      },
      handler: async (request, reply) => {
        const source = request.tributarySource!;
        const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const result = await ingestEvent(source, request.headers, rawBody, { region: config.region, publish: deps.publish, now, counters });
        if (result.status === "accepted") counters.accepted++;
        else counters.duplicates++;
        reply.header("tributary-event-key", result.eventKey);
        reply.header("tributary-region", result.region);
        reply.header("tributary-stream-seq", String(result.seq));
        return reply.code(result.status === "accepted" ? 202 : 200).send({
          status: result.status,
          event_key: result.eventKey,
          region: result.region,
          stream: result.stream,
          seq: result.seq,
        });
      },
    });
  });

  return app;
}

export { GATEWAY_ERRORS, GatewayError } from "./errors.js";
export type { GatewayErrorCode } from "./errors.js";
export { loadGatewayConfig, resolveGatewayConfig, GatewayConfigSchema } from "./config.js";
export type { GatewayConfig, GatewayConfigInput, ResolvedSource } from "./config.js";
