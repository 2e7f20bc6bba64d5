import { BearerTokens } from "@tributary/runtime";
import { ApiError } from "./errors.js";

export interface ApiToken {
  /** A name for logs and rate limiting; never the secret. */
  id: string;
  token: string;
  /** The sources this token may read; `["*"]` for all. */
  sources: readonly string[];
  /** What it may change through the management routes (default read: nothing). */
  scope?: Scope;
}

export type Scope = "read" | "write" | "admin";

/** What a request may read: the token's id and its sources (undefined = every source). */
export interface Principal {
  id: string;
  sources: readonly string[] | undefined;
  scope: Scope;
}

/**
 * The API's tokens, each standing for its principal: a presented bearer token is compared with
 * every configured one in constant time (`BearerTokens`, @tributary/runtime), so the time of a
 * refusal says nothing about the tokens.
 */
export class TokenRegistry extends BearerTokens<Principal> {
  constructor(tokens: readonly ApiToken[]) {
    super(
      tokens.map((t) => ({
        token: t.token,
        principal: {
          id: t.id,
          sources: t.sources.includes("*") ? undefined : [...t.sources],
          scope: t.scope ?? "read",
        },
      })),
    );
  }
}

/** The sources a request reads: the asked-for one (if the token allows it), else the token's. */
export function scopeSources(principal: Principal, asked: string | undefined): readonly string[] | undefined {
  if (asked === undefined) return principal.sources;
  if (principal.sources !== undefined && !principal.sources.includes(asked)) {
    throw new ApiError("forbidden_source", `token ${principal.id} may not read source ${asked}`, "source");
  }
  return [asked];
}
