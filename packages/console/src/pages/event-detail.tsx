import { useState } from "preact/hooks";
import { unwrap, type ApiError, type EventRow } from "../api/client";
import { ErrorNote, PageHeading, useLoad, When } from "../components";
import { href } from "../router";
import { useSession } from "../session";
import { DeliveryTimeline } from "./delivery-timeline";

const ENRICHED: Array<[keyof EventRow, string]> = [
  ["link_id", "Link"],
  ["campaign", "Campaign"],
  ["geo_country", "Country"],
  ["geo_region", "Region (geo)"],
  ["device_type", "Device"],
  ["platform", "Platform"],
  ["channel", "Channel"],
  ["os_name", "OS"],
  ["browser_name", "Browser"],
  ["is_bot", "Bot"],
  ["bot_kind", "Bot kind"],
  ["referrer_category", "Referrer"],
  ["ip_anon", "IP (anonymised)"],
  ["is_unique", "Unique"],
  ["unique_rule", "Unique by rule"],
  ["is_suspicious", "Suspicious"],
  ["suspicious_reason", "Why suspicious"],
  ["revenue", "Revenue"],
  ["currency", "Currency"],
];

function shown(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** One event: where and when it came in, what enrichment found, its payload as stored (client addresses and user agents reduced unless its source keeps them raw); resend it (write). */
export function EventDetailPage({ eventKey }: { eventKey: string }) {
  const { api, canWrite } = useSession();
  // Each resend reads the delivery log again (its attempt shows once the log is loaded).
  const [resent, setResent] = useState(0);
  const event = useLoad(
    async () =>
      unwrap(await api.GET("/v1/events/{key}", { params: { path: { key: eventKey } } })) as unknown as EventRow,
    eventKey,
  );
  const e = event.data;
  return (
    <>
      <p>
        <a href={href(["events"])}>← Events</a>
      </p>
      <PageHeading title={`Event ${eventKey}`}>Event {eventKey}</PageHeading>
      <ErrorNote error={event.error} />
      {event.loading && !e ? <p role="status">Loading…</p> : null}
      {e ? (
        <>
          {e.erased_at ? (
            <p role="status" data-testid="erased">
              Erased <When at={e.erased_at} />: its payload, anonymised IP and visitor hash were removed (`tributary
              erase`); what the analytics count of it stays.
            </p>
          ) : null}
          <section aria-labelledby="where">
            <h2 id="where">Where and when</h2>
            <dl class="facts">
              <dt>Source</dt>
              <dd>{e.source}</dd>
              <dt>Type</dt>
              <dd>{e.event_type}</dd>
              <dt>Event id</dt>
              <dd>{e.event_id}</dd>
              <dt>Region</dt>
              <dd data-testid="event-region">{e.region}</dd>
              <dt>Region sequence</dt>
              <dd>{e.region_seq}</dd>
              <dt>Occurred</dt>
              <dd>
                <When at={e.occurred_at} />
              </dd>
              <dt>Received</dt>
              <dd>
                <When at={e.received_at} />
              </dd>
              <dt>Loaded</dt>
              <dd>
                <When at={e.loaded_at} />
              </dd>
            </dl>
          </section>
          <section aria-labelledby="enrichment">
            <h2 id="enrichment">Enrichment</h2>
            <dl class="facts">
              {ENRICHED.map(([field, label]) => [
                <dt key={`${field}-t`}>{label}</dt>,
                <dd key={field}>{shown(e[field])}</dd>,
              ])}
            </dl>
          </section>
          <DeliveryTimeline eventKey={eventKey} round={resent} />
          {canWrite ? <Resend eventKey={eventKey} onResent={() => setResent((n) => n + 1)} /> : null}
          <section aria-labelledby="payload">
            <h2 id="payload">Payload as stored</h2>
            <pre tabIndex={0} aria-label="Payload as stored (JSON)" data-testid="payload">
              {JSON.stringify(e.payload, null, 2)}
            </pre>
          </section>
        </>
      ) : null}
    </>
  );
}

/** Resend this event to one subscription (the same webhook-id again): write scope. */
function Resend({ eventKey, onResent }: { eventKey: string; onResent: () => void }) {
  const { api } = useSession();
  const subscriptions = useLoad(async () => unwrap(await api.GET("/v1/subscriptions")).data, "subscriptions");
  const [target, setTarget] = useState("");
  const [result, setResult] = useState<string>();
  const [error, setError] = useState<ApiError>();
  const resend = async (event: Event) => {
    event.preventDefault();
    setResult(undefined);
    setError(undefined);
    try {
      const sent = unwrap(
        await api.POST("/v1/subscriptions/{id}/resend", { params: { path: { id: target } }, body: { key: eventKey } }),
      );
      setResult(`Resent to ${target} (hub sequence ${sent.hubSeq}).`);
      onResent();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  const list = subscriptions.data ?? [];
  return (
    <section aria-labelledby="resend">
      <h2 id="resend">Resend to a subscription</h2>
      {list.length === 0 ? (
        <p class="muted">No subscriptions to resend to.</p>
      ) : (
        <form onSubmit={(e) => void resend(e)} class="inline">
          <label for="resend-target">Subscription</label>
          <select id="resend-target" value={target} onChange={(e) => setTarget(e.currentTarget.value)} required>
            <option value="">choose…</option>
            {list.map((s) => (
              <option key={s.id} value={s.id}>
                {s.id}
              </option>
            ))}
          </select>
          <button type="submit" disabled={target === ""}>
            Resend to subscription…
          </button>
        </form>
      )}
      {result ? <p role="status">{result}</p> : null}
      <ErrorNote error={error} />
    </section>
  );
}
