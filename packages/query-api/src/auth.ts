import { createHash } from "node:crypto";
import { ApiError } from "./errors.js";

export interface ApiToken {
  /** A name for logs and rate limiting; never the secret. */
  id: string;
  token: string;
  /** The sources this token may read; `["*"]` for all. */
  sources: readonly string[];
}

/** What a request may read: the token's id and its sources (undefined = every source). */
export interface Principal {
  id: string;
  sources: readonly string[] | undefined;
}

const digest = (token: string) => createHash("sha256").update(token).digest("hex");

/**
 * Tokens are looked up by their SHA-256, so comparing a presented token never runs a byte-by-byte
 * compare against a secret (no timing side channel on the secret itself).
 */
export class TokenRegistry {
  readonly #byDigest = new Map<string, Principal>();
  constructor(tokens: readonly ApiToken[]) {
    for (const t of tokens) {
      this.#byDigest.set(digest(t.token), { id: t.id, sources: t.sources.includes("*") ? undefined : [...t.sources] });
    }
  }

  get size(): number {
    return this.#byDigest.size;
  }

  authenticate(header: string | undefined): Principal | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    return match ? this.#byDigest.get(digest(match[1]!)) : undefined;
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

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}
