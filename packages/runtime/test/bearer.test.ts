import * as crypto from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it, vi } from "vitest";
import { bearerGuard, bearerTokenOf, BearerTokens, secretsEqual, type BearerRefusal } from "../src/index.js";

// The real timingSafeEqual, watched: every comparison must go through it, with equal-length digests.
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});
const timingSafeEqual = vi.mocked(crypto.timingSafeEqual);

const TOKEN = "a-long-random-operator-token-0123";

describe("secretsEqual", () => {
  it("is true for the same secret only, whatever the other's length", () => {
    expect(secretsEqual(TOKEN, TOKEN)).toBe(true);
    expect(secretsEqual(TOKEN.replace(/3$/, "4"), TOKEN)).toBe(false);
    expect(secretsEqual("short", TOKEN)).toBe(false);
    expect(secretsEqual(TOKEN + TOKEN, TOKEN)).toBe(false);
    expect(secretsEqual("", TOKEN)).toBe(false);
  });
});

describe("bearerTokenOf", () => {
  it("takes exactly `Bearer <one token>`, the scheme in any case", () => {
    expect(bearerTokenOf(`Bearer ${TOKEN}`)).toBe(TOKEN);
    expect(bearerTokenOf(`bearer ${TOKEN}`)).toBe(TOKEN);
    expect(bearerTokenOf(`BEARER ${TOKEN}`)).toBe(TOKEN);
  });

  it("refuses anything else", () => {
    for (const header of [
      undefined,
      "",
      TOKEN,
      `Basic ${Buffer.from(`user:${TOKEN}`).toString("base64")}`,
      "Bearer",
      "Bearer ",
      `Bearer ${TOKEN} other-token`,
      `Bearer\t${TOKEN}`,
      `Bearer${TOKEN}`,
      `Bearer ${TOKEN} `,
      ` Bearer ${TOKEN}`,
      `Token ${TOKEN}`,
      [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`],
    ])
      expect(bearerTokenOf(header)).toBeUndefined();
  });
});

describe("BearerTokens", () => {
  afterEach(() => timingSafeEqual.mockClear());

  const tokens = new BearerTokens([
    { token: TOKEN, principal: { id: "ops" } },
    { token: "b-second-token-with-another-length", principal: { id: "acme" } },
  ]);

  it("names the principal of a known token", () => {
    expect(tokens.size).toBe(2);
    expect(tokens.match(`Bearer ${TOKEN}`)).toEqual({ id: "ops" });
    expect(tokens.match("bearer b-second-token-with-another-length")).toEqual({ id: "acme" });
    expect(tokens.matchToken(TOKEN)).toEqual({ id: "ops" });
  });

  it("a wrong token of the same length and one of another length take the same path: every token compared, as 32-byte digests", () => {
    const calls = (header: string) => {
      timingSafeEqual.mockClear();
      expect(tokens.match(header)).toBeUndefined();
      return timingSafeEqual.mock.calls.map(([a, b]) => [(a as Buffer).length, (b as Buffer).length]);
    };
    const sameLength = calls(`Bearer ${TOKEN.replace(/^a/, "z")}`);
    const shorter = calls("Bearer x");
    const longer = calls(`Bearer ${TOKEN.repeat(8)}`);
    expect(sameLength).toEqual([
      [32, 32],
      [32, 32],
    ]);
    expect(shorter).toEqual(sameLength);
    expect(longer).toEqual(sameLength);
    // A match compares with every token too: where it is in the list does not show.
    timingSafeEqual.mockClear();
    tokens.match(`Bearer ${TOKEN}`);
    expect(timingSafeEqual).toHaveBeenCalledTimes(2);
  });

  it("the first entry with a token wins", () => {
    const twice = new BearerTokens([
      { token: TOKEN, principal: "first" },
      { token: TOKEN, principal: "second" },
    ]);
    expect(twice.match(`Bearer ${TOKEN}`)).toBe("first");
  });
});

describe("bearerGuard", () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** An app whose /secret route answers with the principal the guard found. */
  function guarded(options: { anonymous?: boolean; answer?: boolean } = {}) {
    const refusals: BearerRefusal[] = [];
    app = Fastify();
    app.decorateRequest("who", "");
    app.addHook(
      "onRequest",
      bearerGuard<string>({
        tokens: [
          { token: TOKEN, principal: "ops" },
          { token: "another-token-of-other-length", principal: "acme" },
        ],
        onAuthorized: (request, principal) => {
          (request as unknown as { who: string }).who = principal;
        },
        ...(options.anonymous ? { anonymous: (request) => (request.ip === "127.0.0.1" ? "local" : undefined) } : {}),
        onUnauthorized: (_request, reply, refusal) => {
          refusals.push(refusal);
          if (options.answer === false) return undefined;
          return reply.code(401).send({ error: { code: "unauthorized", message: "missing or wrong bearer token" } });
        },
      }),
    );
    app.get("/secret", async (request) => ({ who: (request as unknown as { who: string }).who }));
    const get = async (authorization?: string, remoteAddress = "10.0.0.5") => {
      const res = await app!.inject({
        url: "/secret",
        remoteAddress,
        ...(authorization !== undefined ? { headers: { authorization } } : {}),
      });
      return { status: res.statusCode, body: res.json() as unknown };
    };
    return { get, refusals };
  }

  const refused = { status: 401, body: { error: { code: "unauthorized", message: "missing or wrong bearer token" } } };

  it("the right token passes and says whose it is", async () => {
    const { get } = guarded();
    expect(await get(`Bearer ${TOKEN}`)).toEqual({ status: 200, body: { who: "ops" } });
    expect(await get("bearer another-token-of-other-length")).toEqual({ status: 200, body: { who: "acme" } });
  });

  it("a wrong token, of the same length or not, is refused the same way", async () => {
    const { get, refusals } = guarded();
    expect(await get(`Bearer ${TOKEN.replace(/3$/, "4")}`)).toEqual(refused);
    expect(await get("Bearer short")).toEqual(refused);
    expect(refusals).toEqual(["unknown", "unknown"]);
  });

  it("no header, Basic, Bearer without a token and two tokens are refused", async () => {
    const { get, refusals } = guarded();
    expect(await get()).toEqual(refused);
    expect(await get(`Basic ${Buffer.from(`ops:${TOKEN}`).toString("base64")}`)).toEqual(refused);
    expect(await get("Bearer")).toEqual(refused);
    expect(await get(`Bearer ${TOKEN} ${TOKEN}`)).toEqual(refused);
    expect(refusals).toEqual(["missing", "malformed", "malformed", "malformed"]);
  });

  it("anonymous lets a request without a header through as its principal; with a header, the token decides", async () => {
    const { get, refusals } = guarded({ anonymous: true });
    expect(await get(undefined, "127.0.0.1")).toEqual({ status: 200, body: { who: "local" } });
    expect(await get(undefined, "10.0.0.5")).toEqual(refused);
    expect(await get("Bearer wrong-token", "127.0.0.1")).toEqual(refused);
    expect(refusals).toEqual(["missing", "unknown"]);
  });

  it("an onUnauthorized that does not answer still refuses (401)", async () => {
    const { get } = guarded({ answer: false });
    const res = await get("Bearer wrong-token");
    expect(res.status).toBe(401);
    expect(res.body).not.toHaveProperty("who");
  });
});
