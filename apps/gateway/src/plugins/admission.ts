import { getHeapStatistics } from "node:v8";
import rateLimit from "@fastify/rate-limit";
import underPressure from "@fastify/under-pressure";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { DEFAULT_MAX_HEAP_USED_RATIO, type GatewayConfig, type ResolvedSource } from "../config.js";
import { GatewayError } from "../errors.js";
import { checkSignatureHeaders, type BatchFormat, type VerifiedRequest } from "../ingest.js";
import type { GatewayState } from "./state.js";

declare module "fastify" {
  interface FastifyRequest {
    tributarySource?: ResolvedSource;
    tributaryBatchFormat?: BatchFormat;
    /** Set once the signature checked out (the ingest routes' preHandler). */
    tributaryVerified?: VerifiedRequest;
  }
}

/** Media types a single event may be sent as: JSON and its `+json` family. */
const JSON_TYPE = /^application\/(?:json|[\w.-]+\+json)$/;
/** Media types of a batch: NDJSON (also called JSON Lines), or a JSON array. */
export const NDJSON_TYPES = new Set(["application/x-ndjson", "application/jsonl"]);

/** The media type of a Content-Type header, lower-case, without parameters. */
function mediaType(header: string | undefined): string {
  if (header === undefined) return "";
  const semicolon = header.indexOf(";");
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * While closing, every answer (also the in-flight 202s) tells keep-alive clients to go: the server
 * closes only idle connections when close() starts, and one that finishes a request later would
 * otherwise stay open until its keep-alive timeout and hold the shutdown.
 */
function closingHooks(app: FastifyInstance, lifecycle: GatewayState["lifecycle"]): void {
  app.addHook("preClose", (done) => {
    lifecycle.closing = true;
    done();
  });
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (lifecycle.closing) reply.header("connection", "close");
    done(null, payload);
  });
}

/**
 * Event-loop delay and heap guards, sampled (not measured per request). Only the ingest routes are
 * shed; health, readiness and stats keep answering so operators can see what is going on.
 */
function pressureGuard(app: FastifyInstance, config: GatewayConfig): void {
  const { admission } = config;
  const maxHeapUsedBytes =
    admission.maxHeapUsedBytes ?? Math.floor(getHeapStatistics().heap_size_limit * DEFAULT_MAX_HEAP_USED_RATIO);
  void app.register(underPressure, {
    maxEventLoopDelay: admission.maxEventLoopDelayMs,
    maxHeapUsedBytes,
    sampleInterval: 500,
    pressureHandler: (request, _reply, type, value) => {
      if (!request.routeOptions.url?.startsWith("/v1/sources/")) return;
      const heap = type === "heapUsedBytes";
      const what = heap
        ? `heap in use is ${Math.round((value ?? 0) / 1024 / 1024)} MiB`
        : `the event loop is ${Math.round(value ?? 0)} ms behind`;
      // A rejected promise goes to the error handler as our own code, with a Retry-After.
      return Promise.reject(
        new GatewayError("overloaded", `the gateway is overloaded: ${what}`, {
          details: { limit: heap ? "heap_used" : "event_loop_delay" },
          retryAfterSeconds: config.retryAfterSeconds,
        }),
      );
    },
  });
}

// Sources from the control bucket may gain a limit at any time: the hook is always there with control on.
const anyRateLimit = (config: GatewayConfig) =>
  config.control.enabled || [...config.sources.values()].some((s) => s.rateLimit !== undefined);
const sourceIdOf = (request: FastifyRequest) => (request.params as { sourceId: string }).sourceId;

/**
 * The ingest routes' `config` for per-source rate limits, counted in this process's memory (N
 * replicas allow N × max). Counted in preHandler, after the route's own preHandler has verified
 * the signature: a request that does not verify never spends its source's budget, so nobody can
 * lock a sender out by sending junk in its name (@fastify/rate-limit appends its hook after the
 * route's own). Sources without a limit, and unknown ones (refused before), are not counted.
 */
export function rateLimitRouteConfig(config: GatewayConfig): object {
  if (!anyRateLimit(config)) return {};
  const limitOf = (key: string) => config.sources.get(key)?.rateLimit;
  return {
    rateLimit: {
      hook: "preHandler",
      keyGenerator: sourceIdOf,
      allowList: (_request: FastifyRequest, key: string) => limitOf(key) === undefined,
      max: (_request: FastifyRequest, key: string) => limitOf(key)?.max ?? Number.MAX_SAFE_INTEGER,
      timeWindow: (_request: FastifyRequest, key: string) => limitOf(key)?.windowMs ?? 1000,
      errorResponseBuilder: (request: FastifyRequest, context: { max: number; after: string }) =>
        new GatewayError(
          "rate_limited",
          `source ${JSON.stringify(sourceIdOf(request))} is limited to ${context.max} requests per ${context.after}`,
        ),
    },
  };
}

/**
 * What is let in, and when: shutting down (hooks), the pressure guard, per-source rate limits
 * (registered before the ingest routes, so their route options apply). Not encapsulated.
 */
export const admissionPlugin = fp<GatewayState>(
  (app, { config, lifecycle }, done) => {
    closingHooks(app, lifecycle);
    pressureGuard(app, config);
    if (anyRateLimit(config)) {
      const noCounters = { "x-ratelimit-limit": false, "x-ratelimit-remaining": false, "x-ratelimit-reset": false };
      void app.register(rateLimit, {
        global: false,
        hook: "preHandler",
        addHeadersOnExceeding: noCounters,
        addHeaders: { ...noCounters, "retry-after": true },
      });
    }
    done();
  },
  { name: "tributary-gateway-admission" },
);

/** The largest body a route takes from a source: its event limit, or its batch limit. */
export function bodyLimitOf(source: ResolvedSource, batch: boolean): number {
  return batch ? (source.batch?.maxBodyBytes ?? 0) : source.maxBodyBytes;
}

/** Declared size and media type: 413 or 415 before the body is read; sets the batch's format. */
function checkShape(request: FastifyRequest, source: ResolvedSource, batch: boolean): void {
  const declared = Number(request.headers["content-length"] ?? 0);
  const limit = bodyLimitOf(source, batch);
  if (declared > limit) {
    throw batch
      ? new GatewayError(
          "batch_too_large",
          `the batch is ${declared} bytes; source ${source.id} takes batches of at most ${limit}`,
        )
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
}

/**
 * Refusals before the body is read, cheapest first: shutting down, unknown source, a batch to a
 * source that takes none, declared oversize, wrong media type, signature headers that cannot
 * verify (missing, malformed, stale), a stream known to be full, no publish slot free.
 */
function admit(state: GatewayState, request: FastifyRequest<{ Params: { sourceId: string } }>, batch: boolean): void {
  const { config, limiter } = state;
  if (state.lifecycle.closing) throw new GatewayError("shutting_down", "the gateway is shutting down");
  const source = config.sources.get(request.params.sourceId);
  if (!source)
    throw new GatewayError("unknown_source", `source ${JSON.stringify(request.params.sourceId)} is not configured`);
  if (batch && source.batch === undefined)
    throw new GatewayError("batch_not_enabled", `source ${source.id} does not take batches`);
  checkShape(request, source, batch);
  checkSignatureHeaders(source, request.headers, state.ingest.now());
  const stream = state.stream();
  if (stream?.full)
    throw new GatewayError("buffer_full", "the regional stream is full", {
      retryAfterSeconds: stream.retryAfterSeconds(),
    });
  if (limiter.inFlight >= limiter.maxInFlight) {
    throw new GatewayError(
      "overloaded",
      `the gateway is at its limit of ${limiter.maxInFlight} events awaiting the regional stream`,
      { details: { limit: "publishes_in_flight" }, retryAfterSeconds: state.ingest.overloadRetryAfter() },
    );
  }
  request.tributarySource = source;
}

/** The ingest routes' onRequest hook: `admit`, its refusal passed on to the error handler. */
export const admitHook =
  (state: GatewayState, batch: boolean) =>
  (request: FastifyRequest<{ Params: { sourceId: string } }>, _reply: FastifyReply, done: (err?: Error) => void) => {
    try {
      admit(state, request, batch);
    } catch (err) {
      done(err as GatewayError);
      return;
    }
    done();
  };
