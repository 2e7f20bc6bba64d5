import { useState } from "preact/hooks";
import { unwrap, type Subscription } from "../api/client";
import { ErrorNote, PageHeading, useLoad, When } from "../components";
import { href } from "../router";
import { useSession } from "../session";
import { BulkResend, RotateSecret } from "./subscription-actions";
import { SubscriptionDlq } from "./subscription-dlq";
import { HealthPanel } from "./subscription-health";
import { EditSubscription } from "./subscription-edit";

/**
 * One subscription, in two tabs: its settings and state, with (write) edit, rotate its secret and
 * resend in bulk; and its dead letters (`#/subscriptions/{id}/dlq`).
 */
export function SubscriptionDetailPage({
  id,
  tab,
  query,
}: {
  id: string;
  tab: "settings" | "dlq";
  query: URLSearchParams;
}) {
  return (
    <>
      <p>
        <a href={href(["subscriptions"])}>← Subscriptions</a>
      </p>
      <PageHeading title={tab === "dlq" ? `Dead letters of ${id}` : `Subscription ${id}`}>
        Subscription {id}
      </PageHeading>
      <nav aria-label={`Subscription ${id}`} class="tabs">
        <ul>
          <li>
            <a href={href(["subscriptions", id])} aria-current={tab === "settings" ? "page" : undefined}>
              Settings
            </a>
          </li>
          <li>
            <a href={href(["subscriptions", id, "dlq"])} aria-current={tab === "dlq" ? "page" : undefined}>
              Dead letters
            </a>
          </li>
        </ul>
      </nav>
      {tab === "dlq" ? <SubscriptionDlq id={id} query={query} /> : <SubscriptionSettings id={id} />}
    </>
  );
}

/** The settings tab: settings and state; (write) edit, rotate the secret, resend in bulk. */
function SubscriptionSettings({ id }: { id: string }) {
  const { api, canWrite } = useSession();
  const sub = useLoad(
    async () => unwrap(await api.GET("/v1/subscriptions/{id}", { params: { path: { id } } })),
    `subscription-${id}`,
  );
  const s = sub.data;
  const [saved, setSaved] = useState<string>();
  const onSaved = (message: string) => {
    setSaved(message);
    sub.reload();
  };
  return (
    <>
      <ErrorNote error={sub.error} />
      {sub.loading && !s ? <p role="status">Loading…</p> : null}
      {s ? (
        <>
          <HealthPanel health={s.health} />
          <SubscriptionFacts s={s} />
          {canWrite ? (
            <>
              <EditSubscription key={s.revision} subscription={s} reload={sub.reload} saved={saved} onSaved={onSaved} />
              <RotateSecret id={s.id} reload={sub.reload} />
              <BulkResend subscription={s} />
            </>
          ) : null}
        </>
      ) : null}
    </>
  );
}

/** Settings as "name value" pairs: `{maxAttempts: 8}` reads "maxAttempts 8". */
const pairs = (value: Record<string, unknown>) =>
  Object.keys(value).length === 0
    ? "none"
    : Object.entries(value)
        .map(([k, v]) => `${k} ${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(", ");

function SubscriptionFacts({ s }: { s: Subscription }) {
  return (
    <section aria-labelledby="settings">
      <h2 id="settings">Settings and state</h2>
      <dl class="facts">
        <dt>State</dt>
        <dd data-testid="state">{s.paused ? "paused" : "active"}</dd>
        {s.paused ? (
          <>
            <dt>Paused because</dt>
            <dd data-testid="paused-reason">{s.pausedReason ?? "—"}</dd>
            <dt>Paused at</dt>
            <dd>
              <When at={s.pausedAt} />
            </dd>
          </>
        ) : null}
        <dt>Endpoint</dt>
        <dd data-testid="url">{s.url}</dd>
        <dt>Sources</dt>
        <dd>{s.sources.length === 0 ? "every source" : s.sources.join(", ")}</dd>
        <dt>Event types</dt>
        <dd>{s.types.length === 0 ? "every type" : s.types.join(", ")}</dd>
        <dt>Filter</dt>
        <dd>{s.filter ? <code>{s.filter}</code> : "none"}</dd>
        <dt>Transform</dt>
        <dd>{s.transform ? <pre>{s.transform}</pre> : "none"}</dd>
        <dt>Headers</dt>
        <dd>{pairs(s.headers)}</dd>
        <dt>Retry</dt>
        <dd>{pairs(s.retry)}</dd>
        <dt>Breaker</dt>
        <dd>{pairs(s.breaker)}</dd>
        <dt>Rate limit</dt>
        <dd>
          {s.rateLimit ? `${s.rateLimit.perSecond}/s, burst ${s.rateLimit.burst ?? s.rateLimit.perSecond}` : "none"}
        </dd>
        <dt>Signing secrets</dt>
        <dd data-testid="signing-secrets">
          {s.signingSecrets.map((k) => (
            <span key={k.id} class="secret-id">
              {k.id} (made <When at={k.createdAt} />
              {k.expiresAt ? (
                <>
                  , signs until <When at={k.expiresAt} />
                </>
              ) : null}
              ){" "}
            </span>
          ))}
        </dd>
        <dt>Revision</dt>
        <dd data-testid="revision">{s.revision}</dd>
        <dt>Last changed by</dt>
        <dd>
          {s.managedBy}, <When at={s.updatedAt} />
        </dd>
      </dl>
    </section>
  );
}
