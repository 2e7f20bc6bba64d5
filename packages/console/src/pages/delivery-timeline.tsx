import { unwrap } from "../api/client";
import { ErrorNote, useLoad, When } from "../components";
import { href } from "../router";
import { useSession } from "../session";

type Attempt = {
  subscription: string;
  attempt: number;
  outcome: string;
  status: number;
  latency_ms: number;
  error: string;
  at: string;
};

/** The attempts per subscription, each list oldest first (the API answers newest first). */
function bySubscription(attempts: readonly Attempt[]): Array<[string, Attempt[]]> {
  const groups = new Map<string, Attempt[]>();
  for (const a of [...attempts].reverse()) {
    const list = groups.get(a.subscription) ?? [];
    list.push(a);
    groups.set(a.subscription, list);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/**
 * An event's journey after the warehouse: every delivery attempt to every subscription, from the
 * delivery log (`GET /v1/events/{key}/deliveries`). The log is loaded with the hub's other streams,
 * so an attempt shows a few seconds after it was made; Refresh reads it again.
 */
export function DeliveryTimeline({ eventKey, round }: { eventKey: string; round: number }) {
  const { api } = useSession();
  const log = useLoad(
    async () =>
      unwrap(await api.GET("/v1/events/{key}/deliveries", { params: { path: { key: eventKey } } })) as {
        data: Attempt[];
        total: number;
      },
    `${eventKey}#${round}`,
  );
  const groups = log.data ? bySubscription(log.data.data) : [];
  return (
    <section aria-labelledby="deliveries">
      <h2 id="deliveries">Deliveries</h2>
      <p>
        <button type="button" onClick={log.reload} disabled={log.loading}>
          Refresh deliveries
        </button>{" "}
        {log.data ? (
          <span role="status" data-testid="delivery-count">
            {log.data.total} attempt{log.data.total === 1 ? "" : "s"} to {groups.length} subscription
            {groups.length === 1 ? "" : "s"}
          </span>
        ) : null}
      </p>
      <ErrorNote error={log.error} />
      {log.data && groups.length === 0 ? <p class="muted">No delivery attempt recorded for this event.</p> : null}
      {groups.map(([subscription, attempts]) => (
        <table key={subscription} data-testid={`deliveries-${subscription}`}>
          <caption>
            Attempts to <a href={href(["subscriptions", subscription])}>{subscription}</a>
          </caption>
          <thead>
            <tr>
              <th scope="col">Attempt</th>
              <th scope="col">When</th>
              <th scope="col">Outcome</th>
              <th scope="col">Status</th>
              <th scope="col">Latency</th>
              <th scope="col">Response or error</th>
            </tr>
          </thead>
          <tbody>
            {attempts.map((a) => (
              <tr key={`${a.attempt}-${a.at}`} class={a.outcome === "delivered" ? "" : "failed"}>
                <th scope="row">{a.attempt}</th>
                <td>
                  <When at={a.at} />
                </td>
                <td>{a.outcome}</td>
                <td>{a.status === 0 ? "no answer" : a.status}</td>
                <td>{Math.round(a.latency_ms)} ms</td>
                <td>{a.error ? <code>{a.error}</code> : <span class="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </section>
  );
}
