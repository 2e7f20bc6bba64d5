import { Type, type Static } from "@sinclair/typebox";
import type { FastifyRequest } from "fastify";
import type { BreakerReport } from "@tributary/control";
import { deliveryBacklog } from "@tributary/streams";
import { readableSources } from "./hub.js";
import type { ControlConnection } from "./plugin.js";

/** The window a subscription's success rate and latency are taken over. */
export const HEALTH_WINDOW_MS = 3_600_000;
/** A breaker report older than this says its delivery process stopped reporting: shown as unknown. */
export const BREAKER_STALE_MS = 60_000;

/** One subscription's attempts over a window, as the delivery log sums them (the warehouse's `deliveryHealth`). */
export interface DeliveryStatsRow {
  destination: string;
  attempts: number;
  delivered: number;
  p50_ms: number;
  p95_ms: number;
}

/** The delivery log's sums per subscription since a time; absent where the API has no delivery log. */
export type DeliveryStatsReader = (since: Date, destination?: string) => Promise<DeliveryStatsRow[]>;

/** A latency percentile of the window, ms; null without attempts. */
const Percentile = (which: string) =>
  Type.Union([Type.Number(), Type.Null()], {
    description: `${which} attempt latency in the window, ms (nearest rank)`,
  });

export const SubscriptionHealth = Type.Object(
  {
    breaker: Type.Union(
      [Type.Literal("closed"), Type.Literal("open"), Type.Literal("half-open"), Type.Literal("unknown")],
      {
        description:
          "the circuit breaker as the delivery process last reported it; unknown when it has not reported for a minute (stopped, or not running this subscription)",
      },
    ),
    breakerSince: Type.Optional(Type.String({ description: "when the breaker entered this state" })),
    breakerReason: Type.Optional(Type.String({ description: "why: the rule that opened it and the last failure" })),
    reportedAt: Type.Optional(Type.String({ description: "the delivery process's last report" })),
    windowSeconds: Type.Integer({ description: "the window of the attempt figures: the last hour" }),
    attempts: Type.Union([Type.Integer(), Type.Null()], {
      description:
        "delivery attempts in the window (the delivery log); null where the API has no delivery log, the log did not answer, or the token reads only some sources",
    }),
    successRate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
      description: "delivered attempts / attempts in the window; null without attempts",
    }),
    p50Ms: Percentile("median"),
    p95Ms: Percentile("95th percentile"),
    backlog: Type.Union(
      [
        Type.Object({
          pending: Type.Integer({ description: "events not yet handed to the deliverer" }),
          ackPending: Type.Integer({
            description: "events handed out and not yet settled (in flight or waiting to retry)",
          }),
        }),
        Type.Null(),
      ],
      {
        description: "its consumer on the enriched stream; null when the consumer is not there or NATS did not answer",
      },
    ),
  },
  { description: "delivery health: breaker, last hour's attempts from the delivery log, backlog in the stream" },
);
export type SubscriptionHealth = Static<typeof SubscriptionHealth>;

export interface HealthDeps {
  connection: () => ControlConnection | undefined;
  stats?: DeliveryStatsReader;
  now: () => Date;
  log?: (err: unknown, what: string) => void;
}

function breakerOf(report: BreakerReport | undefined, now: Date): Partial<SubscriptionHealth> {
  if (!report || now.getTime() - Date.parse(report.reportedAt) > BREAKER_STALE_MS)
    return { breaker: "unknown", ...(report ? { reportedAt: report.reportedAt } : {}) };
  return {
    breaker: report.state,
    breakerSince: report.since,
    ...(report.reason !== undefined ? { breakerReason: report.reason } : {}),
    reportedAt: report.reportedAt,
  };
}

/**
 * The health of some subscriptions, each part read on its own so that one that does not answer
 * (the warehouse, NATS) leaves its fields null or unknown rather than failing the read: the
 * breaker from the delivery process's reports in the bucket, the last hour from the delivery log
 * (spans sources: only for a token of every source), the backlog from each consumer's info.
 */
export async function healthOf(
  deps: HealthDeps,
  request: FastifyRequest,
  ids: readonly string[],
): Promise<Map<string, SubscriptionHealth>> {
  const now = deps.now();
  const connection = deps.connection();
  const everySource = readableSources(request) === undefined;
  const quietly = <T>(what: string, read: () => Promise<T>, fallback: T): Promise<T> =>
    read().catch((err: unknown) => {
      deps.log?.(err, what);
      return fallback;
    });
  const single = ids.length === 1 ? ids[0] : undefined;
  const [reports, stats, backlogs] = await Promise.all([
    connection
      ? quietly(
          "breaker reports",
          async () =>
            single !== undefined
              ? new Map([[single, await connection.store.breakerReport(single)]])
              : connection.store.breakerReports(),
          new Map<string, BreakerReport | undefined>(),
        )
      : new Map<string, BreakerReport | undefined>(),
    deps.stats && everySource
      ? quietly(
          "delivery log",
          async () => {
            const rows = await deps.stats!(new Date(now.getTime() - HEALTH_WINDOW_MS), single);
            return new Map(rows.map((r) => [r.destination, r]));
          },
          undefined,
        )
      : undefined,
    Promise.all(ids.map((id) => (connection ? deliveryBacklog(connection.jsm, id) : Promise.resolve(null)))),
  ]);
  const health = new Map<string, SubscriptionHealth>();
  ids.forEach((id, i) => {
    const row = stats?.get(id);
    const backlog = backlogs[i];
    health.set(id, {
      breaker: "unknown",
      ...breakerOf(reports.get(id), now),
      windowSeconds: HEALTH_WINDOW_MS / 1000,
      attempts: stats ? (row?.attempts ?? 0) : null,
      successRate: row && row.attempts > 0 ? row.delivered / row.attempts : null,
      p50Ms: row ? row.p50_ms : null,
      p95Ms: row ? row.p95_ms : null,
      backlog: backlog ? { pending: backlog.pending, ackPending: backlog.ackPending } : null,
    });
  });
  return health;
}
