import type {} from "@fastify/swagger";
import { Type } from "@sinclair/typebox";
import { OWN_AUTH } from "@tributary/runtime";
import type { FastifyInstance } from "fastify";
import type { SealingKeys } from "@tributary/control";
import type { AuditLog } from "./audit.js";
import { ManagementError } from "./errors.js";
import { ifMatchOf, type Records } from "./records.js";
import {
  applyChange,
  secretPlace,
  secretView,
  SecretView,
  SourceCreate,
  SourceSecretInput,
  SourceUpdate,
  SourceView,
  type SourceRecord,
  type StoredSecret,
} from "./resources.js";
import { managedByOf, requireScope } from "./scopes.js";
import { checkScheme, checkSourceSecret, generateSourceSecret } from "./secrets.js";

export interface SourceRouteDeps {
  records: Records;
  keys: SealingKeys;
  audit: AuditLog;
  now: () => Date;
}

const MAX_SECRETS = 8;
const IdParams = Type.Object({ id: Type.String() });
const ErrorReply = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) });
/** A secret made by the server, shown in this response and never again. */
const NewSecret = Type.Object({ id: Type.String(), value: Type.String() });

/** `uses`: the secrets' last uses, shown on reads (a change's views and audit records leave them out). */
function view(id: string, revision: number, record: SourceRecord, uses?: Map<string, string>) {
  return { id, revision, ...record, secrets: record.secrets.map((s) => secretView(s, uses?.get(s.id))) };
}

/** Seals one secret of a source (given or made here), after checking it reads as the gateway will. */
function sealSecret(
  deps: SourceRouteDeps,
  sourceId: string,
  scheme: { type?: string },
  input: { id: string; value?: string | undefined; encoding?: "utf8" | "base64" | "hex" | undefined },
  field: string,
): { stored: StoredSecret; generated?: { id: string; value: string } } {
  const type = checkScheme(scheme);
  const value = input.value ?? generateSourceSecret(type);
  checkSourceSecret(value, type, input.encoding, field);
  const stored: StoredSecret = {
    id: input.id,
    sealed: deps.keys.seal(value, secretPlace("sources", sourceId, input.id)),
    createdAt: deps.now().toISOString(),
    ...(input.encoding ? { encoding: input.encoding } : {}),
  };
  return input.value === undefined ? { stored, generated: { id: input.id, value } } : { stored };
}

const tags = ["sources"];

function registerSourceReads(app: FastifyInstance, deps: SourceRouteDeps): void {
  app.get(
    "/v1/sources",
    { config: { ...OWN_AUTH }, schema: { tags, response: { 200: Type.Object({ data: Type.Array(SourceView) }) } } },
    async (request) => {
      requireScope(request, "read");
      const records = await deps.records.list<SourceRecord>("sources");
      const uses = await Promise.all(records.map((r) => deps.records.secretUses(r.id)));
      return { data: records.map((r, i) => view(r.id, r.revision, r.value, uses[i])) };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/sources/:id",
    { config: { ...OWN_AUTH }, schema: { tags, params: IdParams, response: { 200: SourceView, 404: ErrorReply } } },
    async (request, reply) => {
      requireScope(request, "read");
      const r = await deps.records.get<SourceRecord>("sources", request.params.id);
      void reply.header("etag", `"${r.revision}"`);
      return view(r.id, r.revision, r.value, await deps.records.secretUses(r.id));
    },
  );
}

function registerSourceCreate(app: FastifyInstance, deps: SourceRouteDeps): void {
  app.post<{ Body: SourceCreate }>(
    "/v1/sources",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags,
        body: SourceCreate,
        response: { 201: Type.Object({ source: SourceView, secrets: Type.Array(NewSecret) }), 409: ErrorReply },
      },
    },
    async (request, reply) => {
      const actor = requireScope(request, "admin");
      const { id, secrets: inputs = [{ id: "s1" }], ...settings } = request.body;
      checkScheme(settings.scheme);
      if (new Set(inputs.map((s) => s.id)).size !== inputs.length)
        throw new ManagementError("invalid_resource", "two secrets have the same id", { field: "secrets" });
      const sealed = inputs.map((input, i) => sealSecret(deps, id, settings.scheme, input, `secrets[${i}]`));
      const at = deps.now().toISOString();
      const record: SourceRecord = {
        ...settings,
        secrets: sealed.map((s) => s.stored),
        createdAt: at,
        updatedAt: at,
        managedBy: managedByOf(request),
      };
      const created = await deps.records.create("sources", id, record);
      const shown = view(id, created.revision, record);
      await deps.audit.record(actor, { action: "create", kind: "sources", id, after: shown });
      return reply
        .code(201)
        .send({ source: shown, secrets: sealed.flatMap((s) => (s.generated ? [s.generated] : [])) });
    },
  );
}

function registerSourceChanges(app: FastifyInstance, deps: SourceRouteDeps): void {
  app.patch<{ Params: { id: string }; Body: SourceUpdate }>(
    "/v1/sources/:id",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags,
        params: IdParams,
        body: SourceUpdate,
        response: { 200: SourceView, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request) => {
      const actor = requireScope(request, "admin");
      const { id } = request.params;
      if (request.body.scheme) checkScheme(request.body.scheme);
      const { before, after } = await deps.records.update<SourceRecord>(
        "sources",
        id,
        (current) => {
          if (request.body.scheme && request.body.scheme.type !== current.scheme.type)
            throw new ManagementError(
              "invalid_resource",
              "a source's scheme type cannot change (its secrets are of that type); create a new source",
              { field: "scheme.type" },
            );
          return {
            ...applyChange(current, request.body),
            updatedAt: deps.now().toISOString(),
            managedBy: managedByOf(request),
          };
        },
        ifMatchOf(request.headers["if-match"] as string | undefined),
      );
      const shown = view(id, after.revision, after.value);
      await deps.audit.record(actor, {
        action: "update",
        kind: "sources",
        id,
        before: view(id, before.revision, before.value),
        after: shown,
      });
      return shown;
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/v1/sources/:id",
    { config: { ...OWN_AUTH }, schema: { tags, params: IdParams, response: { 204: Type.Null(), 404: ErrorReply } } },
    async (request, reply) => {
      const actor = requireScope(request, "admin");
      const { id } = request.params;
      const before = await deps.records.delete<SourceRecord>(
        "sources",
        id,
        ifMatchOf(request.headers["if-match"] as string | undefined),
      );
      await deps.audit.record(actor, {
        action: "delete",
        kind: "sources",
        id,
        before: view(id, before.revision, before.value),
      });
      await deps.records.forgetSecretUses(id);
      return reply.code(204).send();
    },
  );
}

function registerSecretRoutes(app: FastifyInstance, deps: SourceRouteDeps): void {
  app.post<{ Params: { id: string }; Body: { id: string; value?: string; encoding?: "utf8" | "base64" | "hex" } }>(
    "/v1/sources/:id/secrets",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags,
        params: IdParams,
        body: SourceSecretInput,
        response: {
          201: Type.Object({ secret: SecretView, value: Type.Optional(Type.String()) }),
          404: ErrorReply,
          409: ErrorReply,
        },
      },
    },
    async (request, reply) => {
      const actor = requireScope(request, "admin");
      const { id } = request.params;
      let added: ReturnType<typeof sealSecret> | undefined;
      await deps.records.update<SourceRecord>("sources", id, (current) => {
        if (current.secrets.some((s) => s.id === request.body.id))
          throw new ManagementError("already_exists", `source ${id} has a secret ${request.body.id}`, { field: "id" });
        if (current.secrets.length >= MAX_SECRETS)
          throw new ManagementError("secret_limit", `source ${id} holds ${MAX_SECRETS} secrets; retire one first`);
        added = sealSecret(deps, id, current.scheme, request.body, "value");
        return { ...current, secrets: [...current.secrets, added.stored], updatedAt: deps.now().toISOString() };
      });
      const secret = secretView(added!.stored);
      await deps.audit.record(actor, { action: "add_secret", kind: "sources", id, detail: { secret } });
      return reply.code(201).send({ secret, ...(added!.generated ? { value: added!.generated.value } : {}) });
    },
  );

  app.delete<{ Params: { id: string; secretId: string } }>(
    "/v1/sources/:id/secrets/:secretId",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags,
        params: Type.Object({ id: Type.String(), secretId: Type.String() }),
        response: { 200: SourceView, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request) => {
      const actor = requireScope(request, "admin");
      const { id, secretId } = request.params;
      const { after } = await deps.records.update<SourceRecord>("sources", id, (current) => {
        if (!current.secrets.some((s) => s.id === secretId))
          throw new ManagementError("resource_not_found", `source ${id} has no secret ${secretId}`);
        if (current.secrets.length === 1)
          throw new ManagementError(
            "secret_limit",
            `${secretId} is source ${id}'s last secret; add its successor first`,
          );
        return {
          ...current,
          secrets: current.secrets.filter((s) => s.id !== secretId),
          updatedAt: deps.now().toISOString(),
        };
      });
      await deps.audit.record(actor, { action: "retire_secret", kind: "sources", id, detail: { secret: secretId } });
      await deps.records.forgetSecretUses(id, secretId);
      return view(id, after.revision, after.value, await deps.records.secretUses(id));
    },
  );
}

/** Sources: what gateways verify with. Reading takes `read`; every change takes `admin`. */
export function registerSourceRoutes(app: FastifyInstance, deps: SourceRouteDeps): void {
  registerSourceReads(app, deps);
  registerSourceCreate(app, deps);
  registerSourceChanges(app, deps);
  registerSecretRoutes(app, deps);
}
