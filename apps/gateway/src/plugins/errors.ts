import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { traceLogFields } from "@tributary/telemetry";
import { UNKNOWN_SOURCE } from "../counters.js";
import { GatewayError, type GatewayErrorCode } from "../errors.js";
import { refusedBeforeBody } from "../http-refusals.js";
import type { GatewayState } from "./state.js";

// Fastify's own errors that a sender can cause, mapped to our stable codes.
const FASTIFY_CODES: Record<string, GatewayErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "bad_request",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
};

/**
 * Every refusal as `{ error: { code, message, details? } }` with its status, a `Retry-After` on a
 * 503, and counted by code against its source: the gateway's own errors, Fastify's that a sender
 * can cause (mapped to our codes), other 4xx as bad_request, unknown routes. Anything else is
 * logged and answered as internal_error. Not encapsulated: it applies to every route.
 */
export const errorsPlugin = fp<GatewayState>(
  (app, { config, counters }, done) => {
    // A refusal counts against its source only when that source exists (label values stay bounded).
    const sourceLabel = (request: FastifyRequest) => {
      const id = (request.params as { sourceId?: string } | undefined)?.sourceId;
      return id !== undefined && config.sources.has(id) ? id : UNKNOWN_SOURCE;
    };
    const send = (request: FastifyRequest, reply: FastifyReply, err: GatewayError) => {
      counters.refusal(err.code, sourceLabel(request));
      refusedBeforeBody(request.raw);
      if (err.status === 503) reply.header("retry-after", String(err.retryAfterSeconds ?? config.retryAfterSeconds));
      const error: Record<string, unknown> = { code: err.code, message: err.message };
      if (err.details !== undefined) error.details = err.details;
      return reply.code(err.status).send({ error });
    };

    app.setErrorHandler((err: FastifyError, request, reply) => {
      if (err instanceof GatewayError) return send(request, reply, err);
      // The connection ended while the body was read: Node's parser or timeouts refused the request
      // (the clientError handler answered and counted it), or the sender went away. No one reads this.
      if (err.code === "ECONNRESET")
        return reply.code(400).send({ error: { code: "bad_request", message: "the connection ended mid-request" } });
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
    done();
  },
  { name: "tributary-gateway-errors" },
);
