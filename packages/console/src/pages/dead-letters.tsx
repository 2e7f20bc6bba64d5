import { unwrap } from "../api/client";
import { ErrorNote, PageHeading, useLoad } from "../components";
import { useSession } from "../session";
import { DeadLetterDetail, DeadLetterList, DeadLetterPager, useDlqPage, type DeadLetterActions } from "./dead-letter";

const PAGE_SIZE = 50;
/** The subject token of the delivery-log records the warehouse would not store. */
const DELIVERY_LOG = "_delivery-log";

/**
 * The loader's dead letters (`GET /v1/dlq`): events the warehouse refused and delivery-log records
 * it would not store, counted per source, listed oldest first (`source` in the URL narrows them),
 * one inspected; with an admin token replayed into the hub stream (as shown or corrected) or
 * dropped.
 */
export function DeadLettersPage({ query }: { query: URLSearchParams }) {
  const { api, canAdmin } = useSession();
  const source = query.get("source") ?? undefined;
  const { entry, from, list, notice, actions, page } = useDlqPage(query, {
    parts: ["dead-letters"],
    filters: { source },
    list: async (fromSeq) =>
      unwrap(
        await api.GET("/v1/dlq", { params: { query: { fromSeq, limit: PAGE_SIZE, ...(source ? { source } : {}) } } }),
      ),
    canChange: canAdmin,
    replay: async (seq, body) => {
      const answer = unwrap(
        await api.POST("/v1/dlq/{seq}/replay", {
          params: { path: { seq } },
          body: body === undefined ? {} : { body },
        }),
      );
      return `Dead letter #${answer.seq} (${answer.eventKey}) put back into the hub stream${answer.corrected ? ", corrected" : ""}.`;
    },
    drop: async (seq) => {
      unwrap(await api.DELETE("/v1/dlq/{seq}", { params: { path: { seq } } }));
      return `Dead letter #${seq} dropped.`;
    },
  });
  return (
    <>
      <PageHeading title="Dead letters">Dead letters</PageHeading>
      <p class="hint">
        Events the warehouse refused (and delivery-log records it would not store), kept 30 days. A replay puts the
        event back into the hub stream: the warehouse key keeps it to one row.
        {canAdmin ? "" : " Replaying and dropping take an admin token."}
      </p>
      {notice ? <p role="status">{notice}</p> : null}
      <ErrorNote error={list.error} />
      <SourceCounts counts={list.data?.counts} source={source} page={page} />
      <section aria-labelledby="dlq-list-heading">
        <h2 id="dlq-list-heading">{source ? `Dead letters of ${source}` : "Every dead letter"}</h2>
        {list.data ? (
          <>
            <DeadLetterList
              caption="The loader's dead letters, oldest first"
              heads={["Source", "Region", "Type"]}
              rows={list.data.data.map((e) => ({
                ...e,
                cells: [e.source || "delivery log", e.region, e.eventType],
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
      </section>
      {entry ? <LoaderDlqEntry key={entry} seq={entry} actions={actions} closeHref={page({ from })} /> : null}
    </>
  );
}

/** How many dead letters each source has, each a link narrowing the list to it. */
function SourceCounts(props: {
  counts: Record<string, number> | undefined;
  source: string | undefined;
  page: (q: { source?: string | undefined }) => string;
}) {
  const counts = Object.entries(props.counts ?? {});
  return (
    <section aria-labelledby="dlq-sources">
      <h2 id="dlq-sources">By source</h2>
      {counts.length === 0 ? (
        <p>{props.counts ? "None." : "Loading…"}</p>
      ) : (
        <ul data-testid="dlq-counts">
          <li>
            <a href={props.page({ source: undefined })} aria-current={props.source === undefined ? "true" : undefined}>
              Every source
            </a>
          </li>
          {counts.map(([token, n]) => (
            <li key={token} data-testid={`dlq-count-${token}`}>
              <a href={props.page({ source: token })} aria-current={props.source === token ? "true" : undefined}>
                {token === DELIVERY_LOG ? "delivery-log records" : token}
              </a>
              : <span data-testid="count">{n}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function LoaderDlqEntry(props: { seq: number; actions: DeadLetterActions | undefined; closeHref: string }) {
  const { api } = useSession();
  const { seq } = props;
  const shown = useLoad(
    async () => unwrap(await api.GET("/v1/dlq/{seq}", { params: { path: { seq } } })),
    `dlq-${seq}`,
  );
  if (shown.error) return <ErrorNote error={shown.error} />;
  const e = shown.data;
  if (!e) return <p role="status">Loading dead letter #{seq}…</p>;
  return (
    <DeadLetterDetail
      entry={{
        ...e,
        facts: [
          ["Source, region, type", e.source ? `${e.source}, ${e.region}, ${e.eventType}` : "a delivery-log record"],
          ["Taken from", <code>{e.origin}</code>],
          ["Size", `${e.bytes} bytes`],
        ],
      }}
      actions={props.actions}
      closeHref={props.closeHref}
    />
  );
}
