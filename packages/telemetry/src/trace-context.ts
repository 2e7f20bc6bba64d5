import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  trace,
  type Context,
  type SpanContext,
  type TextMapGetter,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { IncomingHttpHeaders } from "node:http";

/**
 * W3C Trace Context, used directly rather than through the global propagator: what goes over the
 * wire must not depend on which other library registered globals first (test runners do).
 */
const w3c = new W3CTraceContextPropagator();

/** NATS message headers as both nats.js (`MsgHdrs`) and plain test objects offer them. */
export interface HeaderReader {
  get(name: string): string;
}

const natsGetter: TextMapGetter<HeaderReader> = {
  get: (carrier, key) => carrier.get(key) || undefined,
  // The W3C propagator asks for its two headers by name; it never lists keys.
  keys: () => [],
};

/**
 * The W3C `traceparent` (and `tracestate`) of a span context, as headers to put on a NATS message,
 * or undefined when there is nothing to propagate (tracing off, or no valid span).
 */
export function traceHeadersOf(ctx: Context): Record<string, string> | undefined {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  return carrier.traceparent === undefined ? undefined : carrier;
}

/** The trace context a message carries (its producer span), or the root context when it has none. */
export function traceContextOfMessage(headers: HeaderReader | undefined): Context {
  if (headers === undefined) return ROOT_CONTEXT;
  return w3c.extract(ROOT_CONTEXT, headers, natsGetter);
}

/** The trace context of an HTTP request (the caller's `traceparent`), or the root context. */
export function traceContextOfRequest(headers: IncomingHttpHeaders): Context {
  return w3c.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
}

/** The span context a context holds (invalid ones excluded), for span links. */
export function spanContextOf(ctx: Context): SpanContext | undefined {
  const sc = trace.getSpanContext(ctx);
  return sc !== undefined && trace.isSpanContextValid(sc) ? sc : undefined;
}

/**
 * Fields that tie a log line to its trace (`trace_id`, `span_id`), for pino's `mixin`: the active
 * span's, when there is one.
 */
export function traceLogFields(ctx: Context = context.active()): Record<string, string> {
  const sc = spanContextOf(ctx);
  return sc === undefined
    ? {}
    : { trace_id: sc.traceId, span_id: sc.spanId, trace_flags: `0${sc.traceFlags.toString(16)}` };
}
