import type { MsgHdrs } from "@nats-io/nats-core";
import { EventHeader, eventKeyOf } from "@tributary/streams";

/** An event as a destination sees it: the wire contract's headers and the raw body. */
export interface DeliveryEvent {
  key: string;
  source: string;
  type: string;
  region: string;
  receivedAt: string;
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
  return {
    key,
    source,
    type: get(EventHeader.EventType),
    region: get(EventHeader.Region),
    receivedAt: get(EventHeader.ReceivedAt),
    ...(traceparent ? { traceparent } : {}),
    ...(tracestate ? { tracestate } : {}),
    body,
  };
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
    body,
  };
}
