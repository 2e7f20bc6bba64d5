import { useState } from "preact/hooks";
import { unwrap, type Answer, type ApiError, type Body, type Subscription } from "../api/client";
import { ErrorNote, Field, SecretOnce } from "../components";
import { listOf } from "../revision";
import { useSession } from "../session";
import { localInput } from "./events";

const DAY = 86_400;

/** A new signing secret (shown once); the current ones keep signing for the overlap, so receivers can switch. */
export function RotateSecret({ id, reload }: { id: string; reload: () => void }) {
  const { api } = useSession();
  const [overlap, setOverlap] = useState(String(DAY));
  const [made, setMade] = useState<{ id: string; value: string }>();
  const [error, setError] = useState<ApiError>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setMade(undefined);
    try {
      const answer = unwrap(
        await api.POST("/v1/subscriptions/{id}/rotate-secret", {
          params: { path: { id } },
          body: { overlapSeconds: Number(overlap) },
        }),
      );
      setMade({ id: answer.secret.id, value: answer.signingSecret });
      reload();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section aria-labelledby="rotate">
      <h2 id="rotate">Rotate the signing secret</h2>
      <form class="inline" onSubmit={(e) => void submit(e)}>
        <Field
          id="rotate-overlap"
          label="Overlap (seconds)"
          type="number"
          min={0}
          max={30 * DAY}
          required
          hint="how long the current secrets keep signing too (a day by default)"
          value={overlap}
          onInput={(e) => setOverlap(e.currentTarget.value)}
        />
        <button type="submit">Rotate secret</button>
      </form>
      <ErrorNote error={error} />
      {made ? <SecretOnce label={`New signing secret ${made.id} of ${id}`} value={made.value} /> : null}
    </section>
  );
}

type BulkBody = Body<"/v1/subscriptions/{id}/resend-bulk", "post">;
type BulkAnswer = Answer<"/v1/subscriptions/{id}/resend-bulk", "post", 200>;

function initialRange() {
  const now = Date.now();
  return { from: localInput(new Date(now - 3_600_000).toISOString()), to: localInput(new Date(now).toISOString()) };
}

/** The request of the form: the same for the count and for the resend. */
function bulkBody(form: Record<string, string>, dryRun: boolean): BulkBody {
  const sources = listOf(form.sources ?? "");
  const types = listOf(form.types ?? "");
  return {
    from: new Date(form.from!).toISOString(),
    to: new Date(form.to!).toISOString(),
    ...(sources.length ? { sources } : {}),
    ...(types.length ? { types } : {}),
    ...(form.outcome === "delivered" || form.outcome === "failed" ? { outcome: form.outcome } : {}),
    dryRun,
    limit: 10_000,
  };
}

/**
 * Resend events in bulk: a dry run counts what the filters match first, then a confirm resends
 * exactly that request (each event again with its webhook-id). Changing a filter asks for a new count.
 */
export function BulkResend({ subscription: s }: { subscription: Subscription }) {
  const { api } = useSession();
  const [form, setForm] = useState<Record<string, string>>(() => ({
    ...initialRange(),
    sources: "",
    types: "",
    outcome: "",
  }));
  const [counted, setCounted] = useState<{ body: BulkBody; answer: BulkAnswer }>();
  const [done, setDone] = useState<BulkAnswer>();
  const [error, setError] = useState<ApiError>();
  const set = (name: string) => (e: Event) => {
    setForm({ ...form, [name]: (e.currentTarget as HTMLInputElement).value });
    setCounted(undefined);
  };
  const send = async (body: BulkBody) => {
    setError(undefined);
    setDone(undefined);
    try {
      const answer = unwrap(
        await api.POST("/v1/subscriptions/{id}/resend-bulk", { params: { path: { id: s.id } }, body }),
      );
      if (body.dryRun) setCounted({ body, answer });
      else {
        setDone(answer);
        setCounted(undefined);
      }
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section aria-labelledby="bulk">
      <h2 id="bulk">Resend in bulk</h2>
      <p class="muted">
        Events stored in the hub stream between the two times (event subjects of this subscription&apos;s sources and
        types).
      </p>
      <BulkFilters form={form} set={set} count={() => void send(bulkBody(form, true))} />
      <ErrorNote error={error} />
      {counted ? (
        <Counted
          counted={counted}
          resend={() => void send({ ...counted.body, dryRun: false })}
          cancel={() => setCounted(undefined)}
        />
      ) : null}
      {done ? (
        <p role="status" data-testid="bulk-done">
          Resent {done.resent} events to {s.id}.
        </p>
      ) : null}
    </section>
  );
}

interface FiltersProps {
  form: Record<string, string>;
  set: (name: string) => (e: Event) => void;
  count: () => void;
}

function BulkFilters({ form, set, count }: FiltersProps) {
  return (
    <form
      class="grid"
      onSubmit={(e) => {
        e.preventDefault();
        count();
      }}
    >
      <Field
        id="bulk-from"
        label="Stored from"
        type="datetime-local"
        step={1}
        required
        value={form.from}
        onInput={set("from")}
      />
      <Field
        id="bulk-to"
        label="Stored until"
        type="datetime-local"
        step={1}
        required
        value={form.to}
        onInput={set("to")}
      />
      <Field
        id="bulk-sources"
        label="Only sources"
        hint="comma-separated; empty: the subscription's"
        value={form.sources}
        onInput={set("sources")}
      />
      <Field
        id="bulk-types"
        label="Only types"
        hint="comma-separated; empty: the subscription's"
        value={form.types}
        onInput={set("types")}
      />
      <div class="field">
        <label for="bulk-outcome">Last outcome</label>
        <select id="bulk-outcome" value={form.outcome} onChange={set("outcome")}>
          <option value="">any</option>
          <option value="delivered">delivered</option>
          <option value="failed">failed (dead-lettered)</option>
        </select>
      </div>
      <div class="actions">
        <button type="submit">Count matching events</button>
      </div>
    </form>
  );
}

function Counted({
  counted,
  resend,
  cancel,
}: {
  counted: { body: BulkBody; answer: BulkAnswer };
  resend: () => void;
  cancel: () => void;
}) {
  const { matched, scanned, truncated } = counted.answer;
  return (
    <div class="note" role="status" data-testid="bulk-count" data-request={JSON.stringify(counted.body)}>
      <p>
        Dry run: <strong data-testid="bulk-matched">{matched}</strong> events match ({scanned} messages of the hub
        stream read
        {truncated ? "; stopped at the limit, there may be more" : ""}). Nothing was sent.
      </p>
      {matched > 0 ? (
        <div class="buttons" role="group" aria-label="Confirm the resend">
          <button type="button" class="danger" onClick={resend}>
            Resend {matched} events
          </button>
          <button type="button" onClick={cancel}>
            Cancel
          </button>
        </div>
      ) : null}
    </div>
  );
}
