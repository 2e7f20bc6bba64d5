import type { MsgHdrs } from "@nats-io/nats-core";
import { parseEnrichment } from "@tributary/schema";
import { EventHeader, eventKeyOf } from "@tributary/streams";

/** An event as a destination sees it: the wire contract's headers and the body as the enrich stage stored it. */
export interface DeliveryEvent {
  key: string;
  source: string;
  type: string;
  region: string;
  receivedAt: string;
  /** The enriched columns (`Tributary-Enrichment`): the same verdicts as the event's warehouse row. */
  enrichment?: Record<string, unknown>;
  traceparent?: string;
  tracestate?: string;
  body: Uint8Array;
}

/** Reads the wire contract's headers; undefined when the key or source is missing. */
export function eventFromMessage(headers: MsgHdrs | undefined, body: Uint8Array): DeliveryEvent | undefined {
  const get = (name: string) => (headers?.has(name) ? headers.get(name) : "");
  const key = eventKeyOf(headers);
  const source = get(EventHeader.Source);
  if (!key || !source) return undefined;
  const traceparent = get("traceparent");
  const tracestate = get("tracestate");
  const header = get(EventHeader.Enrichment);
  const enrichment = header ? (parseEnrichment(header) as unknown as Record<string, unknown> | undefined) : undefined;
  return {
    key,
    source,
    type: get(EventHeader.EventType),
    region: get(EventHeader.Region),
    receivedAt: get(EventHeader.ReceivedAt),
    ...(traceparent ? { traceparent } : {}),
    ...(tracestate ? { tracestate } : {}),
    ...(enrichment ? { enrichment } : {}),
    body,
  };
}

/**
 * The body a destination that asked for the enriched form gets: the event's JSON object with an
 * `enrichment` member beside its own (the body unchanged when it is not an object or has none).
 */
export function withEnrichment(event: DeliveryEvent): Uint8Array {
  if (!event.enrichment) return event.body;
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(event.body));
  } catch {
    return event.body;
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return event.body;
  return new TextEncoder().encode(JSON.stringify({ ...(body as object), enrichment: event.enrichment }));
}

/** Whether the destination takes this source and type (replayed events carry no type in their subject). */
export function routes(dest: { sources: readonly string[]; types: readonly string[] }, event: DeliveryEvent): boolean {
  return (
    (dest.sources.length === 0 || dest.sources.includes(event.source)) &&
    (dest.types.length === 0 || dest.types.includes(event.type))
  );
}

/** What the filter and the transform see. */
export function sandboxInput(event: DeliveryEvent, body: unknown): Record<string, unknown> {
  return {
    key: event.key,
    source: event.source,
    type: event.type,
    region: event.region,
    receivedAt: event.receivedAt,
    enrichment: event.enrichment ?? null,
    body,
  };
}
