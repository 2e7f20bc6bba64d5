import { getHeapStatistics } from "node:v8";
import rateLimit from "@fastify/rate-limit";
import underPressure from "@fastify/under-pressure";
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import { regionalStreamName, type EventMessage, type PublishReceipt } from "@tributary/streams";
import {
  createGatewayMetrics,
  instrumentFastify,
  traceLogFields,
  type RegionStreamState,
  type Telemetry,
} from "@tributary/telemetry";
import { InFlightLimiter } from "./admission.js";
import type { GatewayConfig, ResolvedSource } from "./config.js";
import { DEFAULT_MAX_HEAP_USED_RATIO } from "./config.js";
import { GatewayCounters, UNKNOWN_SOURCE } from "./counters.js";
import { GatewayError, type GatewayErrorCode } from "./errors.js";
import { ingestBatch, ingestEvent, type BatchFormat, type IngestContext } from "./ingest.js";
import type { BufferState, Readiness } from "./publisher.js";
import { instrumentPublish } from "./telemetry.js";

export interface GatewayDeps {
  config: GatewayConfig;
  /** Publishes to the regional stream and resolves on its PubAck. */
  publish: (msg: EventMessage) => Promise<PublishReceipt>;
  /** True while NATS is connected and the regional stream is known. */
  isReady: () => boolean;
  /** Why not ready, and the stream's fill level, for /readyz (the RegionalPublisher's readiness). */
  readiness?: () => Readiness;
  /** The regional stream's fill state: a full stream is refused before publishing. */
  buffer?: BufferState;
  /** Milliseconds since the epoch; tests move the clock. */
  now?: () => number;
  logger?: FastifyBaseLogger | boolean;
  /** Metrics (served at /metrics) and traces; without it the gateway records neither. */
  telemetry?: Telemetry;
  /** The regional stream's last reading, for the stream and outage-budget gauges. */
  streamState?: () => RegionStreamState | undefined;
}

declare module "fastify" {
  interface FastifyRequest {
    tributarySource?: ResolvedSource;
    tributaryBatchFormat?: BatchFormat;
  }
}

// Fastify's own errors that a sender can cause, mapped to our stable codes.
const FASTIFY_CODES: Record<string, GatewayErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "bad_request",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
};

/** Media types a single event may be sent as: JSON and its `+json` family. */
const JSON_TYPE = /^application\/(?:json|[\w.-]+\+json)$/;
/** Media types of a batch: NDJSON (also called JSON Lines), or a JSON array. */
const NDJSON_TYPES = new Set(["application/x-ndjson", "application/jsonl"]);

/** The media type of a Content-Type header, lower-case, without parameters. */
function mediaType(header: string | undefined): string {
  if (header === undefined) return "";
  const semicolon = header.indexOf(";");
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

/** Receipt of one event; compiled once into a serializer by Fastify (fast-json-stringify). */
const EVENT_RECEIPT = {
  type: "object",
  properties: {
    status: { type: "string" },
    event_key: { type: "string" },
    region: { type: "string" },
    stream: { type: "string" },
    seq: { type: "integer" },
  },
  required: ["status", "event_key", "region", "stream", "seq"],
} as const;

const BATCH_RECEIPT = {
  type: "object",
  properties: {
    status: { type: "string" },
    region: { type: "string" },
    stream: { type: "string" },
    accepted: { type: "integer" },
    duplicates: { type: "integer" },
    failed: { type: "integer" },
    items: {
      type: "array",
      items: {
        type: "object",
        properties: {
          status: { type: "string" },
          event_key: { type: "string" },
          seq: { type: "integer" },
          code: { type: "string" },
          message: { type: "string" },
          details: {
            type: "array",
            items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } },
          },
        },
        required: ["status"],
      },
    },
  },
  required: ["status", "region", "stream", "accepted", "duplicates", "failed", "items"],
} as const;

export function buildApp(deps: GatewayDeps): FastifyInstance {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  const counters = new GatewayCounters();
  const maxBody = Math.max(...[...config.sources.values()].map((s) => s.maxBodyBytes));
  const { admission } = config;
  const limiter = new InFlightLimiter({
    maxInFlight: admission.maxInFlightPublishes,
    // Past half the publish timeout, a queued event risks a timed-out (ambiguous) answer.
    maxQueueMs: config.nats.publishTimeoutMs / 2,
  });
  const overloadRetryAfter = () => limiter.retryAfterSeconds(config.retryAfterSeconds, admission.maxRetryAfterSeconds);
  const fullRetryAfter = () => deps.buffer?.retryAfterSeconds() ?? config.retryAfterSeconds;
  const freshFullRetryAfter = async () => {
    const buffer = deps.buffer;
    if (!buffer) return config.retryAfterSeconds;
    return buffer.freshRetryAfterSeconds ? buffer.freshRetryAfterSeconds() : buffer.retryAfterSeconds();
  };
  const stream = regionalStreamName(config.region);
  let publish = deps.publish;
  const { telemetry } = deps;
  if (telemetry) {
    const metrics = createGatewayMetrics(telemetry.meter, config.region, () => ({
      events: counters.events(),
      publishedBytes: counters.publishedBytes,
      inFlight: limiter.inFlight,
      stream: deps.streamState?.(),
    }));
    publish = instrumentPublish(deps.publish, { telemetry, metrics, counters, stream });
  }
  const ctx: IngestContext = {
    region: config.region,
    stream,
    publish,
    now,
    counters,
    limiter,
    overloadRetryAfter,
    fullRetryAfter: freshFullRetryAfter,
    retryAfterSeconds: config.retryAfterSeconds,
  };
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
  // the signature checks out. Which types a route takes is checked in its onRequest hook.
  const keepBuffer = (_req: FastifyRequest, body: Buffer, done: (err: null, body: Buffer) => void) => done(null, body);
  for (const type of ["application/json", /^application\/[\w.-]+\+json$/, [...NDJSON_TYPES]]) {
    app.addContentTypeParser(type, { parseAs: "buffer" }, keepBuffer);
  }

  // A refusal counts against its source only when that source exists (label values stay bounded).
  const sourceLabel = (request: FastifyRequest) => {
    const id = (request.params as { sourceId?: string } | undefined)?.sourceId;
    return id !== undefined && config.sources.has(id) ? id : UNKNOWN_SOURCE;
  };
  const send = (request: FastifyRequest, reply: FastifyReply, err: GatewayError) => {
    counters.refusal(err.code, sourceLabel(request));
    if (err.status === 503) reply.header("retry-after", String(err.retryAfterSeconds ?? config.retryAfterSeconds));
    const error: Record<string, unknown> = { code: err.code, message: err.message };
    if (err.details !== undefined) error.details = err.details;
    return reply.code(err.status).send({ error });
  };

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof GatewayError) return send(request, reply, err);
    const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (mapped) return send(request, reply, new GatewayError(mapped, err.message));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
      return send(request, reply, new GatewayError("bad_request", err.message));
    request.log.error({ err, ...traceLogFields(request.otelContext) }, "unexpected error");
    return send(request, reply, new GatewayError("internal_error", "unexpected error"));
  });

  app.setNotFoundHandler((request, reply) =>
    send(request, reply, new GatewayError("route_not_found", "no such endpoint")),
  );

  // /metrics, and a server span per ingest request (hooks on the root apply to every route).
  if (telemetry) instrumentFastify(app, telemetry, { tracedPrefix: "/v1/sources/" });

  app.addHook("preClose", (done) => {
    closing = true;
    done();
  });
  // While closing, every answer (also the in-flight 202s) tells keep-alive clients to go: the server
  // closes only idle connections when close() starts, and one that finishes a request later would
  // otherwise stay open until its keep-alive timeout and hold the shutdown.
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });

  // Event-loop delay and heap guards, sampled (not measured per request). Only the ingest routes
  // are shed; health, readiness and stats keep answering so operators can see what is going on.
  const maxHeapUsedBytes =
    admission.maxHeapUsedBytes ?? Math.floor(getHeapStatistics().heap_size_limit * DEFAULT_MAX_HEAP_USED_RATIO);
  void app.register(underPressure, {
    maxEventLoopDelay: admission.maxEventLoopDelayMs,
    maxHeapUsedBytes,
    sampleInterval: 500,
    pressureHandler: (request, _reply, type, value) => {
      if (!request.routeOptions.url?.startsWith("/v1/sources/")) return;
      const what =
        type === "heapUsedBytes"
          ? `heap in use is ${Math.round((value ?? 0) / 1024 / 1024)} MiB`
          : `the event loop is ${Math.round(value ?? 0)} ms behind`;
      // A rejected promise goes to the error handler as our own code, with a Retry-After.
      return Promise.reject(
        new GatewayError("overloaded", `the gateway is overloaded: ${what}`, undefined, {
          retryAfterSeconds: config.retryAfterSeconds,
        }),
      );
    },
  });

  // Per-source rate limits, counted in this process's memory (N replicas allow N × max). Sources
  // without a limit, and unknown ones (refused just after), are not counted at all.
  const limitOf = (key: string) => config.sources.get(key)?.rateLimit;
  const anyRateLimit = [...config.sources.values()].some((s) => s.rateLimit !== undefined);
  if (anyRateLimit) {
    void app.register(rateLimit, {
      global: false,
      hook: "onRequest",
      addHeadersOnExceeding: { "x-ratelimit-limit": false, "x-ratelimit-remaining": false, "x-ratelimit-reset": false },
      addHeaders: {
        "x-ratelimit-limit": false,
        "x-ratelimit-remaining": false,
        "x-ratelimit-reset": false,
        "retry-after": true,
      },
    });
  }
  const rateLimitConfig = anyRateLimit
    ? {
        rateLimit: {
          keyGenerator: (request: FastifyRequest) => (request.params as { sourceId: string }).sourceId,
          allowList: (_request: FastifyRequest, key: string) => limitOf(key) === undefined,
          max: (_request: FastifyRequest, key: string) => limitOf(key)?.max ?? Number.MAX_SAFE_INTEGER,
          timeWindow: (_request: FastifyRequest, key: string) => limitOf(key)?.windowMs ?? 1000,
          errorResponseBuilder: (request: FastifyRequest, context: { max: number; after: string }) =>
            new GatewayError(
              "rate_limited",
              `source ${JSON.stringify((request.params as { sourceId: string }).sourceId)} is limited to ${context.max} requests per ${context.after}`,
            ),
        },
      }
    : {};

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    const readiness: Readiness = deps.readiness?.() ?? { ready: deps.isReady(), fill: null };
    const ready = !closing && readiness.ready;
    const body: Record<string, unknown> = { status: ready ? "ready" : "not_ready", region: config.region };
    if (closing) body.reason = "shutting_down";
    else if (readiness.reason !== undefined) body.reason = readiness.reason;
    if (readiness.fill !== null) body.stream_fill = Math.round(readiness.fill * 10_000) / 10_000;
    return reply.code(ready ? 200 : 503).send(body);
  });
  app.get("/v1/stats", async () => ({
    region: config.region,
    ...counters.toJSON(),
    admission: {
      in_flight: limiter.inFlight,
      max_in_flight: limiter.maxInFlight,
      ack_rate: Math.round(limiter.ackRate()),
      refused_at_limit: limiter.refusedFull,
      refused_queue_too_slow: limiter.refusedSlow,
      ...app.memoryUsage(),
    },
    stream: deps.readiness?.() ?? { ready: deps.isReady() },
  }));

  /**
   * Refusals before the body is read, cheapest first: shutting down, unknown source, declared
   * oversize, wrong media type, a stream known to be full, no publish slot free.
   */
  const admit = (request: FastifyRequest<{ Params: { sourceId: string } }>, batch: boolean) => {
    if (closing) throw new GatewayError("shutting_down", "the gateway is shutting down");
    const source = config.sources.get(request.params.sourceId);
    if (!source)
      throw new GatewayError("unknown_source", `source ${JSON.stringify(request.params.sourceId)} is not configured`);
    const declared = Number(request.headers["content-length"] ?? 0);
    const limit = batch ? config.batch.maxBodyBytes : source.maxBodyBytes;
    if (declared > limit) {
      throw batch
        ? new GatewayError("batch_too_large", `the batch is ${declared} bytes; this gateway accepts at most ${limit}`)
        : new GatewayError(
            "payload_too_large",
            `body is ${declared} bytes; source ${source.id} accepts at most ${limit}`,
          );
    }
    const type = mediaType(request.headers["content-type"]);
    if (batch) {
      if (NDJSON_TYPES.has(type)) request.tributaryBatchFormat = "ndjson";
      else if (type === "application/json") request.tributaryBatchFormat = "json-array";
      else
        throw new GatewayError(
          "unsupported_media_type",
          `a batch is sent as application/x-ndjson or application/json, not ${JSON.stringify(type)}`,
        );
    } else if (!JSON_TYPE.test(type)) {
      throw new GatewayError(
        "unsupported_media_type",
        `an event is sent as application/json, not ${JSON.stringify(type)}`,
      );
    }
    if (deps.buffer?.full)
      throw new GatewayError("buffer_full", "the regional stream is full", undefined, {
        retryAfterSeconds: fullRetryAfter(),
      });
    if (limiter.inFlight >= limiter.maxInFlight) {
      throw new GatewayError(
        "overloaded",
        `the gateway is at its limit of ${limiter.maxInFlight} events awaiting the regional stream`,
        undefined,
        {
          retryAfterSeconds: overloadRetryAfter(),
        },
      );
    }
    request.tributarySource = source;
  };

  const admitHook =
    (batch: boolean) =>
    (request: FastifyRequest<{ Params: { sourceId: string } }>, _reply: FastifyReply, done: (err?: Error) => void) => {
      try {
        admit(request, batch);
      } catch (err) {
        done(err as GatewayError);
        return;
      }
      done();
    };

  // Registered after the rate-limit plugin (registration is ordered) so its route options apply.
  void app.register(async (scope) => {
    scope.post<{ Params: { sourceId: string } }>("/v1/sources/:sourceId/events", {
      config: rateLimitConfig,
      bodyLimit: maxBody,
      schema: { response: { 200: EVENT_RECEIPT, 202: EVENT_RECEIPT } },
      onRequest: admitHook(false),
      handler: async (request, reply) => {
        const source = request.tributarySource!;
        const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        // The request's trace context is passed, not made active: the publish span becomes its child
        // without async context propagation on the hot path.
        const result = await ingestEvent(source, request.headers, rawBody, ctx, request.otelContext);
        if (result.status === "accepted") counters.accept(source.id);
        else counters.duplicate(source.id);
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

    scope.post<{ Params: { sourceId: string } }>("/v1/sources/:sourceId/batch", {
      config: rateLimitConfig,
      bodyLimit: config.batch.maxBodyBytes,
      schema: { response: { 200: BATCH_RECEIPT, 202: BATCH_RECEIPT } },
      onRequest: admitHook(true),
      handler: async (request, reply) => {
        const source = request.tributarySource!;
        const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const result = await ingestBatch(
          source,
          request.headers,
          rawBody,
          request.tributaryBatchFormat!,
          config.batch,
          ctx,
          request.otelContext,
        );
        counters.accept(source.id, result.accepted);
        counters.duplicate(source.id, result.duplicates);
        for (const item of result.items) if (item.status === "error") counters.refusal(item.code, source.id);
        reply.header("tributary-region", result.region);
        reply.header("tributary-batch-accepted", String(result.accepted));
        reply.header("tributary-batch-duplicates", String(result.duplicates));
        reply.header("tributary-batch-failed", String(result.failed));
        if (result.retryAfterSeconds !== undefined) reply.header("retry-after", String(result.retryAfterSeconds));
        const { retryAfterSeconds: _omit, ...body } = result;
        return reply.code(result.status === "accepted" ? 202 : 200).send(body);
      },
    });
  });

  return app;
}

export { GATEWAY_ERRORS, GatewayError } from "./errors.js";
export type { GatewayErrorCode } from "./errors.js";
export { loadGatewayConfig, resolveGatewayConfig, GatewayConfigSchema } from "./config.js";
export type { GatewayConfig, GatewayConfigInput, ResolvedSource } from "./config.js";
export { RegionalPublisher } from "./publisher.js";
export type { BufferState, Readiness } from "./publisher.js";
