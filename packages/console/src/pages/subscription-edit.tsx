import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { unwrap, type ApiError, type Body, type Subscription } from "../api/client";
import { Field } from "../components";
import { ChangeError, ifMatch, listOf } from "../revision";
import { useSession } from "../session";
import { FilterPreview } from "./subscription-preview";

type Patch = Body<"/v1/subscriptions/{id}", "patch">;

const RETRY = [
  ["maxAttempts", "Attempts before the dead-letter queue"],
  ["initialDelayMs", "First backoff (ms)"],
  ["maxDelayMs", "Longest backoff (ms)"],
  ["maxRetryAfterMs", "Longest Retry-After honoured (ms)"],
] as const;
const BREAKER = [
  ["failuresToOpen", "No-answer attempts in a row that open it"],
  ["failureRateToOpen", "Failure rate that opens it (0–1)"],
  ["minimumAttempts", "Attempts before the rate counts"],
  ["windowMs", "Window (ms)"],
  ["halfOpenAfterMs", "First probe after (ms)"],
  ["maxHalfOpenAfterMs", "Longest wait between probes (ms)"],
  ["pauseAfterMs", "Pause after open for (ms; 0 never)"],
] as const;

type TextField =
  "url" | "sources" | "types" | "filter" | "transform" | "headers" | "perSecond" | "burst" | "paused" | "pauseReason";
/** The form's values as text (numbers of the retry and breaker groups as "retry.maxAttempts"…). */
type Form = Record<string, string> & Record<TextField, string>;

function formOf(s: Subscription): Form {
  const form: Form = {
    url: s.url,
    sources: s.sources.join(", "),
    types: s.types.join(", "),
    filter: s.filter ?? "",
    transform: s.transform ?? "",
    headers: Object.entries(s.headers)
      .map(([k, v]) => `${k}: ${v}`)
      .join("\n"),
    perSecond: s.rateLimit ? String(s.rateLimit.perSecond) : "",
    burst: s.rateLimit?.burst !== undefined ? String(s.rateLimit.burst) : "",
    paused: s.paused ? "yes" : "",
    pauseReason: "",
  };
  for (const [k] of RETRY) form[`retry.${k}`] = String(s.retry[k]);
  for (const [k] of BREAKER) form[`breaker.${k}`] = String(s.breaker[k]);
  return form;
}

/** "Name: value" lines as a headers object. */
function headersOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf(":");
    if (line.trim() === "") continue;
    if (at <= 0) throw new Error(`A header line needs "Name: value": ${line}`);
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const numbers = <K extends string>(form: Form, group: string, keys: readonly (readonly [K, string])[]) =>
  Object.fromEntries(keys.map(([k]) => [k, Number(form[`${group}.${k}`])])) as Record<K, number>;

/** The PATCH body of what the form changed: only changed fields; an emptied filter or transform is null. */
export function changeOf(form: Form, s: Subscription): Patch {
  const change: Patch = {};
  if (form.url.trim() !== s.url) change.url = form.url.trim();
  if (!same(listOf(form.sources), s.sources)) change.sources = listOf(form.sources);
  if (!same(listOf(form.types), s.types)) change.types = listOf(form.types);
  for (const name of ["filter", "transform"] as const) {
    const text = form[name]!.trim();
    if (text !== (s[name] ?? "")) change[name] = text === "" ? null : text;
  }
  const headers = headersOf(form.headers!);
  if (!same(headers, s.headers)) change.headers = headers;
  const retry = numbers(form, "retry", RETRY);
  if (!same(retry, numbers(formOf(s), "retry", RETRY))) change.retry = retry;
  const breaker = numbers(form, "breaker", BREAKER);
  if (!same(breaker, numbers(formOf(s), "breaker", BREAKER))) change.breaker = breaker;
  const rate = form.perSecond
    ? { perSecond: Number(form.perSecond), ...(form.burst ? { burst: Number(form.burst) } : {}) }
    : null;
  if (!same(rate, s.rateLimit ?? null)) change.rateLimit = rate;
  return change;
}

/**
 * The edit form: a PATCH of the fields changed, with `If-Match` the revision the form was filled
 * from (a change made meanwhile is a clear conflict, not overwritten); pausing and resuming go
 * through their own routes (a PATCH does not take `paused`).
 */
export function EditSubscription({
  subscription: s,
  reload,
  saved,
  onSaved,
}: {
  subscription: Subscription;
  reload: () => void;
  /** What the last save said (kept by the page: this form is made again for each revision). */
  saved: string | undefined;
  /** Told after a save; it reloads the subscription (this form is made again from the new revision). */
  onSaved: (message: string) => void;
}) {
  const { api } = useSession();
  const [form, setForm] = useState(() => formOf(s));
  const [error, setError] = useState<ApiError>();
  const [message, setMessage] = useState<string | undefined>(saved);
  const set = (name: string) => (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    setForm({ ...form, [name]: input.type === "checkbox" ? (input.checked ? "yes" : "") : input.value });
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setMessage(undefined);
    const path = { params: { path: { id: s.id } } };
    try {
      const change = changeOf(form, s);
      const pause = (form.paused === "yes") !== s.paused;
      if (Object.keys(change).length === 0 && !pause) return setMessage("Nothing changed.");
      if (Object.keys(change).length > 0)
        unwrap(await api.PATCH("/v1/subscriptions/{id}", { ...path, body: change, headers: ifMatch(s.revision) }));
      if (pause && form.paused === "yes")
        unwrap(
          await api.POST("/v1/subscriptions/{id}/pause", {
            ...path,
            body: { reason: form.pauseReason || "paused from the console" },
          }),
        );
      else if (pause) unwrap(await api.POST("/v1/subscriptions/{id}/resume", { ...path, body: {} }));
      onSaved(`${s.id} saved.`);
    } catch (err) {
      setError(err instanceof Error ? { status: 0, code: "invalid_form", message: err.message } : (err as ApiError));
    }
  };
  return (
    <section aria-labelledby="edit">
      <h2 id="edit">Edit</h2>
      <form onSubmit={(e) => void submit(e)} aria-label={`Edit ${s.id}`}>
        <SubscriptionFields form={form} set={set} />
        <div class="actions">
          <button type="submit">Save changes</button>
        </div>
      </form>
      <FilterPreview filter={form.filter} transform={form.transform} enriched={s.enriched} />
      {message ? <p role="status">{message}</p> : null}
      <ChangeError error={error} what={`subscription ${s.id}`} revision={s.revision} reload={reload} />
    </section>
  );
}

function SubscriptionFields({ form, set }: { form: Form; set: (name: string) => (e: Event) => void }) {
  const area = (name: string, label: string, hint: string) => (
    <div class="field wide">
      <label for={`edit-${name}`}>{label}</label>
      <textarea
        id={`edit-${name}`}
        rows={3}
        value={form[name]}
        onInput={set(name)}
        aria-describedby={`edit-${name}-hint`}
      />
      <small id={`edit-${name}-hint`} class="hint">
        {hint}
      </small>
    </div>
  );
  const num = (group: string, [k, label]: readonly [string, string]) => (
    <Field
      key={k}
      id={`edit-${group}-${k}`}
      label={label}
      type="number"
      step="any"
      required
      value={form[`${group}.${k}`]}
      onInput={set(`${group}.${k}`)}
    />
  );
  return (
    <>
      <div class="grid">
        <Field id="edit-url" label="Endpoint URL" type="url" required value={form.url} onInput={set("url")} />
        <Field
          id="edit-sources"
          label="Sources"
          hint="comma-separated; empty takes every source"
          value={form.sources}
          onInput={set("sources")}
        />
        <Field
          id="edit-types"
          label="Event types"
          hint="comma-separated; empty takes every type"
          value={form.types}
          onInput={set("types")}
        />
      </div>
      {area(
        "filter",
        "Filter",
        "a JSONata expression over {key, source, type, region, receivedAt, body}; empty removes it",
      )}
      {area("transform", "Transform", "JavaScript defining function transform(event); empty removes it")}
      {area("headers", "Headers", 'one "Name: value" a line, added to every request (no credentials)')}
      <LimitFields form={form} set={set} num={num} />
    </>
  );
}

type NumField = (group: string, field: readonly [string, string]) => JSX.Element;

function LimitFields({ form, set, num }: { form: Form; set: (name: string) => (e: Event) => void; num: NumField }) {
  return (
    <>
      <fieldset class="grid">
        <legend>Retry</legend>
        {RETRY.map((r) => num("retry", r))}
      </fieldset>
      <fieldset class="grid">
        <legend>Circuit breaker</legend>
        {BREAKER.map((b) => num("breaker", b))}
      </fieldset>
      <fieldset class="grid">
        <legend>Rate limit</legend>
        <Field
          id="edit-perSecond"
          label="Requests per second"
          type="number"
          min={0}
          step="any"
          hint="empty: no limit"
          value={form.perSecond}
          onInput={set("perSecond")}
        />
        <Field
          id="edit-burst"
          label="Burst"
          type="number"
          min={1}
          hint="empty: the rate"
          value={form.burst}
          onInput={set("burst")}
        />
      </fieldset>
      <fieldset class="grid">
        <legend>Deliveries</legend>
        <div class="field check">
          <input id="edit-paused" type="checkbox" checked={form.paused === "yes"} onChange={set("paused")} />
          <label for="edit-paused">Paused</label>
        </div>
        <Field
          id="edit-pauseReason"
          label="Why paused"
          hint="kept with the pause"
          value={form.pauseReason}
          onInput={set("pauseReason")}
        />
      </fieldset>
    </>
  );
}
