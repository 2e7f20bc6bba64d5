import { table } from "../format.js";
import type { deliveryLog, destinationDlq, destinationStatus } from "../ops/destinations.js";

// The text `destinations` and its subcommands print without --json (and `status` for delivery).

export function destinationsText(list: Awaited<ReturnType<typeof destinationStatus>>): string {
  return table(
    ["destination", "breaker", "delivered", "retried", "dlq", "filtered", "in flight", "backlog", "mean latency"],
    list.map((d) => [
      d.name,
      d.breakerState,
      d.delivered,
      d.retried,
      d.dlq,
      d.filtered,
      d.inFlight,
      d.pending === undefined ? "?" : `${d.pending} pending, ${d.ackPending} in hand`,
      d.meanLatencyMs === undefined ? "-" : `${d.meanLatencyMs.toFixed(1)} ms`,
    ]),
  );
}

export function destinationDlqText(page: Awaited<ReturnType<typeof destinationDlq>>): string {
  return `${table(
    ["seq", "at", "event key", "attempts", "status", "reason", "response"],
    page.entries.map((e) => [
      e.seq,
      e.at,
      e.eventKey,
      e.attempts,
      e.status || "-",
      e.reason.slice(0, 60),
      e.response.slice(0, 60),
    ]),
  )}${page.nextSeq ? `\nmore: --from-seq ${page.nextSeq}` : ""}`;
}

export function deliveryLogText(log: Awaited<ReturnType<typeof deliveryLog>>): string {
  return `${log.total} attempts match\n${table(
    ["at", "destination", "event key", "attempt", "outcome", "status", "latency", "error"],
    log.attempts.map((a) => [
      a.at,
      a.destination,
      a.event_key,
      a.attempt,
      a.outcome,
      a.status || "-",
      `${a.latency_ms} ms`,
      a.error.slice(0, 60),
    ]),
  )}`;
}
