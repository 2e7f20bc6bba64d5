import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
} from "@opentelemetry/api";
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from "@opentelemetry/semantic-conventions";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Telemetry } from "./setup.js";
import { spanContextOf, traceContextOfRequest } from "./trace-context.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The request's server span and its context (tracing on, traced routes only). */
    otelSpan?: Span;
    otelContext?: Context;
  }
}

export interface TraceRequestsOptions {
  /** Only requests whose route starts with this get a span (health checks and scrapes would be noise). */
  tracedPrefix?: string;
  /**
   * What a caller's `traceparent`/`tracestate` counts for. `parent` (default): the server span
   * continues the caller's trace, as between Tributary's own processes and their operators.
   * `link`: for an edge anyone on the internet can reach, where the span starts before anything
   * is authenticated: a new trace of our own, linked to the caller's span (without its
   * `tracestate`), so a caller can neither force sampling (a parent-based sampler would follow its
   * sampled flag) nor put its trace ids and state into our messages and downstream requests.
   */
  callerTrace?: "parent" | "link";
}

export type InstrumentFastifyOptions = TraceRequestsOptions;

/** Mounts `GET /metrics` (Prometheus text format) on `app`. */
export function serveMetrics(app: FastifyInstance, telemetry: Telemetry): void {
  app.get("/metrics", (request, reply) => {
    reply.hijack();
    telemetry.handleMetricsRequest(request.raw, reply.raw);
  });
}

/**
 * Mounts `GET /metrics` and traces requests (`traceRequests`): what an app whose one port serves
 * everything needs. An app with a separate operations port calls the two on their own servers.
 */
export function instrumentFastify(
  app: FastifyInstance,
  telemetry: Telemetry,
  options: InstrumentFastifyOptions = {},
): void {
  serveMetrics(app, telemetry);
  traceRequests(app, telemetry, options);
}

/** The caller's span as a link with its trace and span id only: its tracestate is not carried on. */
function callerLink(headers: FastifyRequest["headers"]): Link[] | undefined {
  if (headers.traceparent === undefined) return undefined;
  const caller = spanContextOf(traceContextOfRequest(headers));
  if (caller === undefined) return undefined;
  return [
    { context: { traceId: caller.traceId, spanId: caller.spanId, traceFlags: caller.traceFlags, isRemote: true } },
  ];
}

/**
 * With tracing on, a server span per request following the HTTP semantic conventions, from the
 * caller's `traceparent` as `callerTrace` says.
 *
 * Written as hooks instead of `@opentelemetry/instrumentation-http`: that instrumentation patches
 * `node:http` through a module loader hook (awkward with ESM entry points), and spans for every
 * health probe would be noise. Handlers get the span's context as `request.otelContext`.
 */
export function traceRequests(app: FastifyInstance, telemetry: Telemetry, options: TraceRequestsOptions = {}): void {
  if (!telemetry.tracing) return;
  const prefix = options.tracedPrefix ?? "/v1/";
  const link = options.callerTrace === "link";
  const tracer = telemetry.tracer;

  app.addHook("onRequest", (request: FastifyRequest, _reply, done) => {
    const route = request.routeOptions.url;
    if (route === undefined || !route.startsWith(prefix)) return done();
    const parent = link ? ROOT_CONTEXT : traceContextOfRequest(request.headers);
    const links = link ? callerLink(request.headers) : undefined;
    const span = tracer.startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: { [ATTR_HTTP_REQUEST_METHOD]: request.method, [ATTR_HTTP_ROUTE]: route },
        ...(links ? { links } : {}),
      },
      parent,
    );
    // The rest only for spans that are kept (most are not, under sampling).
    if (span.isRecording()) {
      span.setAttributes({
        [ATTR_URL_PATH]: request.url.split("?")[0],
        [ATTR_URL_SCHEME]: request.protocol,
        [ATTR_NETWORK_PROTOCOL_VERSION]: request.raw.httpVersion,
        [ATTR_CLIENT_ADDRESS]: request.ip,
        ...(request.socket.localPort !== undefined ? { [ATTR_SERVER_PORT]: request.socket.localPort } : {}),
      });
    }
    request.otelSpan = span;
    request.otelContext = trace.setSpan(parent, span);
    // No per-request child logger for the trace id (a pino child per request costs more than both
    // spans together); the few lines logged on the request path add traceLogFields(request.otelContext).
    done();
  });

  app.addHook("onError", (request, _reply, error, done) => {
    request.otelSpan?.recordException(error);
    done();
  });

  app.addHook("onResponse", (request, reply, done) => {
    const span = request.otelSpan;
    if (span === undefined) return done();
    if (!span.isRecording()) {
      span.end();
      return done();
    }
    const status = reply.statusCode;
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    // Server spans are errors for 5xx only: a 4xx is the sender's mistake, answered correctly.
    if (status >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
    done();
  });
}

/** Runs `fn` with `ctx` active (so spans it starts are children, and logs carry the trace id). */
export function withContext<T>(ctx: Context | undefined, fn: () => T): T {
  return ctx === undefined ? fn() : context.with(ctx, fn);
}
