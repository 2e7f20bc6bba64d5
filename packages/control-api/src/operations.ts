import type {} from "@fastify/swagger";
import { Type } from "@sinclair/typebox";
import { OWN_AUTH } from "@tributary/runtime";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { FastifyInstance } from "fastify";
import type { SealingKeys } from "@tributary/control";
import type { AuditLog, AuditRecord } from "./audit.js";
import { bulkResend, locateEvent, resendStored, sampleEvent, testSend, type EventLocation } from "./delivery-ops.js";
import { ManagementError } from "./errors.js";
import { withHub } from "./hub.js";
import type { Records } from "./records.js";
import type { SubscriptionRecord } from "./resources.js";
import { requireScope } from "./scopes.js";
import { ErrorReply, IdParams, signingKeysOf } from "./subscriptions.js";

export interface OperationDeps {
  records: Records;
  keys: SealingKeys;
  audit: AuditLog;
  nats: () => { js: JetStreamClient; jsm: JetStreamManager };
  now: () => Date;
  /** Where the warehouse says an event is (resend by key); absent: resend by key is not offered. */
  findEvent?: (key: string) => Promise<EventLocation | undefined>;
  /** Non-public addresses every subscription may reach (the delivery process's own list). */
  allowPrivate: readonly string[];
}

/** Events resent by one bulk request at most, and hub messages read looking for them. */
export const BULK_RESEND_LIMIT = 10_000;
export const BULK_SCAN_LIMIT = 1_000_000;

function registerTest(app: FastifyInstance, deps: OperationDeps): void {
  app.post<{ Params: { id: string } }>(
    "/v1/subscriptions/:id/test",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags: ["subscriptions"],
        params: IdParams,
        response: {
          200: Type.Object({
            webhookId: Type.String(),
            delivered: Type.Boolean(),
            status: Type.Integer({ description: "the endpoint's HTTP status; 0 when it did not answer" }),
            latencyMs: Type.Number(),
            response: Type.String({ description: "start of an error answer's body" }),
            error: Type.Optional(Type.String()),
          }),
          404: ErrorReply,
        },
      },
    },
    async (request) => {
      const actor = requireScope(request, "write");
      const { id } = request.params;
      const { value } = await deps.records.get<SubscriptionRecord>("subscriptions", id);
      const now = deps.now();
      const sent = await testSend(
        {
          url: value.url,
          timeoutMs: value.timeoutMs,
          allowPrivate: [...deps.allowPrivate, ...value.allowPrivate],
          headers: value.headers,
        },
        signingKeysOf(deps.keys, id, value, now),
        sampleEvent(id, now),
        now,
      );
      const status = sent.result?.status ?? 0;
      await deps.audit.record(actor, {
        action: "test",
        kind: "subscriptions",
        id,
        detail: { status, webhookId: sent.webhookId },
      });
      return {
        webhookId: sent.webhookId,
        delivered: status >= 200 && status < 300,
        status,
        latencyMs: sent.result?.latencyMs ?? 0,
        response: sent.result?.snippet ?? "",
        ...(sent.error ? { error: sent.error } : {}),
      };
    },
  );
}

function registerResend(app: FastifyInstance, deps: OperationDeps): void {
  app.post<{ Params: { id: string }; Body: { key: string } }>(
    "/v1/subscriptions/:id/resend",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags: ["subscriptions"],
        params: IdParams,
        body: Type.Object({ key: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false }),
        response: { 202: Type.Object({ key: Type.String(), hubSeq: Type.Integer() }), 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const actor = requireScope(request, "write");
      const { id } = request.params;
      await deps.records.get<SubscriptionRecord>("subscriptions", id);
      const location = await deps.findEvent?.(request.body.key);
      if (!location) throw new ManagementError("event_not_found", `no event ${request.body.key} in the warehouse`);
      const { js, jsm } = deps.nats();
      const stored = await withHub(locateEvent(jsm, location));
      await withHub(resendStored(js, id, stored));
      await deps.audit.record(actor, {
        action: "resend",
        kind: "subscriptions",
        id,
        detail: { key: location.key, hubSeq: stored.seq },
      });
      return reply.code(202).send({ key: location.key, hubSeq: stored.seq });
    },
  );
}

const BulkBody = Type.Object(
  {
    from: Type.String({ format: "date-time", description: "events stored in the hub stream at or after this time" }),
    to: Type.String({ format: "date-time", description: "and at or before this time" }),
    sources: Type.Optional(Type.Array(Type.String(), { maxItems: 100 })),
    types: Type.Optional(Type.Array(Type.String(), { maxItems: 100 })),
    outcome: Type.Optional(
      Type.Union([Type.Literal("delivered"), Type.Literal("failed")], {
        description: "the last attempt's outcome for this subscription (failed: dead-lettered)",
      }),
    ),
    dryRun: Type.Boolean({ default: true, description: "count only (the default): resend with false" }),
    limit: Type.Integer({ minimum: 1, maximum: BULK_RESEND_LIMIT, default: BULK_RESEND_LIMIT }),
  },
  { additionalProperties: false },
);

function registerBulk(app: FastifyInstance, deps: OperationDeps): void {
  app.post<{
    Params: { id: string };
    Body: {
      from: string;
      to: string;
      sources?: string[];
      types?: string[];
      outcome?: "delivered" | "failed";
      dryRun: boolean;
      limit: number;
    };
  }>(
    "/v1/subscriptions/:id/resend-bulk",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags: ["subscriptions"],
        params: IdParams,
        body: BulkBody,
        response: {
          200: Type.Object({
            dryRun: Type.Boolean(),
            matched: Type.Integer(),
            resent: Type.Integer(),
            scanned: Type.Integer(),
            truncated: Type.Boolean(),
          }),
          404: ErrorReply,
        },
      },
    },
    async (request) => {
      const actor = requireScope(request, "write");
      const { id } = request.params;
      const { value } = await deps.records.get<SubscriptionRecord>("subscriptions", id);
      const body = request.body;
      const from = new Date(body.from);
      const to = new Date(body.to);
      if (!(from <= to)) throw new ManagementError("invalid_resource", "from must not be after to", { field: "from" });
      const result = await withHub(
        bulkResend(
          deps.nats(),
          { id, sources: value.sources, types: value.types },
          {
            from,
            to,
            ...(body.sources ? { sources: body.sources } : {}),
            ...(body.types ? { types: body.types } : {}),
            ...(body.outcome ? { outcome: body.outcome } : {}),
            dryRun: body.dryRun,
            limit: body.limit,
            maxScan: BULK_SCAN_LIMIT,
          },
        ),
      );
      if (!body.dryRun)
        await deps.audit.record(actor, {
          action: "resend_bulk",
          kind: "subscriptions",
          id,
          detail: { filter: body, ...result },
        });
      return { dryRun: body.dryRun, ...result };
    },
  );
}

function registerAudit(app: FastifyInstance, deps: OperationDeps): void {
  app.get<{ Querystring: { kind?: AuditRecord["kind"]; id?: string; since?: string; limit: number } }>(
    "/v1/audit",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags: ["audit"],
        querystring: Type.Object(
          {
            kind: Type.Optional(
              Type.Union([
                Type.Literal("sources"),
                Type.Literal("subscriptions"),
                Type.Literal("erasures"),
                Type.Literal("dlq"),
              ]),
            ),
            // `_delivery-log`: the loader DLQ's delivery-log records.
            id: Type.Optional(Type.String({ pattern: "^(?:[a-z][a-z0-9_-]{0,31}|_delivery-log)$" })),
            since: Type.Optional(Type.String({ format: "date-time" })),
            limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                seq: Type.Optional(Type.Integer()),
                at: Type.String(),
                actor: Type.String(),
                action: Type.String(),
                kind: Type.String(),
                id: Type.String(),
                before: Type.Optional(Type.Unknown()),
                after: Type.Optional(Type.Unknown()),
                detail: Type.Optional(Type.Unknown()),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      requireScope(request, "admin");
      const q = request.query;
      const data = await deps.audit.list({
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.id ? { id: q.id } : {}),
        ...(q.since ? { since: new Date(q.since) } : {}),
        limit: q.limit,
      });
      return { data };
    },
  );
}

function registerWhoami(app: FastifyInstance): void {
  app.get(
    "/v1/whoami",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags: ["tokens"],
        description: "The token's id, its scope and the sources it reads (null: every source)",
        response: {
          200: Type.Object({
            id: Type.String(),
            scope: Type.Union([Type.Literal("read"), Type.Literal("write"), Type.Literal("admin")]),
            sources: Type.Union([Type.Array(Type.String()), Type.Null()]),
          }),
        },
      },
    },
    async (request) => {
      const actor = requireScope(request, "read");
      const principal = (request as { principal?: { sources?: readonly string[] } }).principal;
      return { id: actor.id, scope: actor.scope, sources: principal?.sources ? [...principal.sources] : null };
    },
  );
}

/** Test sends, resends, bulk resends, the audit log, and who a token is. */
export function registerOperationRoutes(app: FastifyInstance, deps: OperationDeps): void {
  registerWhoami(app);
  registerTest(app, deps);
  registerResend(app, deps);
  registerBulk(app, deps);
  registerAudit(app, deps);
}
