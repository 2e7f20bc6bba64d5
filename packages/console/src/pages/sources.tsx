import { useState } from "preact/hooks";
import { unwrap, type ApiError, type Body, type Source } from "../api/client";
import { ErrorNote, Field, PageHeading, SecretOnce, useLoad, When } from "../components";
import { href } from "../router";
import { useSession } from "../session";

type SourceCreate = Body<"/v1/sources", "post">;
type SchemeType = SourceCreate["scheme"]["type"];
const SCHEMES: SchemeType[] = [
  "webhook-hmac-sha256",
  "standard-webhooks",
  "svix",
  "stripe",
  "github",
  "shopify",
  "hmac-sha256-body",
];

/** A secret value just made: which source and secret, and the value (shown once). */
interface Made {
  label: string;
  value: string;
}

/** Sources and their secrets (ids and dates only); admin scope creates, adds and retires secrets. */
export function SourcesPage({ deleted }: { deleted?: string | undefined }) {
  const { api, canAdmin } = useSession();
  const list = useLoad(async () => unwrap(await api.GET("/v1/sources")).data, "sources");
  const [made, setMade] = useState<Made[]>([]);
  const [error, setError] = useState<ApiError>();
  const [message, setMessage] = useState<string>();
  const act = async (what: () => Promise<{ message: string; made?: Made[] }>) => {
    setError(undefined);
    setMessage(undefined);
    setMade([]);
    try {
      const done = await what();
      setMessage(done.message);
      setMade(done.made ?? []);
    } catch (err) {
      setError(err as ApiError);
    }
    list.reload();
  };
  return (
    <>
      <PageHeading title="Sources">Sources</PageHeading>
      {canAdmin ? <CreateSource act={(what) => void act(what)} /> : null}
      <section aria-labelledby="sources-list">
        <h2 id="sources-list">All sources</h2>
        {deleted && !message ? <p role="status">Source {deleted} deleted.</p> : null}
        {message ? <p role="status">{message}</p> : null}
        <ErrorNote error={error ?? list.error} />
        {made.map((m) => (
          <SecretOnce key={m.label} label={m.label} value={m.value} />
        ))}
        {list.data ? (
          list.data.length === 0 ? (
            <p>No sources yet.</p>
          ) : (
            list.data.map((s) => <SourceCard key={s.id} source={s} act={(what) => void act(what)} />)
          )
        ) : (
          <p role="status">Loading…</p>
        )}
      </section>
    </>
  );
}

type Act = (what: () => Promise<{ message: string; made?: Made[] }>) => void;

function SourceCard({ source: s, act }: { source: Source; act: Act }) {
  const { api, canAdmin } = useSession();
  const retire = (secretId: string) =>
    act(async () => {
      unwrap(await api.DELETE("/v1/sources/{id}/secrets/{secretId}", { params: { path: { id: s.id, secretId } } }));
      return { message: `Secret ${secretId} of ${s.id} retired.` };
    });
  return (
    <article class="card" aria-labelledby={`source-${s.id}`} data-testid={`source-${s.id}`}>
      <h3 id={`source-${s.id}`}>
        <a href={href(["sources", s.id])}>{s.id}</a>
      </h3>
      <p>
        Scheme <code>{s.scheme.type}</code> · created <When at={s.createdAt} /> · updated <When at={s.updatedAt} />
      </p>
      <table>
        <caption>Secrets of {s.id}</caption>
        <thead>
          <tr>
            <th scope="col">Secret id</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            {canAdmin ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {s.secrets.map((k) => (
            <tr key={k.id}>
              <th scope="row">{k.id}</th>
              <td>
                <When at={k.createdAt} />
              </td>
              <td>{k.expiresAt ? <When at={k.expiresAt} /> : "never"}</td>
              <td>{k.lastUsedAt ? <When at={k.lastUsedAt} /> : "not seen"}</td>
              {canAdmin ? (
                <td>
                  <button
                    type="button"
                    class="danger"
                    disabled={s.secrets.length === 1}
                    title={s.secrets.length === 1 ? "a source keeps at least one secret" : undefined}
                    onClick={() => retire(k.id)}
                  >
                    Retire {k.id}
                  </button>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      {canAdmin ? <AddSecret source={s.id} act={act} /> : null}
    </article>
  );
}

function AddSecret({ source, act }: { source: string; act: Act }) {
  const { api } = useSession();
  const [id, setId] = useState("");
  const submit = (event: Event) => {
    event.preventDefault();
    act(async () => {
      const answer = unwrap(
        await api.POST("/v1/sources/{id}/secrets", { params: { path: { id: source } }, body: { id: id.trim() } }),
      );
      setId("");
      return {
        message: `Secret ${answer.secret.id} added to ${source}.`,
        made: answer.value ? [{ label: `Secret ${answer.secret.id} of ${source}`, value: answer.value }] : [],
      };
    });
  };
  return (
    <form class="inline" onSubmit={submit} aria-label={`Add a secret to ${source}`}>
      <label for={`add-secret-${source}`}>New secret id</label>
      <input
        id={`add-secret-${source}`}
        required
        pattern="[A-Za-z0-9_.\-]{1,64}"
        value={id}
        onInput={(e) => setId(e.currentTarget.value)}
      />
      <button type="submit">Add secret</button>
    </form>
  );
}

/** Create a source; the server makes its first secret and shows the value once. */
function CreateSource({ act }: { act: Act }) {
  const { api } = useSession();
  const [id, setId] = useState("");
  const [scheme, setScheme] = useState<SchemeType>("webhook-hmac-sha256");
  const submit = (event: Event) => {
    event.preventDefault();
    act(async () => {
      // Settings the form does not name keep the API's defaults (the document lists them as required).
      const body = { id: id.trim(), scheme: { type: scheme } } as SourceCreate;
      const answer = unwrap(await api.POST("/v1/sources", { body }));
      setId("");
      return {
        message: `Source ${answer.source.id} created.`,
        made: answer.secrets.map((k) => ({ label: `Secret ${k.id} of ${answer.source.id}`, value: k.value })),
      };
    });
  };
  return (
    <section aria-labelledby="create-source">
      <h2 id="create-source">New source</h2>
      <form class="grid" onSubmit={submit}>
        <Field
          id="source-id"
          label="Id"
          required
          pattern="[a-z][a-z0-9_\-]{0,31}"
          hint="lower-case, e.g. shop"
          value={id}
          onInput={(e) => setId(e.currentTarget.value)}
        />
        <div class="field">
          <label for="source-scheme">Signature scheme</label>
          <select id="source-scheme" value={scheme} onChange={(e) => setScheme(e.currentTarget.value as SchemeType)}>
            {SCHEMES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div class="actions">
          <button type="submit">Create source</button>
        </div>
      </form>
    </section>
  );
}
