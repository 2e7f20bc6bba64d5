import type { DeliveryDlqEntry } from "@tributary/streams";
import { aggregatorEndpoint, deliveryEndpoint, OperatorError, type OperatorContext } from "./context.js";
import { serviceJson } from "./http.js";

/**
 * The operator's view of delivery to HTTP destinations (apps/delivery): each destination's
 * counters, breaker and backlog; its dead letters; replays of its DLQ or of a time range (to that
 * destination only, with the same ids); and the attempt log the aggregator keeps in the warehouse.
 */

export interface DestinationStatus {
  name: string;
  breakerState: "closed" | "open" | "half-open";
  delivered: number;
  retried: number;
  dlq: number;
  filtered: number;
  inFlight: number;
  /** The destination's backlog in the hub stream; undefined when its consumer could not be read. */
  pending: number | undefined;
  ackPending: number | undefined;
  /** Mean attempt latency in ms; undefined before the first attempt. */
  meanLatencyMs: number | undefined;
}

interface StatsAnswer {
  destinations: Record<
    string,
    {
      breakerState: DestinationStatus["breakerState"];
      delivered: number;
      retried: number;
      dlq: number;
      filtered: number;
      inFlight: number;
      latencyMs: { count: number; sum: number };
      consumer?: { pending: number; ackPending: number } | null;
    }
  >;
}

export async function destinationStatus(context: OperatorContext): Promise<DestinationStatus[]> {
  const stats = await serviceJson<StatsAnswer>(deliveryEndpoint(context), "/v1/stats", { timeoutMs: 10_000 });
  if (stats.destinations === null || typeof stats.destinations !== "object") {
    throw new OperatorError(
      "unreachable",
      `${context.deliveryUrl}/v1/stats is not the delivery process's answer (no "destinations"): check deliveryUrl in the context`,
    );
  }
  return Object.entries(stats.destinations).map(([name, s]) => ({
    name,
    breakerState: s.breakerState,
    delivered: s.delivered,
    retried: s.retried,
    dlq: s.dlq,
    filtered: s.filtered,
    inFlight: s.inFlight,
    pending: s.consumer?.pending,
    ackPending: s.consumer?.ackPending,
    meanLatencyMs: s.latencyMs.count > 0 ? s.latencyMs.sum / s.latencyMs.count : undefined,
  }));
}

/** A dead letter as the delivery process lists it. */
export type DestinationDlqEntry = DeliveryDlqEntry;

const path = (name: string, rest: string) => `/v1/destinations/${encodeURIComponent(name)}${rest}`;

export async function destinationDlq(
  context: OperatorContext,
  name: string,
  opts: { limit: number; fromSeq?: number },
): Promise<{ entries: DestinationDlqEntry[]; nextSeq: number | null }> {
  const query = new URLSearchParams({
    limit: String(opts.limit),
    ...(opts.fromSeq ? { from_seq: String(opts.fromSeq) } : {}),
  });
  const answer = await serviceJson<{ data: DestinationDlqEntry[]; next_seq: number | null }>(
    deliveryEndpoint(context),
    `${path(name, "/dlq")}?${query}`,
  );
  return { entries: answer.data, nextSeq: answer.next_seq };
}

export async function replayDestinationDlq(
  context: OperatorContext,
  name: string,
  opts: { limit?: number },
): Promise<{ replayed: number }> {
  return serviceJson(
    deliveryEndpoint(context),
    path(name, "/dlq/replay"),
    jsonBody(opts.limit ? { limit: opts.limit } : {}),
  );
}

export async function replayDestinationRange(
  context: OperatorContext,
  name: string,
  opts: { from: Date; to: Date; limit?: number },
): Promise<{ replayed: number; scanned: number; truncated: boolean }> {
  return serviceJson(
    deliveryEndpoint(context),
    path(name, "/replay"),
    jsonBody({
      from: opts.from.toISOString(),
      to: opts.to.toISOString(),
      ...(opts.limit ? { limit: opts.limit } : {}),
    }),
  );
}

export interface DeliveryAttempt {
  log_seq: number;
  destination: string;
  event_key: string;
  attempt: number;
  outcome: "delivered" | "retry" | "dlq";
  status: number;
  latency_ms: number;
  error: string;
  at: string;
}

/** The newest attempts from the warehouse's delivery log, optionally of one destination, event or outcome. */
export async function deliveryLog(
  context: OperatorContext,
  opts: { limit: number; destination?: string; eventKey?: string; outcome?: string },
): Promise<{ attempts: DeliveryAttempt[]; total: number }> {
  const query = new URLSearchParams({ limit: String(opts.limit) });
  if (opts.destination) query.set("destination", opts.destination);
  if (opts.eventKey) query.set("event_key", opts.eventKey);
  if (opts.outcome) query.set("outcome", opts.outcome);
  const answer = await serviceJson<{ data: DeliveryAttempt[]; total: number }>(
    aggregatorEndpoint(context),
    `/v1/deliveries?${query}`,
  );
  return { attempts: answer.data, total: answer.total };
}

function jsonBody(body: unknown): RequestInit {
  return { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
