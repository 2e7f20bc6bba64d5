import { useState } from "preact/hooks";
import { unwrap, type ApiError, type Body, type Subscription, type TestSend } from "../api/client";
import { ErrorNote, Field, PageHeading, SecretOnce, useLoad, When } from "../components";
import { href } from "../router";
import { useSession } from "../session";
import { HealthCell } from "./subscription-health";

/** A comma-separated list as the API's array ("" is none). */
function listOf(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** What the page says after an action: a line for everyone (role=status), or the API's refusal. */
interface Outcome {
  message?: string;
  error?: ApiError;
}

/** Webhook subscriptions: their state, and (write scope) create, test, pause, resume, delete. */
export function SubscriptionsPage() {
  const { api, canWrite } = useSession();
  const list = useLoad(async () => unwrap(await api.GET("/v1/subscriptions")).data, "subscriptions");
  const [outcome, setOutcome] = useState<Outcome>({});
  const [tested, setTested] = useState<{ id: string; answer: TestSend }>();
  const act = async (what: () => Promise<string>) => {
    setOutcome({});
    try {
      setOutcome({ message: await what() });
    } catch (err) {
      setOutcome({ error: err as ApiError });
    }
    list.reload();
  };
  return (
    <>
      <PageHeading title="Subscriptions">Subscriptions</PageHeading>
      {canWrite ? <CreateSubscription onCreated={list.reload} /> : null}
      <section aria-labelledby="subscriptions-list">
        <h2 id="subscriptions-list">All subscriptions</h2>
        {outcome.message ? <p role="status">{outcome.message}</p> : null}
        <ErrorNote error={outcome.error ?? list.error} />
        {tested ? <TestResult id={tested.id} answer={tested.answer} /> : null}
        {list.data ? (
          <SubscriptionTable
            subscriptions={list.data}
            act={(what) => void act(what)}
            onTested={(id, answer) => setTested({ id, answer })}
          />
        ) : (
          <p role="status">Loading…</p>
        )}
      </section>
    </>
  );
}

function TestResult({ id, answer }: { id: string; answer: TestSend }) {
  return (
    <div class={answer.delivered ? "note ok" : "note bad"} role="status" data-testid="test-result">
      <p>
        Test send to <strong>{id}</strong>: {answer.delivered ? "delivered" : "not delivered"}, the endpoint answered{" "}
        <strong>{answer.status === 0 ? "nothing" : `HTTP ${answer.status}`}</strong> in {Math.round(answer.latencyMs)}{" "}
        ms.
      </p>
      {answer.error ? <p>Error: {answer.error}</p> : null}
      {answer.response ? <pre>{answer.response}</pre> : null}
      <p class="muted">webhook-id {answer.webhookId}</p>
    </div>
  );
}

interface TableProps {
  subscriptions: Subscription[];
  act: (what: () => Promise<string>) => void;
  onTested: (id: string, answer: TestSend) => void;
}

function SubscriptionTable({ subscriptions, act, onTested }: TableProps) {
  const { canWrite } = useSession();
  if (subscriptions.length === 0) return <p>No subscriptions yet.</p>;
  return (
    <div class="table-wrap">
      <table>
        <caption>Webhook subscriptions</caption>
        <thead>
          <tr>
            <th scope="col">Id</th>
            <th scope="col">Endpoint</th>
            <th scope="col">Sources</th>
            <th scope="col">State</th>
            <th scope="col">Health (last hour)</th>
            <th scope="col">Signing secrets</th>
            <th scope="col">Updated</th>
            {canWrite ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {subscriptions.map((s) => (
            <tr key={s.id} data-testid={`subscription-${s.id}`}>
              <th scope="row">
                <a href={href(["subscriptions", s.id])}>{s.id}</a>
              </th>
              <td>{s.url}</td>
              <td>{s.sources.length === 0 ? "every source" : s.sources.join(", ")}</td>
              <td data-testid="state">
                {s.paused ? `paused${s.pausedReason ? ` (${s.pausedReason})` : ""}` : "active"}
              </td>
              <td data-testid="health">
                <HealthCell health={s.health} />
              </td>
              <td>{s.signingSecrets.map((k) => k.id).join(", ")}</td>
              <td>
                <When at={s.updatedAt} />
              </td>
              {canWrite ? (
                <td>
                  <RowActions subscription={s} act={act} onTested={onTested} />
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RowActions({
  subscription: s,
  act,
  onTested,
}: { subscription: Subscription } & Omit<TableProps, "subscriptions">) {
  const { api } = useSession();
  const [confirming, setConfirming] = useState(false);
  const path = { params: { path: { id: s.id } } };
  const test = () =>
    act(async () => {
      const answer = unwrap(await api.POST("/v1/subscriptions/{id}/test", path));
      onTested(s.id, answer);
      return `Test sent to ${s.id}.`;
    });
  const toggle = () =>
    act(async () => {
      if (s.paused) unwrap(await api.POST("/v1/subscriptions/{id}/resume", { ...path, body: {} }));
      else
        unwrap(
          await api.POST("/v1/subscriptions/{id}/pause", { ...path, body: { reason: "paused from the console" } }),
        );
      return `${s.id} ${s.paused ? "resumed" : "paused"}.`;
    });
  const remove = () =>
    act(async () => {
      unwrap(await api.DELETE("/v1/subscriptions/{id}", path));
      return `${s.id} deleted.`;
    });
  if (confirming)
    return (
      <div class="buttons" role="group" aria-label={`Delete ${s.id}?`}>
        <button type="button" class="danger" onClick={remove}>
          Delete {s.id} for good
        </button>
        <button type="button" onClick={() => setConfirming(false)}>
          Keep it
        </button>
      </div>
    );
  return (
    <div class="buttons" role="group" aria-label={`Actions for ${s.id}`}>
      <button type="button" onClick={test}>
        Send test
      </button>
      <button type="button" onClick={toggle}>
        {s.paused ? "Resume" : "Pause"}
      </button>
      <button type="button" class="danger" onClick={() => setConfirming(true)}>
        Delete…
      </button>
    </div>
  );
}

type CreateBody = Body<"/v1/subscriptions", "post">;

/** The create form; the signing secret comes back in this answer only, so it is shown once here. */
function CreateSubscription({ onCreated }: { onCreated: () => void }) {
  const { api } = useSession();
  const [form, setForm] = useState({ id: "", url: "", sources: "", types: "", description: "" });
  const [created, setCreated] = useState<{ id: string; secret: string }>();
  const [error, setError] = useState<ApiError>();
  const set = (name: keyof typeof form) => (e: Event) =>
    setForm({ ...form, [name]: (e.currentTarget as HTMLInputElement).value });
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    // Settings the form does not name keep the API's defaults (the document lists them as required).
    const body = {
      id: form.id.trim(),
      url: form.url.trim(),
      sources: listOf(form.sources),
      types: listOf(form.types),
      ...(form.description.trim() ? { description: form.description.trim() } : {}),
    } as CreateBody;
    try {
      const answer = unwrap(await api.POST("/v1/subscriptions", { body }));
      setCreated({ id: answer.subscription.id, secret: answer.signingSecret });
      setForm({ id: "", url: "", sources: "", types: "", description: "" });
      onCreated();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section aria-labelledby="create-subscription">
      <h2 id="create-subscription">New subscription</h2>
      <form onSubmit={(e) => void submit(e)} class="grid">
        <Field
          id="sub-id"
          label="Id"
          required
          pattern="[a-z][a-z0-9_\-]{0,31}"
          hint="lower-case, e.g. crm"
          value={form.id}
          onInput={set("id")}
        />
        <Field id="sub-url" label="Endpoint URL" type="url" required value={form.url} onInput={set("url")} />
        <Field
          id="sub-sources"
          label="Sources"
          hint="comma-separated; empty takes every source"
          value={form.sources}
          onInput={set("sources")}
        />
        <Field
          id="sub-types"
          label="Event types"
          hint="comma-separated; empty takes every type"
          value={form.types}
          onInput={set("types")}
        />
        <Field id="sub-description" label="Description" value={form.description} onInput={set("description")} />
        <div class="actions">
          <button type="submit">Create subscription</button>
        </div>
      </form>
      <ErrorNote error={error} />
      {created ? <SecretOnce label={`Signing secret of ${created.id}`} value={created.secret} /> : null}
    </section>
  );
}
