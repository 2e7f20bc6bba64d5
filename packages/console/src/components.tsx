import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { ApiError } from "./api/client";

/** The first page after a load keeps the browser's focus (the skip link comes first); later ones take it. */
let loaded = false;

/**
 * A page's one h1. It takes the focus when the user moves to the page (a screen reader announces
 * the new page, the keyboard starts from it), not on the first page of a load, and names the document.
 */
export function PageHeading({ children, title }: { children: ComponentChildren; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Tributary console`;
    if (loaded) ref.current?.focus();
    loaded = true;
  }, [title]);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** A refusal or failure, announced (role=alert), with the API's code and the field at fault. */
export function ErrorNote({ error }: { error: ApiError | Error | undefined }) {
  if (!error) return null;
  const api = "code" in error ? error : undefined;
  return (
    <p class="error" role="alert">
      {api ? (
        <>
          <strong>{api.code}</strong> ({api.status}): {api.message}
          {api.field ? ` (field: ${api.field})` : ""}
        </>
      ) : (
        error.message
      )}
    </p>
  );
}

/** A secret value the API shows this once: in full, with a copy button, and said so. */
export function SecretOnce({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(value).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <div class="secret" role="status">
      <p>
        <strong>{label}</strong>: shown this once, copy it now.
      </p>
      <code data-testid="secret-value">{value}</code>{" "}
      <button type="button" onClick={() => void copy()}>
        {copied ? "Copied" : "Copy"}
      </button>
    </div>
  );
}

/** A labelled input: the label names the field for everyone (no placeholder-only fields). */
export function Field(props: { label: string; hint?: string; id: string } & JSX.InputHTMLAttributes<HTMLInputElement>) {
  const { label, hint, id, ...input } = props;
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} {...input} {...(hintId ? { "aria-describedby": hintId } : {})} />
      {hint ? (
        <small id={hintId} class="hint">
          {hint}
        </small>
      ) : null}
    </div>
  );
}

export interface Loaded<T> {
  data?: T | undefined;
  error?: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** Loads `load()` when `key` changes (and on reload), keeping the last answer while the next comes. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError | Error; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false }),
      (error: ApiError | Error) => current && setState({ error, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { ...state, reload };
}

/** Dates as the operator reads them: local time, to the second, with the ISO value on hover. */
export function When({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">—</span>;
  const date = new Date(at);
  return (
    <time dateTime={at} title={at}>
      {date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" })}
    </time>
  );
}
