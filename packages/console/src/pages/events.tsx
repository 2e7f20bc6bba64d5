import { useEffect, useRef, useState } from "preact/hooks";
import { unwrap, type EventPage, type EventQuery } from "../api/client";
import { ErrorNote, PageHeading, useLoad, When } from "../components";
import { href, navigate } from "../router";
import { useSession } from "../session";

/** The events API's filters the page offers, as they stand in the page's URL (`#/events?source=shop`). */
const TEXT_FILTERS = [
  { name: "source", label: "Source" },
  { name: "type", label: "Event type" },
  { name: "country", label: "Country", hint: "ISO 3166-1 alpha-2, e.g. US" },
  { name: "campaign", label: "Campaign" },
  { name: "link", label: "Link id" },
] as const;
const TIME_FILTERS = [
  { name: "occurred_from", label: "Occurred from" },
  { name: "occurred_to", label: "Occurred before" },
] as const;
const DEVICES = ["mobile", "tablet", "desktop", "smarttv", "console", "wearable", "embedded", "xr", "bot", "unknown"];
const FILTER_NAMES = [...TEXT_FILTERS, ...TIME_FILTERS]
  .map((f) => f.name as string)
  .concat(["device", "is_unique", "is_suspicious"]);
const PAGE_SIZE = 50;
/** How often the live tail reads the first page again. */
const TAIL_EVERY_MS = 2_000;

/** The API query of the page's URL: its filters, the cursor of the page shown, its size (`limit`). */
function apiQuery(query: URLSearchParams): EventQuery {
  const limit = Number(query.get("limit") ?? PAGE_SIZE);
  const out: Record<string, string | number | boolean> = {
    limit: Number.isInteger(limit) && limit >= 1 && limit <= 1000 ? limit : PAGE_SIZE,
  };
  for (const name of [...FILTER_NAMES, "cursor"]) {
    const value = query.get(name);
    if (value === null || value === "") continue;
    out[name] = name.startsWith("is_") ? value === "true" : value;
  }
  return out as EventQuery;
}

/** The filters of the page's URL (with its page size), which every link of the page keeps. */
function filtersOf(query: URLSearchParams): Record<string, string> {
  return Object.fromEntries([...FILTER_NAMES, "limit"].map((name) => [name, query.get(name) ?? ""]));
}

/** The events, newest load first, with the events API's filters and its cursor pages. */
export function EventsPage({ query }: { query: URLSearchParams }) {
  const { api } = useSession();
  const key = query.toString();
  const page = useLoad(
    async () => unwrap(await api.GET("/v1/events", { params: { query: apiQuery(query) } })) as unknown as EventPage,
    key,
  );
  const filters = filtersOf(query);
  const cursor = query.get("cursor");
  const live = query.get("live") === "1" && !cursor;
  const fresh = useArrivals(page.data, live);
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(page.reload, TAIL_EVERY_MS);
    return () => clearInterval(timer);
  }, [live, page.reload]);
  return (
    <>
      <PageHeading title="Events">Events</PageHeading>
      <Filters key={key} initial={filters} />
      <p>
        {live ? (
          <a href={href(["events"], filters)} role="button" aria-pressed="true">
            Stop live tail
          </a>
        ) : (
          <a href={href(["events"], { ...filters, live: "1" })} role="button" aria-pressed="false">
            Live tail
          </a>
        )}{" "}
        <span class="muted">
          {live ? `reads the newest events every ${TAIL_EVERY_MS / 1000} s; new rows are marked` : ""}
        </span>
      </p>
      <ErrorNote error={page.error} />
      {page.data ? (
        <>
          <p class="muted" role="status">
            {page.loading && !live ? "Loading… " : ""}Newest row loaded:{" "}
            <When at={page.data.freshness.newest_loaded_at} />
            {live && fresh.size > 0 ? ` · ${fresh.size} new since the tail started` : ""}
          </p>
          <EventTable page={page.data} fresh={fresh} />
          <nav aria-label="Pages" class="pager">
            {cursor ? <a href={href(["events"], filters)}>First page</a> : null}
            {page.data.has_more && page.data.next_cursor ? (
              <a href={href(["events"], { ...filters, cursor: page.data.next_cursor })}>Next page</a>
            ) : (
              <span class="muted">No more events</span>
            )}
          </nav>
        </>
      ) : page.loading ? (
        <p role="status">Loading events…</p>
      ) : null}
    </>
  );
}

/**
 * The keys of rows that arrived while the tail runs (not on its first read), so the table can mark
 * them. Reset when the tail stops.
 */
function useArrivals(page: EventPage | undefined, live: boolean): Set<string> {
  const seen = useRef<Set<string> | undefined>(undefined);
  const fresh = useRef(new Set<string>());
  if (!live) {
    seen.current = undefined;
    fresh.current = new Set();
  } else if (page) {
    if (seen.current === undefined) seen.current = new Set(page.data.map((e) => e.event_key));
    else
      for (const e of page.data)
        if (!seen.current.has(e.event_key)) {
          seen.current.add(e.event_key);
          fresh.current.add(e.event_key);
        }
  }
  return fresh.current;
}

/** The filter form: submitting it changes the page's URL (so a filtered list is a shareable link). */
function Filters({ initial }: { initial: Record<string, string> }) {
  const [values, setValues] = useState(initial);
  const set = (name: string) => (e: Event) =>
    setValues({ ...values, [name]: (e.currentTarget as HTMLInputElement).value });
  const submit = (event: Event) => {
    event.preventDefault();
    const query: Record<string, string> = {};
    for (const [name, value] of Object.entries(values)) {
      if (value === "") continue;
      query[name] = name.endsWith("_from") || name.endsWith("_to") ? new Date(value).toISOString() : value;
    }
    navigate(href(["events"], query));
  };
  return (
    <form class="filters" aria-label="Filter events" onSubmit={submit}>
      {TEXT_FILTERS.map((f) => (
        <div class="field" key={f.name}>
          <label for={`filter-${f.name}`}>{f.label}</label>
          <input id={`filter-${f.name}`} name={f.name} value={values[f.name]} onInput={set(f.name)} />
        </div>
      ))}
      <div class="field">
        <label for="filter-device">Device</label>
        <select id="filter-device" name="device" value={values.device} onChange={set("device")}>
          <option value="">any</option>
          {DEVICES.map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="filter-is_unique">Unique clicks</label>
        <select id="filter-is_unique" name="is_unique" value={values.is_unique} onChange={set("is_unique")}>
          <option value="">all</option>
          <option value="true">unique only</option>
          <option value="false">repeats only</option>
        </select>
      </div>
      <div class="field">
        <label for="filter-is_suspicious">Suspicious</label>
        <select
          id="filter-is_suspicious"
          name="is_suspicious"
          value={values.is_suspicious}
          onChange={set("is_suspicious")}
        >
          <option value="">all</option>
          <option value="true">suspicious only</option>
          <option value="false">clean only</option>
        </select>
      </div>
      {TIME_FILTERS.map((f) => (
        <div class="field" key={f.name}>
          <label for={`filter-${f.name}`}>{f.label}</label>
          <input
            id={`filter-${f.name}`}
            type="datetime-local"
            step={1}
            value={localInput(values[f.name])}
            onInput={set(f.name)}
          />
        </div>
      ))}
      <div class="actions">
        <button type="submit">Apply filters</button> <a href={href(["events"])}>Clear</a>
      </div>
    </form>
  );
}

/** An ISO instant as a datetime-local input shows it (local time); the form sends it back as ISO. */
export function localInput(value: string | undefined): string {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 19);
}

function EventTable({ page, fresh }: { page: EventPage; fresh: ReadonlySet<string> }) {
  if (page.data.length === 0) return <p>No events match.</p>;
  return (
    <div class="table-wrap">
      <table>
        <caption>Events, newest load first</caption>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Type</th>
            <th scope="col">Source</th>
            <th scope="col">Region</th>
            <th scope="col">Received</th>
            <th scope="col">Country</th>
            <th scope="col">Device</th>
          </tr>
        </thead>
        <tbody>
          {page.data.map((e) => (
            <tr key={e.event_key} class={fresh.has(e.event_key) ? "arrived" : undefined}>
              <td>
                <a href={href(["events", e.event_key])}>{e.event_key}</a>
                {fresh.has(e.event_key) ? <span class="badge"> new</span> : null}
              </td>
              <td>{e.event_type}</td>
              <td>{e.source}</td>
              <td data-testid="region">{e.region}</td>
              <td>
                <When at={e.received_at} />
              </td>
              <td>{e.geo_country ?? "—"}</td>
              <td>{e.device_type ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
