import { Transform, type Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { GatewayError } from "../errors.js";
import { ingestBatch, ingestEvent, verifyRequest } from "../ingest.js";
import { admitHook, bodyLimitOf, NDJSON_TYPES, rateLimitRouteConfig } from "./admission.js";
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

const tooLarge = (request: FastifyRequest, batch: boolean, limit: number) =>
  batch
    ? new GatewayError(
        "batch_too_large",
        `source ${request.tributarySource!.id} takes batches of at most ${limit} bytes`,
      )
    : new GatewayError("payload_too_large", `source ${request.tributarySource!.id} accepts at most ${limit} bytes`);

/**
 * A body without a Content-Length (chunked) is cut off as it passes its source's own limit.
 * Fastify's bodyLimit is per route, and these routes serve every source, so it can only be the
 * largest of them; a declared Content-Length was checked against the source at admission. Hand
 * written (a counting Transform) since no Fastify plugin limits a body by a per-request value.
 */
function sourceBodyLimit(batch: boolean) {
  return (
    request: FastifyRequest,
    _reply: FastifyReply,
    payload: Readable,
    done: (err: null, stream: Readable) => void,
  ) => {
    if (request.headers["content-length"] !== undefined || request.tributarySource === undefined) {
      done(null, payload);
      return;
    }
    const limit = bodyLimitOf(request.tributarySource, batch);
    let received = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received > limit) callback(tooLarge(request, batch, limit));
        else callback(null, chunk);
      },
    });
    payload.on("error", (err) => counted.destroy(err));
    done(null, payload.pipe(counted));
  };
}

/**
 * The signature over the raw bytes, before any JSON parse; a preHandler, so the per-source rate
 * limit (appended after it) counts verified requests only.
 */
function verifyHook({ ingest }: GatewayState, batch: boolean) {
  return async (request: IngestRequest) => {
    const source = request.tributarySource!;
    request.tributaryVerified = verifyRequest(
      source,
      request.headers,
      rawBodyOf(request),
      { bytes: bodyLimitOf(source, batch), code: batch ? "batch_too_large" : "payload_too_large" },
      ingest,
    );
  };
}

/** One event: 202 once the stream has it, 200 for a duplicate, with the receipt headers. */
function eventHandler({ counters, ingest }: GatewayState) {
  return async (request: IngestRequest, reply: FastifyReply) => {
    const source = request.tributarySource!;
    // The request's trace context is passed, not made active: the publish span becomes its child
    // without async context propagation on the hot path.
    const result = await ingestEvent(
      source,
      request.tributaryVerified!,
      request.headers,
      rawBodyOf(request),
      ingest,
      request.otelContext,
    );
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
function batchHandler({ counters, ingest }: GatewayState) {
  return async (request: IngestRequest, reply: FastifyReply) => {
    const source = request.tributarySource!;
    const format = request.tributaryBatchFormat!;
    const result = await ingestBatch(
      source,
      request.tributaryVerified!,
      rawBodyOf(request),
      format,
      source.batch!, // admission refuses a batch to a source without batch settings
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
 * checked by its admission hook). Each route: onRequest admission (before the body is read),
 * preParsing the source's body limit, preHandler the signature (then the rate limit), handler the
 * rest. Not encapsulated: no other parser exists on any route.
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
      preParsing: sourceBodyLimit(false),
      preHandler: verifyHook(state, false),
      handler: eventHandler(state),
    });
    app.post<{ Params: { sourceId: string } }>("/v1/sources/:sourceId/batch", {
      config: rateLimit,
      bodyLimit: state.maxBatchBytes,
      schema: { response: { 200: BATCH_RECEIPT, 202: BATCH_RECEIPT } },
      onRequest: admitHook(state, true),
      preParsing: sourceBodyLimit(true),
      preHandler: verifyHook(state, true),
      handler: batchHandler(state),
    });
    done();
  },
  { name: "tributary-gateway-ingest" },
);
