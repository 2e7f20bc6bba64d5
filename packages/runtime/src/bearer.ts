import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * Secrets are compared as HMAC-SHA-256 digests under a key drawn once per process: both sides are
 * 32 bytes whatever their lengths, so `timingSafeEqual` always runs and its time says nothing about
 * the secret's content or length, and the digests are worthless outside this process.
 */
const DIGEST_KEY = randomBytes(32);

function digestOf(text: string): Buffer {
  return createHmac("sha256", DIGEST_KEY).update(text, "utf8").digest();
}

/**
 * Whether two secrets are equal: their 32-byte digests are compared with `timingSafeEqual`, so
 * there is no early exit on a different length or at the first differing byte.
 */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digestOf(given), digestOf(expected));
}

const BEARER = /^bearer +(\S+)$/i;

/**
 * The token of an `Authorization: Bearer <token>` header: the scheme in any case, spaces, then
 * exactly one token and nothing after it. Anything else (no header, another scheme, no token, two
 * tokens, a repeated header) is undefined.
 */
export function bearerTokenOf(header: string | readonly string[] | undefined): string | undefined {
  if (typeof header !== "string") return undefined;
  return BEARER.exec(header)?.[1];
}

/** A token and who it stands for (an id, a scope: whatever the caller needs back). */
export interface BearerEntry<P> {
  token: string;
  principal: P;
}

/**
 * The configured tokens, each with its principal, kept as digests only. A presented token is
 * compared with every configured one, always all of them and each in constant time, so how close
 * a guess came (in content or in length) does not show in the time it takes. The first entry
 * with the token wins.
 */
export class BearerTokens<P> {
  readonly #entries: ReadonlyArray<{ digest: Buffer; principal: P }>;

  constructor(entries: Iterable<BearerEntry<P>>) {
    this.#entries = [...entries].map((e) => ({ digest: digestOf(e.token), principal: e.principal }));
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The principal of a presented token, or undefined. */
  matchToken(token: string): P | undefined {
    const given = digestOf(token);
    let found: { principal: P } | undefined;
    for (const entry of this.#entries) {
      if (timingSafeEqual(given, entry.digest) && found === undefined) found = entry;
    }
    return found?.principal;
  }

  /** The principal of an `Authorization` header's bearer token, or undefined. */
  match(header: string | readonly string[] | undefined): P | undefined {
    const token = bearerTokenOf(header);
    return token === undefined ? undefined : this.matchToken(token);
  }
}

/**
 * Why a request was refused: `missing` (no Authorization header), `malformed` (not exactly
 * `Bearer <token>`), `unknown` (a well-formed token that matches none).
 */
export type BearerRefusal = "missing" | "malformed" | "unknown";

export interface BearerGuardOptions<P> {
  tokens: BearerTokens<P> | Iterable<BearerEntry<P>>;
  /** A request with a matching token: e.g. keep `principal` on the request. */
  onAuthorized?(request: FastifyRequest, principal: P): void;
  /**
   * A request without an Authorization header that may pass all the same (a loopback caller):
   * return its principal, or undefined to refuse it as `missing`.
   */
  anonymous?(request: FastifyRequest): P | undefined;
  /**
   * Answers a refused request in the caller's own shape: send the reply and return it, or throw
   * an error for the error handler. Anything else is answered 401 all the same.
   */
  onUnauthorized(request: FastifyRequest, reply: FastifyReply, refusal: BearerRefusal): unknown;
}

/** The 401 a guard throws when `onUnauthorized` neither answered nor threw: it never lets one through. */
function unanswered(): Error {
  return Object.assign(new Error("missing or wrong bearer token"), { statusCode: 401 });
}

/**
 * A Fastify hook (`onRequest`, or `preHandler` on single routes) that lets a request through only
 * with a configured bearer token (or as `anonymous` allows), and says which principal it was.
 */
export function bearerGuard<P>(
  options: BearerGuardOptions<P>,
): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  const tokens = options.tokens instanceof BearerTokens ? options.tokens : new BearerTokens(options.tokens);
  return async (request, reply) => {
    const header = request.headers.authorization;
    let refusal: BearerRefusal;
    if (header === undefined) {
      const principal = options.anonymous?.(request);
      if (principal !== undefined) {
        options.onAuthorized?.(request, principal);
        return;
      }
      refusal = "missing";
    } else {
      const token = bearerTokenOf(header);
      const principal = token === undefined ? undefined : tokens.matchToken(token);
      if (principal !== undefined) {
        options.onAuthorized?.(request, principal);
        return;
      }
      refusal = token === undefined ? "malformed" : "unknown";
    }
    const answered = await options.onUnauthorized(request, reply, refusal);
    if (answered !== reply) throw unanswered();
    return reply;
  };
}
