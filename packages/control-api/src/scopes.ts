import type { FastifyRequest } from "fastify";
import { ManagementError } from "./errors.js";

/**
 * What a token may do: `read` reads everything but secret values; `write` also changes
 * subscriptions (create, update, pause, test, resend); `admin` also changes sources and their
 * secrets and reads the audit log. Each includes the ones before it.
 */
export const SCOPES = ["read", "write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** Who made a request, as the host API's auth hook sets it (`request.principal`). */
export interface Actor {
  id: string;
  scope: Scope;
}

export function actorOf(request: FastifyRequest): Actor {
  const principal = (request as { principal?: { id: string; scope?: Scope } }).principal;
  return { id: principal?.id ?? "anonymous", scope: principal?.scope ?? "read" };
}

/** The actor, when its scope reaches `needed`; forbidden_scope otherwise. */
export function requireScope(request: FastifyRequest, needed: Scope): Actor {
  const actor = actorOf(request);
  if (SCOPES.indexOf(actor.scope) < SCOPES.indexOf(needed))
    throw new ManagementError("forbidden_scope", `token ${actor.id} has scope ${actor.scope}; this needs ${needed}`);
  return actor;
}

/**
 * Who a change is recorded as made by: `apply` when the declarative config made it (the CLI's
 * `config apply` sends `Tributary-Managed-By: apply`), `api` otherwise. `config diff` reads it.
 */
export function managedByOf(request: FastifyRequest): "api" | "apply" {
  return request.headers["tributary-managed-by"] === "apply" ? "apply" : "api";
}
