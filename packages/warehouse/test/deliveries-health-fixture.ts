import type { DeliveryHealthRow, DeliveryRow } from "../src/index.js";

/** The window both engines' health tests ask about, and the rows in and out of it. */
export const HEALTH_SINCE = new Date(Date.UTC(2026, 10, 29, 12, 0, 0));

function at(minute: number): Date {
  return new Date(HEALTH_SINCE.getTime() + minute * 60_000);
}

function row(seq: number, destination: string, outcome: string, latency: number, when: Date): DeliveryRow {
  return {
    log_seq: seq,
    destination,
    event_key: `demo:h-${seq}`,
    attempt: 1,
    outcome,
    status: outcome === "delivered" ? 200 : 503,
    latency_ms: latency,
    error: outcome === "delivered" ? "" : "retry: HTTP 503",
    at: when,
  };
}

/**
 * crm: ten attempts in the window (latencies 100, 90, …, 10 ms; two retries), one before it
 * (not counted); slack: one dead-lettered attempt. Nearest rank: p50 is the 5th of 10, p95 the 10th.
 */
export const HEALTH_ROWS: DeliveryRow[] = [
  ...Array.from({ length: 10 }, (_, i) => row(100 + i, "crm", i < 2 ? "retry" : "delivered", (10 - i) * 10, at(i))),
  row(120, "crm", "retry", 5000, new Date(HEALTH_SINCE.getTime() - 1000)),
  row(121, "slack", "dlq", 7.5, at(30)),
];

export const HEALTH_EXPECTED: DeliveryHealthRow[] = [
  { destination: "crm", attempts: 10, delivered: 8, p50_ms: 50, p95_ms: 100 },
  { destination: "slack", attempts: 1, delivered: 0, p50_ms: 7.5, p95_ms: 7.5 },
];
