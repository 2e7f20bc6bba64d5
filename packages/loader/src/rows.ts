import {
  createEventValidator,
  parseEnrichment,
  parseEventBody,
  toWarehouseRow,
  type WarehouseRow,
} from "@tributary/schema";
import { EventHeader, eventKeyOf, regionSeqOf } from "@tributary/streams";
import { originMismatch } from "./provenance.js";

export type RowOutcome = { ok: true; row: WarehouseRow } | { ok: false; reason: string };

/**
 * The enrichment stage (an `@tributary/enrich` Enricher fits): sets the row's enriched columns
 * and may redact its payload, from the body parsed once here.
 */
export interface RowEnricher {
  enrich(row: WarehouseRow, body: unknown): WarehouseRow;
}

const validator = createEventValidator();

/** What the mapping needs of a stream message; a JsMsg fits, and unit tests build plain ones. */
export interface StreamMessage {
  /** The subject it was stored under: its headers must agree with it (originMismatch). */
  subject: string;
  headers?: { get(name: string): string } | undefined;
  data: Uint8Array;
  seq: number;
}

/** A message mapped to its row, with the body parsed once (for the enrichment stage), or why it is poison. */
export type MappedMessage = { ok: true; row: WarehouseRow; body: unknown } | { ok: false; reason: string };

/**
 * Maps a stream message to a warehouse row. The gateway validated it already; anything that fails
 * here (a foreign publisher, a hand-edited stream, headers that disagree with the subject) is
 * poison for the DLQ, never a crash.
 */
export function rowFromMessage(msg: StreamMessage, enricher?: RowEnricher): RowOutcome {
  const mapped = mapMessage(msg);
  if (!mapped.ok) return mapped;
  if (!enricher) return { ok: true, row: mapped.row };
  try {
    return { ok: true, row: enricher.enrich(mapped.row, mapped.body) };
  } catch (err) {
    // Enrichment derives NULLs rather than throwing; a throw is a bug, and the DLQ keeps the
    // event for a replay once it is fixed rather than loading it without its columns.
    return { ok: false, reason: `enrich_failed: ${(err as Error).message}` };
  }
}

/** rowFromMessage without the enrichment stage, keeping the parsed body for it. */
export function mapMessage(msg: StreamMessage): MappedMessage {
  const h = msg.headers;
  const eventKey = eventKeyOf(h);
  const source = h?.get(EventHeader.Source);
  const region = h?.get(EventHeader.Region);
  const receivedAtText = h?.get(EventHeader.ReceivedAt);
  if (!eventKey || !source || !region || !receivedAtText) {
    return {
      ok: false,
      reason: "missing_headers: Nats-Msg-Id, Tributary-Source, Tributary-Region and Tributary-Received-At are required",
    };
  }
  const mismatch = originMismatch(msg.subject, {
    eventKey,
    source,
    region,
    eventType: h?.get(EventHeader.EventType) ?? "",
    streamSource: h?.get("Nats-Stream-Source") ?? "",
  });
  if (mismatch) return { ok: false, reason: `header_mismatch: ${mismatch}` };
  const receivedAt = new Date(receivedAtText);
  if (Number.isNaN(receivedAt.getTime())) return { ok: false, reason: `invalid_received_at: ${receivedAtText}` };
  const parsed = parseEventBody(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength));
  if (!parsed.ok) return { ok: false, reason: `invalid_json: ${parsed.message}` };
  // The gateway recorded the type it accepted (from the body, or from a provider's header).
  const validated = validator.validate(parsed.value, {
    strict: false,
    eventType: h?.get(EventHeader.EventType) || undefined,
  });
  if (!validated.ok) return { ok: false, reason: `schema_violation: ${validated.message}` };
  const eventId = eventKey.startsWith(`${source}:`) ? eventKey.slice(source.length + 1) : eventKey;
  try {
    const row = toWarehouseRow(validated.event, {
      eventKey,
      eventId,
      source,
      region,
      regionSeq: regionSeqOf(msg),
      receivedAt,
      payloadJson: parsed.text, // as received, less a BOM
    });
    const enrichment = h?.get(EventHeader.Enrichment);
    if (enrichment) {
      const enriched = parseEnrichment(enrichment);
      if (!enriched)
        return { ok: false, reason: "invalid_enrichment: Tributary-Enrichment is not the enriched columns" };
      row.enriched = enriched;
    }
    return { ok: true, row, body: parsed.value };
  } catch (err) {
    // toWarehouseRow refuses impossible values (an empty key, a bad sequence): poison, not a crash.
    return { ok: false, reason: `unmappable: ${(err as Error).message}` };
  }
}
