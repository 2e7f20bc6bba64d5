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

/** Who a token is, as `GET /v1/whoami` says: its id, its scope, the sources it reads (null: every one). */
export interface Identity {
  id: string;
  scope: Scope;
  sources: string[] | null;
}

/**
 * Asks the API who the token is (`GET /v1/whoami`, which changes nothing): "invalid" when the API
 * does not know the token (401); any other refusal or failure throws, so sign-in can say why.
 */
export async function whoAmI(api: Api): Promise<Identity | "invalid"> {
  const { data, response } = await api.GET("/v1/whoami");
  if (response.status === 401) return "invalid";
  if (!response.ok || !data) throw new Error(`The API answered ${response.status} to GET /v1/whoami.`);
  return { id: data.id, scope: data.scope, sources: data.sources };
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
  /** The token's id and sources (whoami), shown in the banner. */
  identity: Identity;
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

export function sessionOf(api: Api, identity: Identity, signOut: () => void): Session {
  const scope = identity.scope;
  return { api, scope, identity, canWrite: LEVEL[scope] >= 1, canAdmin: LEVEL[scope] >= 2, signOut };
}
