import type {} from "@fastify/swagger";
import { Type } from "@sinclair/typebox";
import { OWN_AUTH } from "@tributary/runtime";
import type { FastifyInstance } from "fastify";
import { openSigningKeys, type SealingKeys } from "@tributary/control";
import { compileFilter, describeFilterError } from "@tributary/delivery";
import type { SigningKey } from "@tributary/verify";
import type { AuditLog } from "./audit.js";
import { ManagementError } from "./errors.js";
import { healthOf, SubscriptionHealth, type HealthDeps } from "./health.js";
import { ifMatchOf, type Records } from "./records.js";
import {
  applyChange,
  secretPlace,
  secretView,
  SecretView,
  SubscriptionCreate,
  SubscriptionUpdate,
  SubscriptionView,
  type StoredSecret,
  type SubscriptionRecord,
} from "./resources.js";
import type { Actor } from "./scopes.js";
import { managedByOf, requireScope } from "./scopes.js";
import { generateSigningSecret } from "./secrets.js";

export interface SubscriptionRouteDeps {
  records: Records;
  keys: SealingKeys;
  audit: AuditLog;
  now: () => Date;
  health: HealthDeps;
}

export const IdParams = Type.Object({ id: Type.String() });
export const ErrorReply = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) });
const tags = ["subscriptions"];
/** How long a rotated-out signing secret keeps signing by default: a day for receivers to switch. */
export const DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 3600;

export function subscriptionView(id: string, revision: number, record: SubscriptionRecord) {
  return { id, revision, ...record, signingSecrets: record.signingSecrets.map((s) => secretView(s)) };
}

/** A subscription as the reads show it: its view and its delivery health (health.ts). */
const SubscriptionRead = Type.Composite([SubscriptionView, Type.Object({ health: SubscriptionHealth })]);

/** The signing keys of a subscription now: every secret not yet expired, opened. */
export function signingKeysOf(keys: SealingKeys, id: string, record: SubscriptionRecord, now: Date): SigningKey[] {
  return openSigningKeys(keys, id, record.signingSecrets, now);
}

/** A filter is checked when it is written (compiled as the deliverer will), not at its first event. */
function checkFilter(filter: string | undefined): void {
  if (filter === undefined) return;
  try {
    compileFilter(filter, { timeoutMs: 1000 });
  } catch (err) {
    throw new ManagementError("invalid_resource", `filter: ${describeFilterError(err)}`, { field: "filter" });
  }
}

function newSecret(deps: SubscriptionRouteDeps, id: string, secretId: string): { stored: StoredSecret; value: string } {
  const value = generateSigningSecret();
  return {
    value,
    stored: {
      id: secretId,
      sealed: deps.keys.seal(value, secretPlace("subscriptions", id, secretId)),
      createdAt: deps.now().toISOString(),
    },
  };
}

async function changeAndAudit(
  deps: SubscriptionRouteDeps,
  actor: Actor,
  action: string,
  id: string,
  change: (current: SubscriptionRecord) => SubscriptionRecord,
  ifMatch?: number,
) {
  const { before, after } = await deps.records.update<SubscriptionRecord>("subscriptions", id, change, ifMatch);
  const shown = subscriptionView(id, after.revision, after.value);
  await deps.audit.record(actor, {
    action,
    kind: "subscriptions",
    id,
    before: subscriptionView(id, before.revision, before.value),
    after: shown,
  });
  return shown;
}

function registerReads(app: FastifyInstance, deps: SubscriptionRouteDeps): void {
  app.get(
    "/v1/subscriptions",
    {
      config: { ...OWN_AUTH },
      schema: { tags, response: { 200: Type.Object({ data: Type.Array(SubscriptionRead) }) } },
    },
    async (request) => {
      requireScope(request, "read");
      const records = await deps.records.list<SubscriptionRecord>("subscriptions");
      const health = await healthOf(
        deps.health,
        request,
        records.map((r) => r.id),
      );
      return {
        data: records.map((r) => ({ ...subscriptionView(r.id, r.revision, r.value), health: health.get(r.id) })),
      };
    },
  );
  app.get<{ Params: { id: string } }>(
    "/v1/subscriptions/:id",
    {
      config: { ...OWN_AUTH },
      schema: { tags, params: IdParams, response: { 200: SubscriptionRead, 404: ErrorReply } },
    },
    async (request, reply) => {
      requireScope(request, "read");
      const r = await deps.records.get<SubscriptionRecord>("subscriptions", request.params.id);
      const health = await healthOf(deps.health, request, [r.id]);
      void reply.header("etag", `"${r.revision}"`);
      return { ...subscriptionView(r.id, r.revision, r.value), health: health.get(r.id) };
    },
  );
}

function registerCreate(app: FastifyInstance, deps: SubscriptionRouteDeps): void {
  app.post<{ Body: SubscriptionCreate }>(
    "/v1/subscriptions",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags,
        body: SubscriptionCreate,
        response: {
          201: Type.Object({ subscription: SubscriptionView, signingSecret: Type.String() }),
          409: ErrorReply,
        },
      },
    },
    async (request, reply) => {
      const actor = requireScope(request, "write");
      const { id, paused = false, ...settings } = request.body;
      checkFilter(settings.filter);
      const secret = newSecret(deps, id, "k1");
      const at = deps.now().toISOString();
      const record: SubscriptionRecord = {
        ...settings,
        paused,
        signingSecrets: [secret.stored],
        createdAt: at,
        updatedAt: at,
        managedBy: managedByOf(request),
      };
      const created = await deps.records.create("subscriptions", id, record);
      const shown = subscriptionView(id, created.revision, record);
      await deps.audit.record(actor, { action: "create", kind: "subscriptions", id, after: shown });
      // The signing secret is in this response and nowhere else, ever again.
      return reply.code(201).send({ subscription: shown, signingSecret: secret.value });
    },
  );
}

function registerChanges(app: FastifyInstance, deps: SubscriptionRouteDeps): void {
  app.patch<{ Params: { id: string }; Body: SubscriptionUpdate }>(
    "/v1/subscriptions/:id",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags,
        params: IdParams,
        body: SubscriptionUpdate,
        response: { 200: SubscriptionView, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request) => {
      const actor = requireScope(request, "write");
      checkFilter(request.body.filter ?? undefined);
      return changeAndAudit(
        deps,
        actor,
        "update",
        request.params.id,
        (current) => ({
          ...applyChange(current, request.body),
          updatedAt: deps.now().toISOString(),
          managedBy: managedByOf(request),
        }),
        ifMatchOf(request.headers["if-match"] as string | undefined),
      );
    },
  );
  app.delete<{ Params: { id: string } }>(
    "/v1/subscriptions/:id",
    { config: { ...OWN_AUTH }, schema: { tags, params: IdParams, response: { 204: Type.Null(), 404: ErrorReply } } },
    async (request, reply) => {
      const actor = requireScope(request, "write");
      const { id } = request.params;
      const before = await deps.records.delete<SubscriptionRecord>(
        "subscriptions",
        id,
        ifMatchOf(request.headers["if-match"] as string | undefined),
      );
      await deps.audit.record(actor, {
        action: "delete",
        kind: "subscriptions",
        id,
        before: subscriptionView(id, before.revision, before.value),
      });
      return reply.code(204).send();
    },
  );
}

function registerPause(app: FastifyInstance, deps: SubscriptionRouteDeps): void {
  for (const paused of [true, false]) {
    app.post<{ Params: { id: string }; Body: { reason?: string } | null | undefined }>(
      `/v1/subscriptions/:id/${paused ? "pause" : "resume"}`,
      {
        config: { ...OWN_AUTH },
        schema: {
          tags,
          params: IdParams,
          // A body is optional: nothing, null or an object.
          body: Type.Union([
            Type.Object({ reason: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
            Type.Null(),
          ]),
          response: { 200: SubscriptionView, 404: ErrorReply },
        },
      },
      async (request) => {
        const actor = requireScope(request, "write");
        return changeAndAudit(deps, actor, paused ? "pause" : "resume", request.params.id, (current) => {
          const { pausedReason: _r, pausedAt: _a, ...rest } = current;
          const at = deps.now().toISOString();
          return paused
            ? {
                ...rest,
                paused: true,
                pausedReason: request.body?.reason ?? `paused by ${actor.id}`,
                pausedAt: at,
                updatedAt: at,
              }
            : { ...rest, paused: false, updatedAt: at };
        });
      },
    );
  }
}

function registerRotation(app: FastifyInstance, deps: SubscriptionRouteDeps): void {
  app.post<{ Params: { id: string }; Body: { overlapSeconds?: number } | null | undefined }>(
    "/v1/subscriptions/:id/rotate-secret",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags,
        params: IdParams,
        body: Type.Union([
          Type.Object(
            {
              overlapSeconds: Type.Optional(
                Type.Integer({
                  minimum: 0,
                  maximum: 30 * 86_400,
                  description: "how long the current secrets keep signing too (default a day)",
                }),
              ),
            },
            { additionalProperties: false },
          ),
          Type.Null(),
        ]),
        response: {
          200: Type.Object({ subscription: SubscriptionView, signingSecret: Type.String(), secret: SecretView }),
          404: ErrorReply,
        },
      },
    },
    async (request) => {
      const actor = requireScope(request, "write");
      const { id } = request.params;
      const overlap = request.body?.overlapSeconds ?? DEFAULT_ROTATION_OVERLAP_SECONDS;
      let made: { stored: StoredSecret; value: string } | undefined;
      const shown = await changeAndAudit(deps, actor, "rotate_secret", id, (current) => {
        const now = deps.now();
        const expiresAt = new Date(now.getTime() + overlap * 1000).toISOString();
        const live = current.signingSecrets.filter(
          (s) => s.expiresAt === undefined || Date.parse(s.expiresAt) > now.getTime(),
        );
        const next = Math.max(0, ...current.signingSecrets.map((s) => Number(s.id.replace(/^k/, "")) || 0)) + 1;
        made = newSecret(deps, id, `k${next}`);
        // At most four sign at once (every one is a signature per request): the oldest go first.
        const kept = live.slice(-3).map((s) => ({
          ...s,
          expiresAt: s.expiresAt && Date.parse(s.expiresAt) < Date.parse(expiresAt) ? s.expiresAt : expiresAt,
        }));
        return { ...current, signingSecrets: [...kept, made.stored], updatedAt: now.toISOString() };
      });
      return { subscription: shown, signingSecret: made!.value, secret: secretView(made!.stored) };
    },
  );
}

/** Webhook subscriptions: reading takes `read`; changes, tests and resends take `write`. */
export function registerSubscriptionRoutes(app: FastifyInstance, deps: SubscriptionRouteDeps): void {
  registerReads(app, deps);
  registerCreate(app, deps);
  registerChanges(app, deps);
  registerPause(app, deps);
  registerRotation(app, deps);
}
