import type {} from "@fastify/swagger";
import { Type } from "@sinclair/typebox";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { FastifyInstance } from "fastify";
import { OWN_AUTH } from "@tributary/runtime";
import {
  countDeliveryDlq,
  dropDeliveryDlqEntry,
  listDeliveryDlq,
  readDeliveryDlqEntry,
  replayDeliveryDlqEntry,
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
import type { Records } from "./records.js";
import type { SubscriptionRecord } from "./resources.js";
import { requireScope } from "./scopes.js";
import { ErrorReply, IdParams } from "./subscriptions.js";

/**
 * A subscription's dead letters (DELIVERY_DLQ, `delivery-dlq.{id}`): listed, inspected, replayed to
 * that subscription only (`redeliver.{id}`: its deliverer filters, transforms and signs the event as
 * any other, with the event's key as its webhook-id), optionally with a corrected body, or dropped.
 * Reading takes `read`, replaying and dropping `write`, each change audited; a token scoped to some
 * sources sees only their events' entries.
 */

export interface SubscriptionDlqDeps {
  records: Records;
  audit: AuditLog;
  nats: () => { js: JetStreamClient; jsm: JetStreamManager };
}

const tags = ["subscriptions"];
const SeqParams = Type.Object({ id: Type.String(), seq: Type.Integer({ minimum: 1 }) });

const Entry = Type.Object({
  seq: Type.Integer({ description: "the entry's sequence in DELIVERY_DLQ: its id" }),
  eventKey: Type.String(),
  source: Type.String(),
  eventType: Type.String(),
  reason: Type.String({ description: "`<code>: <detail>`, one line" }),
  status: Type.Integer({ description: "the endpoint's last HTTP status; 0 when it did not answer" }),
  attempts: Type.Integer(),
  response: Type.String({ description: "start of the endpoint's answer, one line" }),
  at: Type.String({ description: "when it was set aside" }),
  omittedBytes: Type.Integer({
    description: "the event's size when the entry keeps a reference to its origin instead of its bytes; 0 otherwise",
  }),
});

function registerList(app: FastifyInstance, deps: SubscriptionDlqDeps): void {
  app.get<{ Params: { id: string }; Querystring: DlqPage }>(
    "/v1/subscriptions/:id/dlq",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags,
        summary: "A subscription's dead letters, oldest first",
        params: IdParams,
        querystring: DlqPageQuery,
        response: {
          200: Type.Object({
            data: Type.Array(Entry),
            total: Type.Union([Type.Integer(), Type.Null()], {
              description: "entries in the subscription's DLQ; null for a token scoped to some sources",
            }),
            nextSeq: NextSeq,
          }),
          404: ErrorReply,
        },
      },
    },
    async (request) => {
      requireScope(request, "read");
      const { id } = request.params;
      await deps.records.get<SubscriptionRecord>("subscriptions", id);
      const sources = readableSources(request);
      const { jsm } = deps.nats();
      const { fromSeq, limit } = request.query;
      const data = await withHub(
        listDeliveryDlq(jsm, id, { fromSeq, limit, ...(sources ? { sources } : {}) }),
        "the delivery DLQ",
      );
      const total = sources ? null : await withHub(countDeliveryDlq(jsm, id), "the delivery DLQ");
      return { data, total, nextSeq: data.length === limit ? data[data.length - 1]!.seq + 1 : null };
    },
  );
}

function registerInspect(app: FastifyInstance, deps: SubscriptionDlqDeps): void {
  app.get<{ Params: { id: string; seq: number } }>(
    "/v1/subscriptions/:id/dlq/:seq",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags,
        summary: "One dead letter: why, the endpoint's answer, the event's headers and body",
        params: SeqParams,
        response: { 200: Type.Object({ ...Entry.properties, ...EntryContent }), 404: ErrorReply },
      },
    },
    async (request) => {
      requireScope(request, "read");
      const { id, seq } = request.params;
      await deps.records.get<SubscriptionRecord>("subscriptions", id);
      const found = await withHub(readDeliveryDlqEntry(deps.nats().jsm, id, seq), "the delivery DLQ");
      if (!found || !mayRead(readableSources(request), found.entry.source)) throw notFound(id, seq);
      return { ...found.entry, ...entryContent(found.headers, found.body) };
    },
  );
}

function registerReplay(app: FastifyInstance, deps: SubscriptionDlqDeps): void {
  app.post<{ Params: { id: string; seq: number }; Body: { body?: string } | undefined }>(
    "/v1/subscriptions/:id/dlq/:seq/replay",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags,
        summary:
          "Delivers a dead letter to this subscription again (optionally corrected), and removes it from the DLQ",
        params: SeqParams,
        body: ReplayBody,
        response: { 202: Replayed, 400: Refusal, 404: Refusal, 409: Refusal },
      },
    },
    async (request, reply) => {
      const actor = requireScope(request, "write");
      const { id, seq } = request.params;
      const body = correctedBody(request.body?.body);
      await deps.records.get<SubscriptionRecord>("subscriptions", id);
      const { js, jsm } = deps.nats();
      // Read first: an entry of a source the token may not read is not found, and stays.
      const found = await withHub(readDeliveryDlqEntry(jsm, id, seq), "the delivery DLQ");
      if (!found || !mayRead(readableSources(request), found.entry.source)) throw notFound(id, seq);
      const result = await withHub(replayDeliveryDlqEntry(js, jsm, id, seq, body), "the delivery DLQ");
      if (result === "missing") throw notFound(id, seq);
      if (result === "empty")
        throw new ManagementError(
          "dlq_entry_empty",
          `entry ${seq} keeps no bytes (the event had ${found.entry.omittedBytes}): replay it with a body`,
        );
      const answer = {
        seq,
        eventKey: result.entry.eventKey,
        corrected: body !== undefined,
        replayedTo: result.replayed,
      };
      await deps.audit.record(actor, { action: "dlq_replay", kind: "subscriptions", id, detail: { ...answer } });
      return reply.code(202).send(answer);
    },
  );
}

function registerDrop(app: FastifyInstance, deps: SubscriptionDlqDeps): void {
  app.delete<{ Params: { id: string; seq: number } }>(
    "/v1/subscriptions/:id/dlq/:seq",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags,
        summary: "Drops a dead letter for good (the event is not delivered to this subscription)",
        params: SeqParams,
        response: { 204: Type.Null(), 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const actor = requireScope(request, "write");
      const { id, seq } = request.params;
      await deps.records.get<SubscriptionRecord>("subscriptions", id);
      const { jsm } = deps.nats();
      const found = await withHub(readDeliveryDlqEntry(jsm, id, seq), "the delivery DLQ");
      if (!found || !mayRead(readableSources(request), found.entry.source)) throw notFound(id, seq);
      const dropped = await withHub(dropDeliveryDlqEntry(jsm, id, seq), "the delivery DLQ");
      if (!dropped) throw notFound(id, seq);
      await deps.audit.record(actor, {
        action: "dlq_drop",
        kind: "subscriptions",
        id,
        detail: { seq, eventKey: dropped.eventKey, reason: dropped.reason },
      });
      return reply.code(204).send();
    },
  );
}

function notFound(id: string, seq: number): ManagementError {
  return new ManagementError("dlq_entry_not_found", `subscription ${id} has no dead letter ${seq}`);
}

/** `/v1/subscriptions/{id}/dlq…`: list, inspect, replay (optionally corrected), drop. */
export function registerSubscriptionDlqRoutes(app: FastifyInstance, deps: SubscriptionDlqDeps): void {
  registerList(app, deps);
  registerInspect(app, deps);
  registerReplay(app, deps);
  registerDrop(app, deps);
}
