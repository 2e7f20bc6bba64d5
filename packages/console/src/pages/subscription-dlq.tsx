import { unwrap } from "../api/client";
import { ErrorNote, useLoad } from "../components";
import { useSession } from "../session";
import { DeadLetterDetail, DeadLetterList, DeadLetterPager, useDlqPage, type DeadLetterActions } from "./dead-letter";

const PAGE_SIZE = 50;

/**
 * A subscription's dead letters (its DLQ tab): listed oldest first, one inspected; with a write
 * token replayed to this subscription only (its filter, transform and signature as any delivery)
 * with the body as shown or corrected, or dropped.
 */
export function SubscriptionDlq({ id, query }: { id: string; query: URLSearchParams }) {
  const { api, canWrite } = useSession();
  const { entry, from, list, notice, actions, page } = useDlqPage(query, {
    parts: ["subscriptions", id, "dlq"],
    list: async (fromSeq) =>
      unwrap(
        await api.GET("/v1/subscriptions/{id}/dlq", {
          params: { path: { id }, query: { fromSeq, limit: PAGE_SIZE } },
        }),
      ),
    canChange: canWrite,
    replay: async (seq, body) => {
      const answer = unwrap(
        await api.POST("/v1/subscriptions/{id}/dlq/{seq}/replay", {
          params: { path: { id, seq } },
          body: body === undefined ? {} : { body },
        }),
      );
      return `Dead letter #${answer.seq} (${answer.eventKey}) sent to ${id} again${answer.corrected ? ", corrected" : ""}.`;
    },
    drop: async (seq) => {
      unwrap(await api.DELETE("/v1/subscriptions/{id}/dlq/{seq}", { params: { path: { id, seq } } }));
      return `Dead letter #${seq} dropped.`;
    },
  });
  return (
    <section aria-labelledby="dlq-heading">
      <h2 id="dlq-heading">Dead letters</h2>
      <p class="hint">
        Events this subscription's endpoint did not take (refused, out of attempts, or its filter or transform failed),
        kept 30 days. A replay sends one to this subscription only, with the same webhook-id.
      </p>
      {notice ? <p role="status">{notice}</p> : null}
      <ErrorNote error={list.error} />
      {list.data ? (
        <>
          <p data-testid="dlq-total">
            {list.data.total === null
              ? "Entries of the sources this token reads."
              : `${list.data.total} ${list.data.total === 1 ? "entry" : "entries"} in this subscription's DLQ.`}
          </p>
          <DeadLetterList
            caption={`Dead letters of ${id}, oldest first`}
            heads={["Source", "Status", "Attempts"]}
            rows={list.data.data.map((e) => ({
              ...e,
              cells: [e.source, e.status === 0 ? "no answer" : `HTTP ${e.status}`, e.attempts],
            }))}
            link={(seq) => page({ from, entry: seq })}
            selected={entry}
          />
          <DeadLetterPager
            first={from ? page({}) : undefined}
            next={list.data.nextSeq ? page({ from: list.data.nextSeq }) : undefined}
          />
        </>
      ) : (
        <p role="status">Loading…</p>
      )}
      {entry ? (
        <SubscriptionDlqEntry key={entry} id={id} seq={entry} actions={actions} closeHref={page({ from })} />
      ) : null}
    </section>
  );
}

function SubscriptionDlqEntry(props: {
  id: string;
  seq: number;
  actions: DeadLetterActions | undefined;
  closeHref: string;
}) {
  const { api } = useSession();
  const { id, seq } = props;
  const shown = useLoad(
    async () => unwrap(await api.GET("/v1/subscriptions/{id}/dlq/{seq}", { params: { path: { id, seq } } })),
    `dlq-${id}-${seq}`,
  );
  if (shown.error) return <ErrorNote error={shown.error} />;
  const e = shown.data;
  if (!e) return <p role="status">Loading dead letter #{seq}…</p>;
  return (
    <DeadLetterDetail
      entry={{
        ...e,
        replayable: true,
        facts: [
          ["Source, type", `${e.source} ${e.eventType}`],
          ["Endpoint answered", e.status === 0 ? "nothing" : `HTTP ${e.status}`],
          ["Attempts", e.attempts],
          ["Answer", e.response ? <code>{e.response}</code> : "none"],
        ],
      }}
      actions={props.actions}
      closeHref={props.closeHref}
    />
  );
}
