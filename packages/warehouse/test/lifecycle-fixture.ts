// Rows and delivery attempts both sinks' lifecycle tests load: times relative to NOW, two visitors.
import { emptyEnrichment, type WarehouseRow } from "@tributary/schema";
import type { DeliveryRow } from "../src/index.js";

export const DAY = 86_400;
export const NOW = new Date("2026-12-01T12:00:00Z");

/** Row n was received n days before NOW; visitors alternate between two hashes. */
export function row(n: number, source = "links"): WarehouseRow {
  const at = new Date(NOW.getTime() - n * DAY * 1000 - 60_000);
  return {
    event_key: `${source}:e${n}`,
    source,
    event_id: `e${n}`,
    event_type: "link.clicked",
    schema_version: null,
    occurred_at: at,
    received_at: at,
    region: "us",
    region_seq: n + 1,
    payload: JSON.stringify({ ip: "203.0.113.0", n }),
    enriched: {
      ...emptyEnrichment(),
      ip_anon: "203.0.113.0",
      visitor_hash: n % 2 === 0 ? "h_even" : "h_odd",
      geo_country: "US",
      link_id: "l1",
    },
  };
}

export function delivery(seq: number, key: string, daysAgo: number): DeliveryRow {
  return {
    log_seq: seq,
    destination: "crm",
    event_key: key,
    attempt: 1,
    outcome: "delivered",
    status: 200,
    latency_ms: 3,
    error: "",
    at: new Date(NOW.getTime() - daysAgo * DAY * 1000),
  };
}
