import type { Subscription } from "../api/client";
import { When } from "../components";

/** A subscription's health as the API answers it (`health` of GET /v1/subscriptions[/{id}]). */
export type Health = Subscription["health"];

/** "100%", "87.5%"; "—" without attempts (or where the token may not read them). */
export function successRateText(h: Health): string {
  return h.successRate === null ? "—" : `${Number((h.successRate * 100).toFixed(1))}%`;
}

const ms = (value: number | null) => (value === null ? "—" : `${Math.round(value)} ms`);

/** Events waiting for the subscription: not yet handed out, and handed out but not settled. */
const backlogOf = (backlog: NonNullable<Health["backlog"]>) => backlog.pending + backlog.ackPending;

function backlogText(h: Health): string {
  if (!h.backlog) return "unknown";
  const { ackPending } = h.backlog;
  return `${backlogOf(h.backlog)}${ackPending > 0 ? ` (${ackPending} in flight or retrying)` : ""}`;
}

/** The breaker in words: "open" alone is a state a reader of the list should not miss. */
function breakerText(h: Health): string {
  return h.breaker === "unknown" ? "unknown (not reported for a minute)" : h.breaker;
}

/** The list's health column: breaker, success rate and p95 of the last hour, backlog. */
export function HealthCell({ health: h }: { health: Health }) {
  return (
    <span class={`health health-${h.breaker}`}>
      <span data-testid="breaker">{h.breaker}</span>
      {" · "}
      <span data-testid="success-rate" title="delivered attempts in the last hour">
        {successRateText(h)}
      </span>
      {" · p95 "}
      <span data-testid="p95">{ms(h.p95Ms)}</span>
      {" · backlog "}
      <span data-testid="backlog">{h.backlog ? backlogOf(h.backlog) : "?"}</span>
    </span>
  );
}

/** The detail page's health panel. */
export function HealthPanel({ health: h }: { health: Health }) {
  const hours = h.windowSeconds / 3600;
  const window = hours === 1 ? "last hour" : `last ${hours} hours`;
  return (
    <section aria-labelledby="health">
      <h2 id="health">Health</h2>
      <dl class="facts">
        <dt>Circuit breaker</dt>
        <dd data-testid="health-breaker" class={`health-${h.breaker}`}>
          {breakerText(h)}
          {h.breakerSince ? (
            <>
              , since <When at={h.breakerSince} />
            </>
          ) : null}
        </dd>
        {h.breakerReason ? (
          <>
            <dt>Why</dt>
            <dd data-testid="health-breaker-reason">{h.breakerReason}</dd>
          </>
        ) : null}
        <dt>Attempts ({window})</dt>
        <dd data-testid="health-attempts">
          {h.attempts === null ? "not available to this token or not answered" : h.attempts}
        </dd>
        <dt>Success rate ({window})</dt>
        <dd data-testid="health-success-rate">{successRateText(h)}</dd>
        <dt>Latency p50 / p95</dt>
        <dd data-testid="health-latency">
          {ms(h.p50Ms)} / {ms(h.p95Ms)}
        </dd>
        <dt>Backlog</dt>
        <dd data-testid="health-backlog">{backlogText(h)}</dd>
        {h.reportedAt ? (
          <>
            <dt>Reported by the delivery process</dt>
            <dd>
              <When at={h.reportedAt} />
            </dd>
          </>
        ) : null}
      </dl>
    </section>
  );
}
