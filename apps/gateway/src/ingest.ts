import type { IncomingHttpHeaders } from "node:http";
import type { Context } from "@opentelemetry/api";
import { deriveEventKey, readBodyField } from "@tributary/dedupe";
import { createEventValidator, parseEventBody } from "@tributary/schema";
import { eventSubject, isPublishError, type EventMessage, type PublishReceipt } from "@tributary/streams";
import type { VerifyResult } from "@tributary/verify";
import type { InFlightLimiter } from "./admission.js";
import { splitJsonArray, splitNdjson } from "./batch.js";
import type { BatchLimits, ResolvedSource } from "./config.js";
import type { GatewayCounters } from "./counters.js";
import { GatewayError, type GatewayErrorCode } from "./errors.js";

export interface IngestContext {
  region: string;
  /** The regional stream's name, for receipts. */
  stream: string;
  /** `trace`: the request's span context, parent of the publish span (tracing on). */
  publish: (msg: EventMessage, trace?: Context) => Promise<PublishReceipt>;
  /** Milliseconds since the epoch. */
  now: () => number;
  counters: GatewayCounters;
  /** Bounds the events awaiting their PubAck in this process. */
  limiter: InFlightLimiter;
  /** Retry-After for `overloaded`, from the events in flight and the ack rate. */
  overloadRetryAfter: () => number;
  /** Retry-After for `buffer_full`, from a fresh reading of the stream's fill level and drain rate. */
  fullRetryAfter: () => Promise<number>;
  /** Retry-After for other 503s (buffer_unavailable). */
  retryAfterSeconds: number;
}

export interface IngestResult {
  status: "accepted" | "duplicate";
  eventKey: string;
  region: string;
  stream: string;
  seq: number;
}

// Schemas are compiled once per process, never per request.
const validator = createEventValidator();

/** A request whose signature checked out: what verified it, and when it was received. */
export type VerifiedRequest = Extract<VerifyResult, { ok: true }> & { receivedAtMs: number };

/**
 * The scheme's header checks alone (presence, format, timestamp tolerance): run before the body
 * is read, so a request that cannot verify costs no buffering and no HMAC.
 */
export function checkSignatureHeaders(source: ResolvedSource, headers: IncomingHttpHeaders, nowMs: number): void {
  const failure = source.scheme.checkHeaders(headers, {
    toleranceSeconds: source.toleranceSeconds,
    nowSeconds: Math.floor(nowMs / 1000),
  });
  if (failure !== null) throw new GatewayError(failure.code, failure.message);
}

/**
 * Size, then signature and timestamp over the raw bytes, before any JSON parse (unsigned garbage
 * costs one HMAC per secret). `limit` is the route's: the source's maxBodyBytes for one event, its
 * batch.maxBodyBytes for a batch (the body was cut off at it while it streamed in).
 */
export function verifyRequest(
  source: ResolvedSource,
  headers: IncomingHttpHeaders,
  rawBody: Buffer,
  limit: { bytes: number; code: "payload_too_large" | "batch_too_large" },
  ctx: IngestContext,
): VerifiedRequest {
  if (rawBody.length > limit.bytes)
    throw new GatewayError(
      limit.code,
      `the body is ${rawBody.length} bytes; source ${source.id} accepts at most ${limit.bytes} here`,
    );
  const receivedAtMs = ctx.now();
  const verified = source.scheme.verify(
    { headers, rawBody },
    {
      secrets: source.secrets,
      toleranceSeconds: source.toleranceSeconds,
      nowSeconds: Math.floor(receivedAtMs / 1000),
    },
  );
  if (!verified.ok) throw new GatewayError(verified.code, verified.message);
  ctx.counters.secretUsed(source.id, verified.secretId);
  return { ...verified, receivedAtMs };
}

/**
 * The event type a header names (GitHub's `X-GitHub-Event: push`, Shopify's
 * `X-Shopify-Topic: orders/create` → `orders.create`, since types become subject tokens).
 */
function headerEventType(source: ResolvedSource, headers: IncomingHttpHeaders | undefined): string | undefined {
  if (!source.eventTypeHeader || !headers) return undefined;
  const value = headers[source.eventTypeHeader];
  return typeof value === "string" && value.length <= 100 ? value.trim().replace(/\//g, ".") : undefined;
}

/** One event's bytes → the message to publish: one JSON parse, validation, key. */
function prepare(
  source: ResolvedSource,
  rawBody: Buffer,
  verified: { deliveryId: string | null; secretId: string },
  receivedAt: Date,
  ctx: IngestContext,
  headers?: IncomingHttpHeaders,
): EventMessage {
  const parsed = parseEventBody(rawBody);
  if (!parsed.ok) throw new GatewayError(parsed.code, parsed.message);
  const validated = validator.validate(parsed.value, {
    strict: source.strict,
    eventType: headerEventType(source, headers),
  });
  if (!validated.ok) throw new GatewayError("schema_violation", validated.message, { details: validated.errors });
  const event = validated.event;
  if (!event.known) ctx.counters.unknownEventType(source.id);
  const { eventKey } = deriveEventKey({
    source: source.id,
    // Signed ids only (the scheme never reads an unsigned one): a replay keeps its key, whatever
    // unsigned header it changes, the event type header included (it never enters the key).
    signedDeliveryId: verified.deliveryId,
    bodyEventId: source.idField ? readBodyField(parsed.value, source.idField) : null,
    rawBody,
  });
  return {
    subject: eventSubject(ctx.region, source.id, event.eventType),
    body: rawBody,
    eventKey,
    source: source.id,
    region: ctx.region,
    eventType: event.eventType,
    receivedAt,
    secretId: verified.secretId,
  };
}

function overloaded(ctx: IngestContext, what: string): GatewayError {
  return new GatewayError(
    "overloaded",
    `${what}: ${ctx.limiter.inFlight} events are awaiting the regional stream's acknowledgement in this process`,
    { details: { limit: "publishes_in_flight" }, retryAfterSeconds: ctx.overloadRetryAfter() },
  );
}

/** A PublishError (or anything else the publish threw) as the gateway's error. */
async function publishFailure(err: unknown, ctx: IngestContext): Promise<GatewayError> {
  if (isPublishError(err)) {
    if (err.code === "buffer_full")
      return new GatewayError("buffer_full", err.message, {
        cause: err,
        retryAfterSeconds: await ctx.fullRetryAfter(),
      });
    // Never storable, so never "retry later": the sender would retry it for days.
    if (err.code === "message_too_large") return new GatewayError("payload_too_large", err.message, { cause: err });
    return new GatewayError("buffer_unavailable", err.message, { cause: err });
  }
  if (err instanceof GatewayError) return err;
  return new GatewayError("internal_error", "unexpected error while publishing", { cause: err });
}

/**
 * One verified event (verifyRequest) through the rest of the edge: JSON, schema, key, admission,
 * then the durable publish. Resolves only after the regional stream's PubAck; every refusal is a
 * GatewayError with a code.
 */
export async function ingestEvent(
  source: ResolvedSource,
  verified: VerifiedRequest,
  headers: IncomingHttpHeaders,
  rawBody: Buffer,
  ctx: IngestContext,
  trace?: Context,
): Promise<IngestResult> {
  const msg = prepare(source, rawBody, verified, new Date(verified.receivedAtMs), ctx, headers);

  if (!ctx.limiter.tryAcquire(1)) throw overloaded(ctx, "the gateway is at its publish limit");
  let receipt: PublishReceipt;
  try {
    receipt = await ctx.publish(msg, trace);
  } catch (err) {
    // Refusals by the stream count towards the ack rate; timeouts and lost connections do not.
    ctx.limiter.release(1, isPublishError(err) && err.code !== "buffer_unavailable");
    throw await publishFailure(err, ctx);
  }
  ctx.limiter.release(1, true);
  return {
    status: receipt.duplicate ? "duplicate" : "accepted",
    eventKey: msg.eventKey,
    region: ctx.region,
    stream: receipt.stream,
    seq: receipt.seq,
  };
}

export type BatchFormat = "ndjson" | "json-array";

export type BatchItemResult =
  | { status: "accepted" | "duplicate"; event_key: string; seq: number }
  | { status: "error"; code: GatewayErrorCode; message: string; event_key?: string; details?: unknown };

export interface BatchResult {
  /** accepted: every item is new in the stream; complete: every item is stored (some were already); partial: some failed. */
  status: "accepted" | "complete" | "partial";
  region: string;
  stream: string;
  accepted: number;
  duplicates: number;
  failed: number;
  items: BatchItemResult[];
  /** The longest Retry-After among items that failed with a 503 code, if any. */
  retryAfterSeconds?: number;
}

function itemError(err: unknown, eventKey?: string): BatchItemResult {
  const e = err instanceof GatewayError ? err : new GatewayError("internal_error", "unexpected error");
  const item: BatchItemResult = { status: "error", code: e.code, message: e.message };
  if (eventKey !== undefined) item.event_key = eventKey;
  if (e.details !== undefined) item.details = e.details;
  return item;
}

type ReadyItem = { index: number; msg: EventMessage };

/** Each item checked on its own (size, JSON, schema, key): a message to publish, or the item's error. */
function prepareItems(
  source: ResolvedSource,
  bytesOf: Buffer[],
  secretId: string,
  receivedAt: Date,
  ctx: IngestContext,
): { items: BatchItemResult[]; ready: ReadyItem[] } {
  const items: BatchItemResult[] = new Array<BatchItemResult>(bytesOf.length);
  const ready: ReadyItem[] = [];
  for (let index = 0; index < bytesOf.length; index++) {
    const bytes = bytesOf[index]!;
    if (bytes.length > source.maxBodyBytes) {
      items[index] = itemError(
        new GatewayError(
          "payload_too_large",
          `item is ${bytes.length} bytes; source ${source.id} accepts at most ${source.maxBodyBytes}`,
        ),
      );
      continue;
    }
    try {
      // A delivery-id header names one delivery, not each item: items key by idField or their bytes.
      ready.push({ index, msg: prepare(source, bytes, { deliveryId: null, secretId }, receivedAt, ctx) });
    } catch (err) {
      items[index] = itemError(err);
    }
  }
  return { items, ready };
}

/**
 * Publishes the admitted items together and fills in their results; resolves with the longest
 * Retry-After among items that failed with a 503 code, if any. Holds the slots `ready` took.
 */
async function publishItems(
  ready: ReadyItem[],
  items: BatchItemResult[],
  ctx: IngestContext,
  trace?: Context,
): Promise<number | undefined> {
  let retryAfterSeconds: number | undefined;
  let answered = 0;
  let failureCtx: IngestContext | undefined;
  let fullRetryAfter: Promise<number> | undefined;
  try {
    // Issued in one synchronous loop: the pipeline hands them to NATS together, as one socket write.
    const publishes = ready.map(({ msg }) => ctx.publish(msg, trace));
    const settled = await Promise.allSettled(publishes);
    for (let i = 0; i < ready.length; i++) {
      const { index, msg } = ready[i]!;
      const outcome = settled[i]!;
      if (outcome.status === "fulfilled") {
        answered++;
        items[index] = {
          status: outcome.value.duplicate ? "duplicate" : "accepted",
          event_key: msg.eventKey,
          seq: outcome.value.seq,
        };
      } else {
        const err = outcome.reason as unknown;
        if (isPublishError(err) && err.code !== "buffer_unavailable") answered++;
        // One fresh reading of the stream's fill serves every item of the batch that found it full.
        failureCtx ??= { ...ctx, fullRetryAfter: () => (fullRetryAfter ??= ctx.fullRetryAfter()) };
        const failure = await publishFailure(err, failureCtx);
        if (failure.status === 503)
          retryAfterSeconds = Math.max(retryAfterSeconds ?? 0, failure.retryAfterSeconds ?? ctx.retryAfterSeconds);
        items[index] = itemError(failure, msg.eventKey);
      }
    }
  } finally {
    ctx.limiter.release(ready.length - answered, false);
    ctx.limiter.release(answered, true);
  }
  return retryAfterSeconds;
}

function batchResult(items: BatchItemResult[], ctx: IngestContext, retryAfterSeconds: number | undefined): BatchResult {
  let accepted = 0;
  let duplicates = 0;
  for (const item of items) {
    if (item.status === "accepted") accepted++;
    else if (item.status === "duplicate") duplicates++;
  }
  const failed = items.length - accepted - duplicates;
  const result: BatchResult = {
    status: failed > 0 ? "partial" : duplicates > 0 ? "complete" : "accepted",
    region: ctx.region,
    stream: ctx.stream,
    accepted,
    duplicates,
    failed,
    items,
  };
  if (retryAfterSeconds !== undefined) result.retryAfterSeconds = retryAfterSeconds;
  return result;
}

/**
 * A verified batch (verifyRequest: one signature over the whole body) from a first-party producer,
 * then every item on its own — its own bytes as the stream message, its own key (the source's id
 * field, else the SHA-256 of its bytes), its own result. The batch is admitted whole or refused
 * whole (503 overloaded, nothing stored); once admitted, all its publishes are issued together
 * (pipelined on one connection) and awaited together.
 */
export async function ingestBatch(
  source: ResolvedSource,
  verified: VerifiedRequest,
  rawBody: Buffer,
  format: BatchFormat,
  limits: BatchLimits,
  ctx: IngestContext,
  trace?: Context,
): Promise<BatchResult> {
  const split = format === "ndjson" ? splitNdjson(rawBody, limits.maxItems) : splitJsonArray(rawBody, limits.maxItems);
  if (!split.ok) throw new GatewayError(split.code, split.message);

  const { items, ready } = prepareItems(source, split.items, verified.secretId, new Date(verified.receivedAtMs), ctx);
  if (ready.length > 0 && !ctx.limiter.tryAcquire(ready.length)) {
    throw overloaded(ctx, `the gateway cannot take ${ready.length} more publishes now`);
  }
  const retryAfterSeconds = await publishItems(ready, items, ctx, trace);
  return batchResult(items, ctx, retryAfterSeconds);
}
