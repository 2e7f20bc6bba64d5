import type { IncomingHttpHeaders } from "node:http";
import { deriveEventKey, readBodyField } from "@tributary/dedupe";
import { createEventValidator, parseEventBody } from "@tributary/schema";
import { eventSubject, isPublishError, type EventMessage, type PublishReceipt } from "@tributary/streams";
import type { ResolvedSource } from "./config.js";
import { GatewayError } from "./errors.js";
import type { GatewayCounters } from "./counters.js";

export interface IngestContext {
  region: string;
  publish: (msg: EventMessage) => Promise<PublishReceipt>;
  /** Milliseconds since the epoch. */
  now: () => number;
  counters: GatewayCounters;
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

/**
 * One event through the edge, cheapest refusal first: size, signature (before any JSON parse, so
 * unsigned garbage costs one HMAC), JSON, schema, key, then the durable publish. Resolves only
 * after the regional stream's PubAck; every refusal is a GatewayError with a stable code.
 */
export async function ingestEvent(source: ResolvedSource, headers: IncomingHttpHeaders, rawBody: Buffer, ctx: IngestContext): Promise<IngestResult> {
  if (rawBody.length > source.maxBodyBytes) {
    throw new GatewayError("payload_too_large", `body is ${rawBody.length} bytes; source ${source.id} accepts at most ${source.maxBodyBytes}`);
  }
  const nowMs = ctx.now();
  const verified = source.scheme.verify(
    { headers, rawBody },
    { secrets: source.secrets, toleranceSeconds: source.toleranceSeconds, nowSeconds: Math.floor(nowMs / 1000) },
  );
  if (!verified.ok) throw new GatewayError(verified.code, verified.message);
  ctx.counters.secretUsed(source.id, verified.secretId);

  const parsed = parseEventBody(rawBody);
  if (!parsed.ok) throw new GatewayError(parsed.code, parsed.message);
  const validated = validator.validate(parsed.value, { strict: source.strict });
  if (!validated.ok) throw new GatewayError("schema_violation", validated.message, validated.errors);
  const event = validated.event;
  if (!event.known) ctx.counters.unknownEventType(source.id);

  const { eventKey } = deriveEventKey({
    source: source.id,
    deliveryId: verified.deliveryId,
    bodyEventId: source.idField ? readBodyField(parsed.value, source.idField) : null,
    rawBody,
  });

  let receipt: PublishReceipt;
  try {
    receipt = await ctx.publish({
      subject: eventSubject(ctx.region, source.id, event.eventType),
      body: rawBody,
      eventKey,
      source: source.id,
      region: ctx.region,
      eventType: event.eventType,
      receivedAt: new Date(nowMs),
    });
  } catch (err) {
    if (isPublishError(err)) {
      throw new GatewayError(err.code === "buffer_full" ? "buffer_full" : "buffer_unavailable", err.message, undefined, { cause: err });
    }
    throw err;
  }
  return { status: receipt.duplicate ? "duplicate" : "accepted", eventKey, region: ctx.region, stream: receipt.stream, seq: receipt.seq };
}
