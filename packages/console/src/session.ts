import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Api } from "./api/client";

/** What a token may do (the management API's scopes): read, write (subscriptions), admin (sources). */
export type Scope = "read" | "write" | "admin";
const LEVEL: Record<Scope, number> = { read: 0, write: 1, admin: 2 };

const TOKEN_KEY = "tributary.console.token";

/** The token is kept for this tab only (sessionStorage): closing the tab signs out. */
export function storedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}
export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}
export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** A subscription id that cannot exist (ids are lower-case): the scope probe's target. */
const PROBE_ID = "~scope-probe";
const EPOCH = "1970-01-01T00:00:00.000Z";

/**
 * Learns what the token may do without changing anything. The API has no route that says a
 * token's scope, so the console asks two questions whose answers differ by scope: the audit log
 * (admin reads it), then a bulk resend's dry run (it only counts) for a subscription that cannot
 * exist: a read token is refused (403) before the lookup, a write token gets 404. "invalid" when
 * the API does not know the token at all.
 */
export async function probeScope(api: Api): Promise<Scope | "invalid"> {
  const events = await api.GET("/v1/events", { params: { query: { limit: 1 } } });
  if (events.response.status === 401) return "invalid";
  const audit = await api.GET("/v1/audit", { params: { query: { limit: 1 } } });
  if (audit.response.ok) return "admin";
  const dryRun = await api.POST("/v1/subscriptions/{id}/resend-bulk", {
    params: { path: { id: PROBE_ID } },
    body: { from: EPOCH, to: EPOCH, dryRun: true, limit: 1 },
  });
  return dryRun.response.status === 403 ? "read" : "write";
}

/** The scope a refusal shows the token has at most ("… this needs write" means it is below write). */
export function scopeBelow(message: string, current: Scope): Scope {
  const needed = /needs (read|write|admin)/.exec(message)?.[1] as Scope | undefined;
  if (needed === undefined || LEVEL[needed] === 0) return current;
  const below = (Object.keys(LEVEL) as Scope[]).find((s) => LEVEL[s] === LEVEL[needed] - 1)!;
  return LEVEL[below] < LEVEL[current] ? below : current;
}

export interface Session {
  api: Api;
  scope: Scope;
  /** Subscriptions: create, change, test, resend. */
  canWrite: boolean;
  /** Sources and their secrets. */
  canAdmin: boolean;
  signOut(): void;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in page");
  return session;
}

export function sessionOf(api: Api, scope: Scope, signOut: () => void): Session {
  return { api, scope, canWrite: LEVEL[scope] >= 1, canAdmin: LEVEL[scope] >= 2, signOut };
}
