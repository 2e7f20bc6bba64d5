import type { FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { ingestBatch, ingestEvent } from "../ingest.js";
import { admitHook, NDJSON_TYPES, rateLimitRouteConfig } from "./admission.js";
import type { GatewayState } from "./state.js";

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

type IngestRequest = FastifyRequest<{ Params: { sourceId: string } }>;

const rawBodyOf = (request: FastifyRequest) => (Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));

/** One event: 202 once the stream has it, 200 for a duplicate, with the receipt headers. */
function eventHandler({ counters, ingest }: GatewayState) {
  return async (request: IngestRequest, reply: FastifyReply) => {
    const source = request.tributarySource!;
    // The request's trace context is passed, not made active: the publish span becomes its child
    // without async context propagation on the hot path.
    const result = await ingestEvent(source, request.headers, rawBodyOf(request), ingest, request.otelContext);
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
  };
}

/** A batch: 202 when every item is new in the stream, else 200 with a result per item. */
function batchHandler({ config, counters, ingest }: GatewayState) {
  return async (request: IngestRequest, reply: FastifyReply) => {
    const source = request.tributarySource!;
    const format = request.tributaryBatchFormat!;
    const rawBody = rawBodyOf(request);
    const result = await ingestBatch(
      source,
      request.headers,
      rawBody,
      format,
      config.batch,
      ingest,
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
  };
}

/**
 * `POST /v1/sources/:sourceId/events` and `/batch`. The raw bytes are what was signed: bodies are
 * kept as a Buffer and parsed once, after the signature checks out (which types a route takes is
 * checked by its admission hook). Not encapsulated: no other parser exists on any route.
 */
export const ingestRoutes = fp<GatewayState>(
  (app, state, done) => {
    app.removeAllContentTypeParsers();
    const keepBuffer = (_req: FastifyRequest, body: Buffer, next: (err: null, body: Buffer) => void) =>
      next(null, body);
    for (const type of ["application/json", /^application\/[\w.-]+\+json$/, [...NDJSON_TYPES]]) {
      app.addContentTypeParser(type, { parseAs: "buffer" }, keepBuffer);
    }
    const rateLimit = rateLimitRouteConfig(state.config);
    app.post<{ Params: { sourceId: string } }>("/v1/sources/:sourceId/events", {
      config: rateLimit,
      bodyLimit: state.maxEventBytes,
      schema: { response: { 200: EVENT_RECEIPT, 202: EVENT_RECEIPT } },
      onRequest: admitHook(state, false),
      handler: eventHandler(state),
    });
    app.post<{ Params: { sourceId: string } }>("/v1/sources/:sourceId/batch", {
      config: rateLimit,
      bodyLimit: state.config.batch.maxBodyBytes,
      schema: { response: { 200: BATCH_RECEIPT, 202: BATCH_RECEIPT } },
      onRequest: admitHook(state, true),
      handler: batchHandler(state),
    });
    done();
  },
  { name: "tributary-gateway-ingest" },
);
