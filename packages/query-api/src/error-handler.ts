import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { CodedError } from "@tributary/errors";
import { ApiError, errorBody } from "./errors.js";

/** The field a schema error is about: the unknown, missing or invalid parameter. */
function fieldOf(err: FastifyError): string | undefined {
  const first = err.validation?.[0];
  if (!first) return undefined;
  const params = first.params as { missingProperty?: string; additionalProperty?: string };
  return (
    params.additionalProperty ??
    params.missingProperty ??
    (first.instancePath.replace(/^\//, "").replace(/\//g, ".") || undefined)
  );
}

/**
 * Every refusal in one format (`{error: {code, message, field?}}`, see errors.ts): the API's own
 * errors, schema validation (400 naming the parameter), an unreachable warehouse (503 with
 * Retry-After), and anything else as a logged 500 that tells the caller nothing more.
 */
export function queryApiErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof ApiError) {
    if (err.code === "unauthorized") void reply.header("www-authenticate", 'Bearer realm="tributary"');
    return reply.code(err.status).send(errorBody(err.code, err.message, err.field));
  }
  // The management routes' codes (and any other catalogue's) carry their own status.
  if (err instanceof CodedError && err.status !== undefined && err.status < 500)
    return reply.code(err.status).send(errorBody(err.code, err.message, err.field));
  if (err instanceof CodedError && err.status === 503)
    return reply.code(503).header("retry-after", "5").send(errorBody(err.code, err.message));
  if (err.validation) {
    const field = fieldOf(err);
    const message = err.validation[0]?.message ?? "invalid";
    return reply.code(400).send(errorBody("invalid_parameter", field ? `${field} ${message}` : err.message, field));
  }
  if ((err as { code?: string }).code === "warehouse_unavailable")
    return reply
      .code(503)
      .header("retry-after", "5")
      .send(errorBody("warehouse_unavailable", "the warehouse did not answer; retry later"));
  request.log.error({ err }, "query API request failed");
  return reply.code(500).send({ error: { code: "internal", message: "internal error" } });
}
