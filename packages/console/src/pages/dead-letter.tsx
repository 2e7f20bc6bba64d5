import { Fragment, type ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import type { ApiError } from "../api/client";
import { ErrorNote, useLoad, When, type Loaded } from "../components";
import { href, navigate } from "../router";

/**
 * What both DLQ pages share (a subscription's dead letters, the loader's): the list of entries, one
 * entry inspected (why, its headers, its body), and its replay (the body editable: a changed body is
 * sent as the correction) and drop (after a confirmation). The buttons show only where the token's
 * scope can use them: the pages say so with `canChange`.
 */

/** A row of a DLQ list: its sequence (the entry's id), the event's key, why, when, and the page's own cells. */
export interface DeadLetterRow {
  seq: number;
  eventKey: string;
  reason: string;
  at: string;
  cells: ComponentChildren[];
}

/** The entries of one DLQ, oldest first; each key opens the entry (`entry=<seq>` in the page's URL). */
export function DeadLetterList(props: {
  caption: string;
  heads: string[];
  rows: DeadLetterRow[];
  link: (seq: number) => string;
  selected: number | undefined;
}) {
  if (props.rows.length === 0) return <p data-testid="dlq-empty">No dead letters.</p>;
  return (
    <div class="table-wrap">
      <table data-testid="dlq-list">
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Entry</th>
            <th scope="col">Event key</th>
            {props.heads.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
            <th scope="col">Reason</th>
            <th scope="col">Set aside</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={r.seq} data-testid={`dlq-${r.seq}`} class={props.selected === r.seq ? "arrived" : undefined}>
              <th scope="row">
                <a
                  href={props.link(r.seq)}
                  aria-current={props.selected === r.seq ? "true" : undefined}
                  aria-label={`Inspect dead letter ${r.seq} (${r.eventKey || "no key"})`}
                >
                  #{r.seq}
                </a>
              </th>
              <td>{r.eventKey || <span class="muted">none</span>}</td>
              {r.cells.map((c, i) => (
                <td key={i}>{c}</td>
              ))}
              <td data-testid="dlq-reason">{r.reason}</td>
              <td>
                <When at={r.at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One entry as its page shows it: what both DLQs answer, plus the page's own facts. */
export interface DeadLetterEntry {
  seq: number;
  eventKey: string;
  reason: string;
  at: string;
  headers: Record<string, string[]>;
  body: string | null;
  omittedBytes: number;
  /** False where there is nothing to replay (a delivery-log record). */
  replayable: boolean;
  facts: Array<[string, ComponentChildren]>;
}

export interface DeadLetterActions {
  /** Replays the entry, with `body` when it was changed; resolves with what to tell the user. */
  replay(body: string | undefined): Promise<string>;
  drop(): Promise<string>;
  /** Heard after a replay or a drop, with its message: the page reloads its list and closes the entry. */
  done(message: string): void;
}

/**
 * An entry inspected: its facts, reason, headers and body. With `actions` (a scope that may change
 * this DLQ) the body is an editable field and Replay and Drop are offered; without, it is shown as
 * text and nothing changes it.
 */
export function DeadLetterDetail({
  entry,
  actions,
  closeHref,
}: {
  entry: DeadLetterEntry;
  actions: DeadLetterActions | undefined;
  closeHref: string;
}) {
  const [body, setBody] = useState(entry.body ?? "");
  const editable = actions !== undefined && entry.replayable;
  return (
    <section aria-labelledby="dlq-entry" class="card" data-testid="dlq-entry">
      <h2 id="dlq-entry">Dead letter #{entry.seq}</h2>
      <p>
        <a href={closeHref}>Close</a>
      </p>
      <DeadLetterFacts entry={entry} />
      {entry.body === null ? (
        <p class="note bad" data-testid="dlq-entry-no-body">
          The entry keeps a reference to an event of {entry.omittedBytes} bytes that its origin no longer has:
          {editable ? " replay it with a body written below, or drop it." : " it cannot be shown."}
        </p>
      ) : null}
      {editable ? (
        <div class="field wide">
          <label for="dlq-body">Body to replay</label>
          <textarea
            id="dlq-body"
            rows={10}
            value={body}
            onInput={(e) => setBody((e.currentTarget as HTMLTextAreaElement).value)}
            aria-describedby="dlq-body-hint"
          />
          <small id="dlq-body-hint" class="hint">
            The event as it was set aside. Change it to replay a corrected event (a JSON object); unchanged, the entry's
            own bytes are sent.
          </small>
        </div>
      ) : entry.body !== null ? (
        <>
          <h3 class="h3">Body</h3>
          <pre tabIndex={0} aria-label={`Body of dead letter ${entry.seq}`} data-testid="dlq-entry-body">
            {entry.body}
          </pre>
        </>
      ) : null}
      {actions ? <DeadLetterButtons entry={entry} body={body} actions={actions} /> : null}
    </section>
  );
}

/** What an entry says: its key, reason, time and the page's facts, then its headers (folded). */
function DeadLetterFacts({ entry }: { entry: DeadLetterEntry }) {
  return (
    <>
      <dl class="facts">
        <dt>Event key</dt>
        <dd data-testid="dlq-entry-key">{entry.eventKey || "none"}</dd>
        <dt>Reason</dt>
        <dd data-testid="dlq-entry-reason">{entry.reason}</dd>
        <dt>Set aside</dt>
        <dd>
          <When at={entry.at} />
        </dd>
        {entry.facts.map(([name, value]) => (
          <Fragment key={name}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </Fragment>
        ))}
      </dl>
      <details>
        <summary>Headers ({Object.keys(entry.headers).length})</summary>
        <table data-testid="dlq-entry-headers">
          <caption class="sr-only">The event's headers as the DLQ keeps them</caption>
          <tbody>
            {Object.entries(entry.headers).map(([name, values]) => (
              <tr key={name}>
                <th scope="row">{name}</th>
                <td>{values.join(", ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  );
}

/** Replay (the body as shown: sent as a correction when it was changed) and drop after a confirmation. */
function DeadLetterButtons({
  entry,
  body,
  actions,
}: {
  entry: DeadLetterEntry;
  body: string;
  actions: DeadLetterActions;
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const corrected = entry.body === null || body !== entry.body;
  const run = async (what: () => Promise<string>) => {
    setBusy(true);
    setError(undefined);
    try {
      actions.done(await what());
    } catch (err) {
      setError(err as ApiError);
      setBusy(false);
    }
  };
  return (
    <>
      <div class="buttons" role="group" aria-label={`Actions for dead letter ${entry.seq}`}>
        {entry.replayable ? (
          <button
            type="button"
            disabled={busy}
            onClick={() => void run(() => actions.replay(corrected ? body : undefined))}
          >
            {corrected ? "Replay with this body" : "Replay"}
          </button>
        ) : null}
        {confirming ? (
          <>
            <button type="button" class="danger" disabled={busy} onClick={() => void run(actions.drop)}>
              Drop #{entry.seq} for good
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </>
        ) : (
          <button type="button" class="danger" disabled={busy} onClick={() => setConfirming(true)}>
            Drop…
          </button>
        )}
      </div>
      <ErrorNote error={error} />
    </>
  );
}

/** The pager of a DLQ list: the first page, and the next from the answer's `nextSeq`. */
export function DeadLetterPager({ first, next }: { first: string | undefined; next: string | undefined }) {
  if (!first && !next) return null;
  return (
    <nav class="pager" aria-label="Pages of dead letters">
      {first ? <a href={first}>First page</a> : null}
      {next ? <a href={next}>Next page</a> : null}
    </nav>
  );
}

/** The query of a DLQ page's URL: where its list starts (`from`) and the entry open (`entry`). */
export function dlqQueryOf(query: URLSearchParams): { fromSeq: number; entry: number | undefined } {
  const from = Number(query.get("from"));
  const entry = Number(query.get("entry"));
  return {
    fromSeq: Number.isSafeInteger(from) && from > 0 ? from : 1,
    entry: Number.isSafeInteger(entry) && entry > 0 ? entry : undefined,
  };
}

/** A DLQ page's href with its list position, filters and the entry open. */
export function dlqHref(parts: string[], query: Record<string, string | number | undefined>): string {
  return href(
    parts,
    Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v === undefined ? undefined : String(v)])),
  );
}

/** How a DLQ page reads and changes its DLQ: its list, and an entry's replay and drop (the API's calls). */
export interface DlqSource<T> {
  /** The page's route, and the filters kept in its URL besides the list position and the entry. */
  parts: string[];
  filters?: Record<string, string | undefined>;
  /** A page of entries from `fromSeq`. */
  list(fromSeq: number): Promise<T>;
  /** Whether the token's scope may replay and drop here. */
  canChange: boolean;
  /** Replays entry `seq` (with `body` when it was changed); resolves with what to tell the user. */
  replay(seq: number, body: string | undefined): Promise<string>;
  drop(seq: number): Promise<string>;
}

/**
 * A DLQ page's state from its URL (`from`, `entry`, its filters): the list loaded, the href of any
 * position, the last change's message, and the entry's actions for a scope that may change the DLQ
 * (after a replay or drop the list is read again and the entry closed).
 */
export function useDlqPage<T>(query: URLSearchParams, source: DlqSource<T>) {
  const { fromSeq, entry } = dlqQueryOf(query);
  const [notice, setNotice] = useState<string>();
  const from = fromSeq > 1 ? fromSeq : undefined;
  const page = (q: { from?: number; entry?: number; [filter: string]: string | number | undefined }) =>
    dlqHref(source.parts, { ...source.filters, ...q });
  const list: Loaded<T> = useLoad(
    () => source.list(fromSeq),
    `${source.parts.join("/")}?${JSON.stringify(source.filters ?? {})}&${fromSeq}`,
  );
  const actions: DeadLetterActions | undefined =
    source.canChange && entry !== undefined
      ? {
          replay: (body) => source.replay(entry, body),
          drop: () => source.drop(entry),
          done: (message) => {
            setNotice(message);
            list.reload();
            navigate(page({ from }));
          },
        }
      : undefined;
  return { entry, from, list, notice, actions, page };
}
