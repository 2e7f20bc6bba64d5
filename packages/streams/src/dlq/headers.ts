import { EventHeader } from "../names.js";

/**
 * Headers a delivery DLQ entry (`DELIVERY_DLQ`) adds to the event's own, besides the reason and
 * origin every DLQ entry carries (`EventHeader.DlqReason`, `EventHeader.DlqOrigin`).
 */
export const DeliveryDlqHeader = {
  Destination: "Tributary-Destination",
  Status: "Tributary-Delivery-Status",
  Attempts: "Tributary-Delivery-Attempts",
  /** Start of the destination's answer, one line. */
  Response: "Tributary-Delivery-Response",
  /** When the event was set aside (ISO). */
  At: "Tributary-Dlq-At",
} as const;

/**
 * On an entry that holds a reference instead of the event's bytes (the entry would have been too
 * large for the server): how many bytes the event had. The bytes are then read from the entry's
 * origin (`Tributary-Dlq-Origin`, `<stream>:<seq>`) for as long as that stream keeps them.
 */
export const DLQ_BODY_OMITTED = "Tributary-Dlq-Body-Omitted";

/**
 * Every header a DLQ entry of either format adds: an entry written for an event that had been
 * replayed from a DLQ drops the old ones, and a replayed copy carries none of them.
 */
export const DLQ_ENTRY_HEADERS: ReadonlySet<string> = new Set([
  EventHeader.DlqReason,
  EventHeader.DlqOrigin,
  DLQ_BODY_OMITTED,
  ...Object.values(DeliveryDlqHeader),
]);

/** A header value from any text: control characters (line breaks among them) become one space. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this removes
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
}

/** A message's headers as a plain record (name to values), for an API answer or a CLI's JSON. */
export function headerRecord(h: Iterable<[string, string[]]> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, values] of h ?? []) out[name] = [...values];
  return out;
}
