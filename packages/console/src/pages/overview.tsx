import {
  unwrap,
  type AnalyticsAnswer,
  type AnalyticsQuery,
  type AnalyticsView,
  type Api,
  type RevenueRow,
} from "../api/client";
import { recentAudit, type AuditRecord } from "../audit";
import { BarChart, ColumnChart, type Datum } from "../charts";
import { ErrorNote, PageHeading, useLoad, When } from "../components";
import { href } from "../router";
import { useSession } from "../session";

const MINUTE = 60_000;
/** The overview looks at the last hour: sixty one-minute buckets, the current minute last. */
const BUCKETS = 60;

async function analytics(api: Api, view: AnalyticsView, query: AnalyticsQuery): Promise<AnalyticsAnswer> {
  const path = `/v1/analytics/${view}` as "/v1/analytics/minutes";
  return unwrap(await api.GET(path, { params: { query } })) as unknown as AnalyticsAnswer;
}

interface Overview {
  from: string;
  to: string;
  minutes: AnalyticsAnswer;
  sources: AnalyticsAnswer;
  types: AnalyticsAnswer;
  links: AnalyticsAnswer;
  channels: AnalyticsAnswer;
  platforms: AnalyticsAnswer;
  revenue: RevenueRow[];
  subscriptions: { active: number; paused: Array<{ id: string; reason?: string | undefined }> };
  audit?: AuditRecord[] | Error;
}

/** Everything the overview shows, read at once: the analytics views of the hour, revenue, subscriptions, audit. */
async function loadOverview(api: Api, withAudit: boolean): Promise<Overview> {
  const start = Math.floor(Date.now() / MINUTE) * MINUTE - (BUCKETS - 1) * MINUTE;
  const from = new Date(start).toISOString();
  const to = new Date(start + BUCKETS * MINUTE).toISOString();
  const window = { from, to, limit: 1000 };
  const [minutes, sources, types, links, channels, platforms, revenue, subs, audit] = await Promise.all([
    analytics(api, "minutes", window),
    analytics(api, "sources", window),
    analytics(api, "types", window),
    analytics(api, "links", window),
    analytics(api, "channels", window),
    analytics(api, "platforms", window),
    api.GET("/v1/analytics/revenue", { params: { query: window } }).then((r) => unwrap(r).data),
    api.GET("/v1/subscriptions").then(unwrap),
    withAudit ? recentAudit(api, 10).catch((err: Error) => err) : undefined,
  ]);
  const paused = subs.data.filter((s) => s.paused).map((s) => ({ id: s.id, reason: s.pausedReason }));
  return {
    from,
    to,
    minutes,
    sources,
    types,
    links,
    channels,
    platforms,
    revenue,
    subscriptions: { active: subs.data.length - paused.length, paused },
    ...(audit ? { audit } : {}),
  };
}

/** The minute buckets of the hour, with the empty ones the rollup leaves out counted as 0. */
function perMinute(o: Overview): Datum[] {
  const counts = new Map(o.minutes.data.map((r) => [r.key === null ? "" : Date.parse(r.key), r.events]));
  const start = Date.parse(o.from);
  return Array.from({ length: BUCKETS }, (_, i) => {
    const at = new Date(start + i * MINUTE);
    const label = at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    return { label, title: at.toISOString(), value: counts.get(at.getTime()) ?? 0 };
  });
}

const byKey = (a: AnalyticsAnswer): Datum[] => a.data.map((r) => ({ label: r.key ?? "unknown", value: r.events }));
/** The `n` largest buckets, largest first (a link view can hold thousands). */
const top = (data: Datum[], n: number): Datum[] => [...data].sort((a, b) => b.value - a.value).slice(0, n);
const total = (data: readonly Datum[]) => data.reduce((n, d) => n + d.value, 0);

function minutesSummary(data: Datum[]): string {
  const sum = total(data);
  if (sum === 0) return "No events in the last hour.";
  const busiest = data.reduce((a, b) => (b.value > a.value ? b : a));
  return `${counted(sum, "event")} in the last hour; the busiest minute was ${busiest.label} with ${busiest.value}; ${data.at(-1)!.value} so far in the current minute.`;
}

/** "1 source", "2 sources". */
export const counted = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function shareSummary(data: Datum[], what: string, top: string): string {
  if (data.length === 0) return `No events in the last hour, so no ${what}s.`;
  const first = data[0]!;
  const share = Math.round((100 * first.value) / Math.max(1, total(data)));
  return `${counted(data.length, what)}; ${first.label} ${top}: ${counted(first.value, "event")} (${share}%).`;
}

/** The landing page: what came in over the last hour, how fresh the warehouse is, subscriptions, changes. */
export function OverviewPage() {
  const { api, canAdmin } = useSession();
  const page = useLoad(() => loadOverview(api, canAdmin), `overview-${canAdmin}`);
  const o = page.data;
  return (
    <>
      <PageHeading title="Overview">Overview</PageHeading>
      <p class="inline">
        <span class="muted" role="status">
          {page.loading ? "Loading…" : o ? "The last hour, by event time." : ""}
        </span>
        <button type="button" onClick={page.reload}>
          Refresh
        </button>
      </p>
      <ErrorNote error={page.error} />
      {o ? <OverviewBody o={o} /> : null}
    </>
  );
}

function OverviewBody({ o }: { o: Overview }) {
  const minutes = perMinute(o);
  const sources = byKey(o.sources);
  const types = byKey(o.types);
  const subs = [
    { label: "active", value: o.subscriptions.active },
    { label: "paused", value: o.subscriptions.paused.length },
  ];
  return (
    <div data-from={o.from} data-to={o.to} data-testid="overview">
      <Freshness newest={o.minutes.freshness.newest_loaded_at} />
      <section aria-labelledby="traffic" class="charts">
        <h2 id="traffic">Traffic</h2>
        <ColumnChart
          id="per-minute"
          title="Events per minute"
          summary={minutesSummary(minutes)}
          data={minutes}
          columns={["Minute", "Events"]}
        />
        <BarChart
          id="by-source"
          title="Events by source"
          summary={shareSummary(sources, "source", "sent the most")}
          data={sources}
          columns={["Source", "Events"]}
        />
        <BarChart
          id="by-type"
          title="Events by type"
          summary={shareSummary(types, "event type", "came most")}
          data={types}
          columns={["Event type", "Events"]}
        />
      </section>
      <Audience o={o} />
      <section aria-labelledby="subscriptions-state" class="charts">
        <h2 id="subscriptions-state">Subscriptions</h2>
        <BarChart
          id="subscriptions"
          title="Subscriptions by state"
          summary={`${subs[0]!.value} active, ${subs[1]!.value} paused.`}
          data={subs}
          columns={["State", "Subscriptions"]}
        />
        <PausedList paused={o.subscriptions.paused} />
      </section>
      {o.audit ? <RecentChanges audit={o.audit} /> : null}
    </div>
  );
}

function Freshness({ newest }: { newest: string | null }) {
  const age = newest ? Math.max(0, Math.round((Date.now() - Date.parse(newest)) / 1000)) : undefined;
  return (
    <section aria-labelledby="freshness" class="stat" data-testid="freshness" data-newest={newest ?? ""}>
      <h2 id="freshness">Warehouse freshness</h2>
      {newest ? (
        <p>
          Newest row loaded <strong>{age} s ago</strong> (<When at={newest} />
          ). Answers of the query API include everything loaded up to then.
        </p>
      ) : (
        <p>No row loaded yet.</p>
      )}
    </section>
  );
}

function PausedList({ paused }: { paused: Overview["subscriptions"]["paused"] }) {
  if (paused.length === 0) return <p>No subscription is paused.</p>;
  return (
    <ul aria-label="Paused subscriptions">
      {paused.map((p) => (
        <li key={p.id}>
          <a href={href(["subscriptions", p.id])}>{p.id}</a>
          {p.reason ? `: ${p.reason}` : ""}
        </li>
      ))}
    </ul>
  );
}

function RecentChanges({ audit }: { audit: AuditRecord[] | Error }) {
  return (
    <section aria-labelledby="recent-changes">
      <h2 id="recent-changes">Recent changes</h2>
      {audit instanceof Error ? (
        <ErrorNote error={audit} />
      ) : audit.length === 0 ? (
        <p>No changes recorded.</p>
      ) : (
        <div class="table-wrap">
          <table data-testid="recent-changes">
            <caption>The last {counted(audit.length, "change")}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Kind</th>
                <th scope="col">Id</th>
              </tr>
            </thead>
            <tbody>
              {audit.map((r) => (
                <tr key={r.seq ?? `${r.at}-${r.id}`}>
                  <td>
                    <When at={r.at} />
                  </td>
                  <td>{r.actor}</td>
                  <td>{r.action}</td>
                  <td>{r.kind}</td>
                  <td>
                    <a href={href(["audit"], { kind: r.kind, id: r.id })}>{r.id}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p>
        <a href={href(["audit"])}>The whole audit log</a>
      </p>
    </section>
  );
}

/** Where the hour's clicks went and came from (links, channels, platforms), and what conversions earned. */
function Audience({ o }: { o: Overview }) {
  const links = top(byKey(o.links), 10);
  const channels = byKey(o.channels);
  const platforms = byKey(o.platforms);
  return (
    <section aria-labelledby="audience" class="charts">
      <h2 id="audience">Links, channels and revenue</h2>
      <BarChart
        id="by-link"
        title="Top links"
        summary={shareSummary(links, "link", "was opened most")}
        data={links}
        columns={["Link", "Events"]}
      />
      <BarChart
        id="by-channel"
        title="Events by channel"
        summary={shareSummary(channels, "channel", "brought the most")}
        data={channels}
        columns={["Channel", "Events"]}
      />
      <BarChart
        id="by-platform"
        title="Events by platform"
        summary={shareSummary(platforms, "platform", "came most")}
        data={platforms}
        columns={["Platform", "Events"]}
      />
      <Revenue rows={o.revenue} />
    </section>
  );
}

/** Revenue per campaign and currency, as the API sums it (exact decimals; currencies never added up). */
function Revenue({ rows }: { rows: RevenueRow[] }) {
  if (rows.length === 0) return <p data-testid="revenue-none">No conversions with a revenue in the last hour.</p>;
  return (
    <table data-testid="revenue">
      <caption>Revenue by campaign and currency</caption>
      <thead>
        <tr>
          <th scope="col">Campaign</th>
          <th scope="col">Currency</th>
          <th scope="col">Conversions</th>
          <th scope="col">Revenue</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.campaign ?? ""}/${r.currency ?? ""}`}>
            <th scope="row">{r.campaign ?? "no campaign"}</th>
            <td>{r.currency ?? "—"}</td>
            <td>{r.conversions}</td>
            <td data-testid="revenue-sum">{r.revenue}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
