import { useState } from "preact/hooks";
import { unwrap, type Api } from "../api/client";
import { diffFields, shownValue, type AuditQuery, type AuditRecord, type FieldChange } from "../audit";
import { ErrorNote, PageHeading, useLoad, When } from "../components";
import { href, navigate } from "../router";
import { useSession } from "../session";
import { localInput } from "./events";

const PAGE_SIZE = 25;
/** Records read beyond a page: those at the boundary instant that the previous page showed already. */
const OVERLAP = 20;

interface AuditPage {
  records: AuditRecord[];
  hasMore: boolean;
  /** The page's query, so the page can tell an answer for the current URL from the one before. */
  key: string;
}

/**
 * One page of the log, oldest first as the API answers. Pages go by `since` (an instant, inclusive),
 * so the next page starts at the last record's time and drops what the page before showed (`after`,
 * its last sequence number): records sharing that instant are neither lost nor shown twice.
 */
async function loadPage(api: Api, query: URLSearchParams, size: number): Promise<AuditPage> {
  const after = Number(query.get("after") ?? -1);
  const q: AuditQuery = { limit: Math.min(1000, size + 1 + OVERLAP) };
  const kind = query.get("kind");
  if (kind === "sources" || kind === "subscriptions" || kind === "dlq") q.kind = kind;
  if (kind && query.get("id")) q.id = query.get("id")!;
  if (query.get("since")) q.since = query.get("since")!;
  const { data } = unwrap(await api.GET("/v1/audit", { params: { query: q } }));
  const fresh = data.filter((r) => (r.seq ?? Infinity) > after);
  return {
    records: fresh.slice(0, size),
    hasMore: fresh.length > size || data.length === q.limit,
    key: query.toString(),
  };
}

const FILTERS = ["kind", "id", "since", "limit"] as const;

/** The audit log (admin): who changed what and when, each change as a diff of fields; filters and pages. */
export function AuditPage({ query }: { query: URLSearchParams }) {
  const { api, canAdmin } = useSession();
  const limit = Math.min(1000, Math.max(1, Number(query.get("limit") ?? PAGE_SIZE) || PAGE_SIZE));
  const key = query.toString();
  const page = useLoad(() => loadPage(api, query, limit), key);
  const filters = Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? ""]));
  const last = page.data?.records.at(-1);
  return (
    <>
      <PageHeading title="Audit log">Audit log</PageHeading>
      {!canAdmin ? <p>The audit log needs an admin token.</p> : null}
      <AuditFilters key={key} initial={filters} />
      <ErrorNote error={page.error} />
      {page.loading && !page.data ? <p role="status">Loading…</p> : null}
      {page.data ? (
        <div data-testid="audit-records" data-current={page.data.key === key && !page.loading}>
          {page.data.records.length === 0 ? (
            <p>No changes match.</p>
          ) : (
            page.data.records.map((r) => <AuditEntry key={r.seq ?? r.at} record={r} />)
          )}
          <nav aria-label="Pages" class="pager">
            {query.get("after") ? <a href={href(["audit"], filters)}>First page</a> : null}
            {page.data.hasMore && last ? (
              <a href={href(["audit"], { ...filters, since: last.at, after: String(last.seq ?? "") })}>Next page</a>
            ) : (
              <span class="muted">No more changes</span>
            )}
          </nav>
        </div>
      ) : null}
    </>
  );
}

function AuditFilters({ initial }: { initial: Record<string, string> }) {
  const [values, setValues] = useState(initial);
  const set = (name: string) => (e: Event) =>
    setValues({ ...values, [name]: (e.currentTarget as HTMLInputElement).value });
  const submit = (event: Event) => {
    event.preventDefault();
    const since = values.since ? new Date(values.since).toISOString() : "";
    navigate(href(["audit"], { ...values, since, id: values.kind ? values.id : "" }));
  };
  return (
    <form class="filters" aria-label="Filter the audit log" onSubmit={submit}>
      <div class="field">
        <label for="audit-kind">Kind</label>
        <select id="audit-kind" value={values.kind} onChange={set("kind")}>
          <option value="">any</option>
          <option value="sources">sources</option>
          <option value="subscriptions">subscriptions</option>
          <option value="dlq">dead letters (the loader's)</option>
        </select>
      </div>
      <div class="field">
        <label for="audit-id">Id</label>
        <input
          id="audit-id"
          value={values.id}
          onInput={set("id")}
          disabled={!values.kind}
          aria-describedby="audit-id-hint"
        />
        <small id="audit-id-hint" class="hint">
          needs a kind (the API filters ids within one kind)
        </small>
      </div>
      <div class="field">
        <label for="audit-since">Since</label>
        <input
          id="audit-since"
          type="datetime-local"
          step={1}
          value={localInput(values.since)}
          onInput={set("since")}
        />
      </div>
      <div class="field">
        <label for="audit-limit">Per page</label>
        <input id="audit-limit" type="number" min={1} max={1000} value={values.limit} onInput={set("limit")} />
      </div>
      <div class="actions">
        <button type="submit">Apply filters</button> <a href={href(["audit"])}>Clear</a>
      </div>
    </form>
  );
}

function AuditEntry({ record: r }: { record: AuditRecord }) {
  const changes = r.before === undefined && r.after === undefined ? [] : diffFields(r.before, r.after);
  const what = `${r.action} ${r.kind} ${r.id}`;
  return (
    <article class="card" aria-label={`${what} at ${r.at}`} data-testid="audit-record">
      <h2 class="h3">
        <span data-testid="audit-action">{r.action}</span> · {r.kind}{" "}
        <a
          href={r.kind === "dlq" ? href(["dead-letters"], { source: r.id }) : href([r.kind, r.id])}
          data-testid="audit-id"
        >
          {r.id}
        </a>
      </h2>
      <p class="muted">
        <When at={r.at} /> by <strong>{r.actor}</strong>
        {r.seq !== undefined ? ` · #${r.seq}` : ""}
      </p>
      {changes.length === 0 ? null : r.before === undefined || r.after === undefined ? (
        <details>
          <summary>
            {r.before === undefined ? "Created with" : "Deleted with"} {changes.length} fields
          </summary>
          <DiffTable changes={changes} />
        </details>
      ) : (
        <DiffTable changes={changes} />
      )}
      {r.detail !== undefined ? (
        <details>
          <summary>Details</summary>
          <pre>{JSON.stringify(r.detail, null, 2)}</pre>
        </details>
      ) : null}
    </article>
  );
}

function DiffTable({ changes }: { changes: FieldChange[] }) {
  return (
    <div class="table-wrap">
      <table class="diff">
        <caption>Fields changed</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Before</th>
            <th scope="col">After</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((c) => (
            <tr key={c.path}>
              <th scope="row">
                <code>{c.path}</code>
              </th>
              <td class={c.before === undefined ? "muted" : "removed"}>{shownValue(c.before)}</td>
              <td class={c.after === undefined ? "muted" : "added"}>{shownValue(c.after)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
