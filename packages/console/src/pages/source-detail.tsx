import { useState } from "preact/hooks";
import { unwrap, type ApiError, type Body, type Source } from "../api/client";
import { ErrorNote, Field, PageHeading, useLoad, When } from "../components";
import { exampleRequest, recipeOf } from "../example-request";
import { ChangeError, ifMatch } from "../revision";
import { href, navigate } from "../router";
import { useSession } from "../session";

type SourcePatch = Body<"/v1/sources/{id}", "patch">;

/** One source: its settings and secrets, a signed example request; (admin) edit and delete. */
export function SourceDetailPage({ id }: { id: string }) {
  const { api, canAdmin } = useSession();
  const source = useLoad(
    async () => unwrap(await api.GET("/v1/sources/{id}", { params: { path: { id } } })),
    `source-${id}`,
  );
  const [saved, setSaved] = useState<string>();
  const s = source.data;
  return (
    <>
      <p>
        <a href={href(["sources"])}>← Sources</a>
      </p>
      <PageHeading title={`Source ${id}`}>Source {id}</PageHeading>
      <ErrorNote error={source.error} />
      {source.loading && !s ? <p role="status">Loading…</p> : null}
      {s ? (
        <>
          <SourceFacts s={s} />
          <ExampleRequest source={s} />
          <Refusals source={s} />
          {canAdmin ? (
            <>
              <EditSource
                key={s.revision}
                source={s}
                reload={source.reload}
                saved={saved}
                onSaved={(m) => (setSaved(m), source.reload())}
              />
              <DeleteSource source={s} />
            </>
          ) : null}
        </>
      ) : null}
    </>
  );
}

function SourceFacts({ s }: { s: Source }) {
  const { type, ...options } = s.scheme;
  return (
    <section aria-labelledby="settings">
      <h2 id="settings">Settings</h2>
      <dl class="facts">
        <dt>Scheme</dt>
        <dd>
          <code>{type}</code>
          {Object.keys(options).length > 0 ? ` ${JSON.stringify(options)}` : ""}
        </dd>
        <dt>Timestamp tolerance</dt>
        <dd data-testid="tolerance">{s.toleranceSeconds} s</dd>
        <dt>Largest body</dt>
        <dd data-testid="max-body">{s.maxBodyBytes} bytes</dd>
        <dt>Rate limit</dt>
        <dd>{s.rateLimit ? `${s.rateLimit.max} requests per ${s.rateLimit.windowSeconds} s` : "none"}</dd>
        <dt>Strict</dt>
        <dd data-testid="strict">{s.strict ? "yes: unknown event types refused" : "no"}</dd>
        <dt>Event id field</dt>
        <dd>{s.idField ?? "the scheme's"}</dd>
        <dt>Secrets</dt>
        <dd>{s.secrets.map((k) => k.id).join(", ")}</dd>
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

/**
 * The PromQL that sums a source's refusals of the last hour by region and code: the gateways count
 * them in-process, as `tributary_gateway_events_total{outcome="refused"}`; the API reads them from
 * the Prometheus that scrapes the gateways when one is configured, and the page shows the query to
 * run otherwise.
 */
export function refusalsQuery(source: string): string {
  return `sum by (region, code) (increase(tributary_gateway_events_total{source="${source}", outcome="refused"}[1h]))`;
}

interface RefusalCounts {
  data: Array<{ region: string; code: string; count: number }>;
}

/** What the gateways refused of this source in the last hour, by region and code (a bad signature shows here). */
function Refusals({ source }: { source: Source }) {
  const { api } = useSession();
  const refusals = useLoad(
    async () =>
      unwrap(
        await api.GET("/v1/sources/{id}/refusals", { params: { path: { id: source.id } } }),
      ) as unknown as RefusalCounts,
    source.id,
  );
  const unavailable = (refusals.error as ApiError | undefined)?.code === "refusals_unavailable";
  return (
    <section aria-labelledby="refusals">
      <h2 id="refusals">Refusals in the last hour</h2>
      {refusals.data ? (
        refusals.data.data.length === 0 ? (
          <p data-testid="refusals-none">No refusals of {source.id} in the last hour.</p>
        ) : (
          <table data-testid="refusals">
            <caption>Refused events of {source.id} by region and code</caption>
            <thead>
              <tr>
                <th scope="col">Region</th>
                <th scope="col">Code</th>
                <th scope="col">Refused</th>
              </tr>
            </thead>
            <tbody>
              {refusals.data.data.map((r) => (
                <tr key={`${r.region}-${r.code}`}>
                  <td>{r.region}</td>
                  <td>
                    <code>{r.code}</code>
                  </td>
                  <td>{r.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}
      {unavailable ? (
        <>
          <p data-testid="refusals-note">
            The gateways count refusals in their own processes, for Prometheus, and this API is not told which
            Prometheus scrapes them (the aggregator&apos;s <code>control.prometheusUrl</code>). The last hour&apos;s
            refusals of <strong>{source.id}</strong> by region and code, in Prometheus:
          </p>
          <pre
            tabIndex={0}
            aria-label={`Prometheus query for the refusals of ${source.id}`}
            data-testid="refusals-query"
          >
            {refusalsQuery(source.id)}
          </pre>
        </>
      ) : (
        <ErrorNote error={refusals.error} />
      )}
    </section>
  );
}

/** The signed example: a script to copy, with the secret and the gateway left as variables. */
function ExampleRequest({ source }: { source: Source }) {
  const script = exampleRequest(source);
  const [copied, setCopied] = useState(false);
  return (
    <section aria-labelledby="example">
      <h2 id="example">Example request</h2>
      <p>
        A request signed for <strong>{source.id}</strong> as its scheme verifies it. The console does not have the
        secret: set <code>SECRET</code> to it and <code>GATEWAY_URL</code> to a region&apos;s gateway, then run this in
        a shell (it needs <code>openssl</code> and <code>curl</code>). A <code>202</code> answer means the event was
        taken.
      </p>
      <p>
        <strong>How {source.scheme.type} signs:</strong>{" "}
        <span data-testid="signing-recipe">{recipeOf(source).summary}</span>.
      </p>
      <pre tabIndex={0} aria-label={`Example request for ${source.id} (shell)`} data-testid="example-request">
        {script}
      </pre>
      <button
        type="button"
        onClick={() =>
          void navigator.clipboard.writeText(script).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        {copied ? "Copied" : "Copy the script"}
      </button>
    </section>
  );
}

interface SourceForm {
  toleranceSeconds: string;
  maxBodyBytes: string;
  rateMax: string;
  rateWindow: string;
  strict: boolean;
}

/** The PATCH body of what the form changed; an emptied rate limit is null (removed). */
function sourceChange(form: SourceForm, s: Source): SourcePatch {
  const change: SourcePatch = {};
  if (Number(form.toleranceSeconds) !== s.toleranceSeconds) change.toleranceSeconds = Number(form.toleranceSeconds);
  if (Number(form.maxBodyBytes) !== s.maxBodyBytes) change.maxBodyBytes = Number(form.maxBodyBytes);
  const rate = form.rateMax ? { max: Number(form.rateMax), windowSeconds: Number(form.rateWindow || 1) } : null;
  if (JSON.stringify(rate) !== JSON.stringify(s.rateLimit ?? null)) change.rateLimit = rate;
  if (form.strict !== s.strict) change.strict = form.strict;
  return change;
}

interface EditProps {
  source: Source;
  reload: () => void;
  saved: string | undefined;
  onSaved: (message: string) => void;
}

/** Tolerance, limits and strictness: a PATCH of what changed, with `If-Match` the revision shown. */
function EditSource({ source: s, reload, saved, onSaved }: EditProps) {
  const { api } = useSession();
  const [form, setForm] = useState<SourceForm>({
    toleranceSeconds: String(s.toleranceSeconds),
    maxBodyBytes: String(s.maxBodyBytes),
    rateMax: s.rateLimit ? String(s.rateLimit.max) : "",
    rateWindow: s.rateLimit ? String(s.rateLimit.windowSeconds) : "",
    strict: s.strict,
  });
  const [error, setError] = useState<ApiError>();
  const [message, setMessage] = useState(saved);
  const set = (name: keyof typeof form) => (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    setForm({ ...form, [name]: name === "strict" ? input.checked : input.value });
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setMessage(undefined);
    const change = sourceChange(form, s);
    if (Object.keys(change).length === 0) return setMessage("Nothing changed.");
    try {
      unwrap(
        await api.PATCH("/v1/sources/{id}", {
          params: { path: { id: s.id } },
          body: change,
          headers: ifMatch(s.revision),
        }),
      );
      onSaved(`${s.id} saved.`);
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section aria-labelledby="edit">
      <h2 id="edit">Edit</h2>
      <form class="grid" onSubmit={(e) => void submit(e)} aria-label={`Edit ${s.id}`}>
        <SourceFields form={form} set={set} />
        <div class="actions">
          <button type="submit">Save changes</button>
        </div>
      </form>
      {message ? <p role="status">{message}</p> : null}
      <ChangeError error={error} what={`source ${s.id}`} revision={s.revision} reload={reload} />
    </section>
  );
}

/** Delete, after a confirmation that names the source; gateways refuse its events within seconds. */
function DeleteSource({ source: s }: { source: Source }) {
  const { api } = useSession();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<ApiError>();
  const remove = async () => {
    setError(undefined);
    try {
      unwrap(await api.DELETE("/v1/sources/{id}", { params: { path: { id: s.id } }, headers: ifMatch(s.revision) }));
      navigate(href(["sources"], { deleted: s.id }));
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section aria-labelledby="delete">
      <h2 id="delete">Delete</h2>
      <p>
        Gateways answer <code>404 unknown_source</code> to its events within seconds of the delete.
      </p>
      {confirming ? (
        <div class="buttons" role="group" aria-label={`Delete ${s.id}?`}>
          <button type="button" class="danger" onClick={() => void remove()}>
            Delete {s.id} for good
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </div>
      ) : (
        <button type="button" class="danger" onClick={() => setConfirming(true)}>
          Delete…
        </button>
      )}
      <ChangeError error={error} what={`source ${s.id}`} revision={s.revision} reload={() => location.reload()} />
    </section>
  );
}

function SourceFields({ form, set }: { form: SourceForm; set: (name: keyof SourceForm) => (e: Event) => void }) {
  return (
    <>
      <Field
        id="edit-tolerance"
        label="Timestamp tolerance (s)"
        type="number"
        min={1}
        max={86400}
        required
        value={form.toleranceSeconds}
        onInput={set("toleranceSeconds")}
      />
      <Field
        id="edit-max-body"
        label="Largest body (bytes)"
        type="number"
        min={64}
        required
        value={form.maxBodyBytes}
        onInput={set("maxBodyBytes")}
      />
      <Field
        id="edit-rate-max"
        label="Rate limit: requests"
        type="number"
        min={1}
        hint="per window, per gateway process; empty: no limit"
        value={form.rateMax}
        onInput={set("rateMax")}
      />
      <Field
        id="edit-rate-window"
        label="Rate limit: window (s)"
        type="number"
        min={1}
        max={86400}
        value={form.rateWindow}
        onInput={set("rateWindow")}
      />
      <div class="field check">
        <input id="edit-strict" type="checkbox" checked={form.strict} onChange={set("strict")} />
        <label for="edit-strict">Strict (refuse unknown event types)</label>
      </div>
    </>
  );
}
