import { useEffect, useRef, useState } from "preact/hooks";
import { unwrap, type Answer, type ApiError } from "../api/client";
import { Field } from "../components";
import { useSession } from "../session";

type Preview = Answer<"/v1/subscriptions/preview", "post", 200>;

/** How long the typing rests before the preview asks the API. */
export const PREVIEW_DEBOUNCE_MS = 400;

/** "filter: …" → the message without the field the API put in front (the field is said apart). */
const withoutField = (error: ApiError) =>
  error.field && error.message.startsWith(`${error.field}: `)
    ? error.message.slice(error.field.length + 2)
    : error.message;

/**
 * The filter and transform being edited, checked as they are typed: `POST /v1/subscriptions/preview`
 * (debounced) compiles them in the delivery sandbox and runs them on a real event (the newest, or
 * the one whose key is given); a refusal shows inline with its field, a result with the body the
 * endpoint would be sent. The newest answer wins: an earlier request answering late is dropped.
 */
export function FilterPreview({
  filter,
  transform,
  enriched,
}: {
  filter: string;
  transform: string;
  enriched?: boolean;
}) {
  const { api } = useSession();
  const [eventKey, setEventKey] = useState("");
  const [result, setResult] = useState<Preview>();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const latest = useRef(0);
  useEffect(() => {
    const asked = ++latest.current;
    if (filter.trim() === "" && transform.trim() === "") {
      setResult(undefined);
      setError(undefined);
      return;
    }
    const timer = setTimeout(() => {
      setBusy(true);
      const body = {
        ...(filter.trim() ? { filter: filter.trim() } : {}),
        ...(transform.trim() ? { transform: transform.trim() } : {}),
        ...(enriched ? { enriched } : {}),
        ...(eventKey.trim() ? { eventKey: eventKey.trim() } : {}),
      };
      void api
        .POST("/v1/subscriptions/preview", { body })
        .then((answer) => {
          if (asked !== latest.current) return;
          setResult(unwrap(answer));
          setError(undefined);
        })
        .catch((err: unknown) => {
          if (asked !== latest.current) return;
          setResult(undefined);
          setError(err as ApiError);
        })
        .finally(() => asked === latest.current && setBusy(false));
    }, PREVIEW_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [filter, transform, enriched, eventKey, api]);
  return (
    <section aria-labelledby="preview" class="preview">
      <h3 id="preview">Preview on a recent event</h3>
      <Field
        id="preview-event"
        label="Event key"
        hint="empty: the newest event in the warehouse"
        value={eventKey}
        onInput={(e) => setEventKey((e.currentTarget as HTMLInputElement).value)}
      />
      <div aria-live="polite">
        {busy ? <p class="muted">Checking…</p> : null}
        {error ? (
          <p class="error" role="alert" data-testid="preview-error">
            {error.field ? (
              <strong>
                {error.field === "filter" ? "Filter" : error.field === "transform" ? "Transform" : "Event key"}:{" "}
              </strong>
            ) : null}
            {withoutField(error)}
          </p>
        ) : null}
        {result && !error ? <PreviewResult result={result} /> : null}
      </div>
    </section>
  );
}

function PreviewResult({ result }: { result: Preview }) {
  return (
    <div data-testid="preview-result">
      <p>
        On <code>{result.event.key}</code> ({result.event.type}):{" "}
        <strong data-testid="preview-matches">
          {result.failure ? "would be dead-lettered" : result.matches ? "sent" : "not sent"}
        </strong>
      </p>
      {result.failure ? (
        <p class="error" role="alert">
          {result.failure.code}: {result.failure.detail}
        </p>
      ) : null}
      {result.output !== null ? (
        <>
          <p>The endpoint would receive:</p>
          <pre data-testid="preview-output">{result.output}</pre>
        </>
      ) : null}
    </div>
  );
}
