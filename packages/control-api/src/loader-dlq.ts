import type {} from "@fastify/swagger";
import { Type } from "@sinclair/typebox";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { FastifyInstance } from "fastify";
import { OWN_AUTH } from "@tributary/runtime";
import {
  countEventsDlq,
  dropDlqEntry,
  eventsDlqSummaryOf,
  findDlqEntry,
  isDeliveryLogEntry,
  listEventsDlq,
  replayAndRemoveDlqEntry,
  type DlqEntry,
  type EventsDlqSummary,
} from "@tributary/streams";
import type { AuditLog } from "./audit.js";
import {
  correctedBody,
  DlqPageQuery,
  entryContent,
  EntryContent,
  NextSeq,
  ReplayBody,
  Refusal,
  Replayed,
  type DlqPage,
} from "./dlq-common.js";
import { ManagementError } from "./errors.js";
import { mayRead, readableSources, withHub } from "./hub.js";
import type { Actor } from "./scopes.js";
import { requireScope } from "./scopes.js";
import { ErrorReply } from "./subscriptions.js";

/**
 * The loader's dead letters (EVENTS_DLQ, `dlq.{source}`): events the warehouse refused, and
 * delivery-log records it would not store. Listed and inspected with `read` (a token scoped to some
 * sources sees only their events); replayed into the hub stream (`replay.{source}`, optionally with
 * a corrected body: the enrich stage and the loader take it as any event, and the warehouse key
 * keeps it to one row) or dropped with `admin`, since either changes what the warehouse holds.
 */

export interface LoaderDlqDeps {
  audit: AuditLog;
  nats: () => { js: JetStreamClient; jsm: JetStreamManager };
}

const tags = ["dlq"];
const SeqParams = Type.Object({ seq: Type.Integer({ minimum: 1 }) });

const Entry = Type.Object({
  seq: Type.Integer({ description: "the entry's sequence in EVENTS_DLQ: its id" }),
  at: Type.String({ description: "when it was set aside" }),
  source: Type.String({ description: "the event's source; empty for a delivery-log record" }),
  region: Type.String(),
  eventType: Type.String(),
  eventKey: Type.String(),
  reason: Type.String({ description: "`<code>: <detail>`, one line" }),
  origin: Type.String({ description: "`<stream>:<seq>` the entry was taken from" }),
  bytes: Type.Integer({ description: "the event's bytes the entry holds" }),
  omittedBytes: Type.Integer({
    description: "the event's size when the entry keeps a reference to its origin instead of its bytes; 0 otherwise",
  }),
});

/** The audit id of an entry's change: its source, as the DLQ's subject names it. */
function auditIdOf(entry: DlqEntry): string {
  return entry.subject.slice(entry.subject.indexOf(".") + 1);
}

/** Whether the token may see an entry: its source's, or (a delivery-log record, no source) every source's. */
function visible(request: Parameters<typeof readableSources>[0], summary: EventsDlqSummary): boolean {
  const sources = readableSources(request);
  return summary.source === "" ? sources === undefined : mayRead(sources, summary.source);
}

function registerList(app: FastifyInstance, deps: LoaderDlqDeps): void {
  app.get<{ Querystring: DlqPage & { source?: string } }>(
    "/v1/dlq",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags,
        summary: "The loader's dead letters, oldest first, and how many each source has",
        querystring: Type.Object(
          {
            ...DlqPageQuery.properties,
            source: Type.Optional(
              Type.String({ pattern: "^[a-z][a-z0-9_-]{0,31}$", description: "one source's only" }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Array(Entry),
            counts: Type.Record(Type.String(), Type.Integer(), {
              description: "entries per source the token reads (`_delivery-log`: delivery-log records)",
            }),
            nextSeq: NextSeq,
          }),
        },
      },
    },
    async (request) => {
      requireScope(request, "read");
      const readable = readableSources(request);
      const { fromSeq, limit, source } = request.query;
      // One source asked for: only it, and nothing when the token may not read it.
      const sources = source ? (mayRead(readable, source) ? [source] : []) : readable;
      const { jsm } = deps.nats();
      const page = await withHub(
        listEventsDlq(jsm, { fromSeq, limit, ...(sources ? { sources } : {}) }),
        "the events DLQ",
      );
      const counts = await withHub(countEventsDlq(jsm), "the events DLQ");
      const shown = Object.fromEntries(
        Object.entries(counts).filter(([token]) => (sources ? sources.includes(token) : true)),
      );
      return { data: page.entries, counts: shown, nextSeq: page.nextSeq };
    },
  );
}

/** The entry at `seq` when the token may see it; dlq_entry_not_found otherwise. */
async function visibleEntry(
  request: Parameters<typeof readableSources>[0],
  jsm: JetStreamManager,
  seq: number,
): Promise<{ entry: DlqEntry; summary: EventsDlqSummary }> {
  const found = await withHub(findDlqEntry(jsm, seq), "the events DLQ");
  const summary = found && eventsDlqSummaryOf(found.entry, found.at);
  if (!found || !summary || !visible(request, summary))
    throw new ManagementError("dlq_entry_not_found", `no dead letter ${seq} in the events DLQ`);
  return { entry: found.entry, summary };
}

function registerInspect(app: FastifyInstance, deps: LoaderDlqDeps): void {
  app.get<{ Params: { seq: number } }>(
    "/v1/dlq/:seq",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags,
        summary: "One dead letter of the loader: why, and the event's headers and body",
        params: SeqParams,
        response: {
          200: Type.Object({
            ...Entry.properties,
            ...EntryContent,
            replayable: Type.Boolean({ description: "false for a delivery-log record: nothing to replay" }),
          }),
          404: ErrorReply,
        },
      },
    },
    async (request) => {
      requireScope(request, "read");
      const { entry, summary } = await visibleEntry(request, deps.nats().jsm, request.params.seq);
      const empty = entry.omittedBytes > 0 && entry.data.length === 0;
      return {
        ...summary,
        ...entryContent(entry.headers, empty ? undefined : entry.data),
        replayable: !isDeliveryLogEntry(entry),
      };
    },
  );
}

async function audit(deps: LoaderDlqDeps, actor: Actor, action: string, entry: DlqEntry, detail: object) {
  await deps.audit.record(actor, { action, kind: "dlq", id: auditIdOf(entry), detail: { ...detail } });
}

function registerReplay(app: FastifyInstance, deps: LoaderDlqDeps): void {
  app.post<{ Params: { seq: number }; Body: { body?: string } | undefined }>(
    "/v1/dlq/:seq/replay",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags,
        summary: "Puts a dead letter back into the hub stream (optionally corrected), and removes it from the DLQ",
        params: SeqParams,
        body: ReplayBody,
        response: { 202: Replayed, 400: Refusal, 404: Refusal, 409: Refusal },
      },
    },
    async (request, reply) => {
      const actor = requireScope(request, "admin");
      const { seq } = request.params;
      const body = correctedBody(request.body?.body);
      const { js, jsm } = deps.nats();
      const { entry } = await visibleEntry(request, jsm, seq);
      if (isDeliveryLogEntry(entry))
        throw new ManagementError("dlq_entry_not_replayable", `dead letter ${seq} is a delivery-log record`);
      if (!body && entry.omittedBytes > 0 && entry.data.length === 0)
        throw new ManagementError(
          "dlq_entry_empty",
          `dead letter ${seq} keeps no bytes (the event had ${entry.omittedBytes}) and ${entry.origin} no longer has them: replay it with a body`,
        );
      const replayedTo = await withHub(replayAndRemoveDlqEntry(js, jsm, entry, body), "the hub stream");
      const answer = { seq, eventKey: entry.eventKey, corrected: body !== undefined, replayedTo };
      await audit(deps, actor, "dlq_replay", entry, answer);
      return reply.code(202).send(answer);
    },
  );
}

function registerDrop(app: FastifyInstance, deps: LoaderDlqDeps): void {
  app.delete<{ Params: { seq: number } }>(
    "/v1/dlq/:seq",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags,
        summary: "Drops a dead letter of the loader for good (the event never reaches the warehouse)",
        params: SeqParams,
        response: { 204: Type.Null(), 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const actor = requireScope(request, "admin");
      const { seq } = request.params;
      const { jsm } = deps.nats();
      const { entry } = await visibleEntry(request, jsm, seq);
      if (!(await withHub(dropDlqEntry(jsm, seq), "the events DLQ")))
        throw new ManagementError("dlq_entry_not_found", `no dead letter ${seq} in the events DLQ`);
      await audit(deps, actor, "dlq_drop", entry, { seq, eventKey: entry.eventKey, reason: entry.reason });
      return reply.code(204).send();
    },
  );
}

/** `/v1/dlq…`: the loader's dead letters listed, inspected, replayed (optionally corrected), dropped. */
export function registerLoaderDlqRoutes(app: FastifyInstance, deps: LoaderDlqDeps): void {
  registerList(app, deps);
  registerInspect(app, deps);
  registerReplay(app, deps);
  registerDrop(app, deps);
}
