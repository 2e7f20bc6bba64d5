import { context, SpanKind, SpanStatusCode, trace, type Context, type Span } from "@opentelemetry/api";
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
import { traceContextOfRequest } from "./trace-context.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The request's server span and its context (tracing on, traced routes only). */
    otelSpan?: Span;
    otelContext?: Context;
  }
}

export interface InstrumentFastifyOptions {
  /** Only requests whose route starts with this get a span (health checks and scrapes would be noise). */
  tracedPrefix?: string;
}

/**
 * Mounts `GET /metrics` (Prometheus text format) and, with tracing on, a server span per request
 * following the HTTP semantic conventions, started from the caller's `traceparent`.
 *
 * Written as two hooks instead of `@opentelemetry/instrumentation-http`: that instrumentation
 * patches `node:http` through a module loader hook (awkward with ESM entry points), and spans for
 * every health probe would be noise. Handlers get the span's context as `request.otelContext`.
 */
export function instrumentFastify(
  app: FastifyInstance,
  telemetry: Telemetry,
  options: InstrumentFastifyOptions = {},
): void {
  app.get("/metrics", (request, reply) => {
    reply.hijack();
    telemetry.handleMetricsRequest(request.raw, reply.raw);
  });
  if (!telemetry.tracing) return;
  const prefix = options.tracedPrefix ?? "/v1/";
  const tracer = telemetry.tracer;

  app.addHook("onRequest", (request: FastifyRequest, _reply, done) => {
    const route = request.routeOptions.url;
    if (route === undefined || !route.startsWith(prefix)) return done();
    const parent = traceContextOfRequest(request.headers);
    const span = tracer.startSpan(
      `${request.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: request.method, [ATTR_HTTP_ROUTE]: route } },
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
