import * as crypto from "node:crypto";
import { afterAll, describe, expect, it, vi } from "vitest";
import { buildApp } from "../src/app.js";

// The real timingSafeEqual, watched: the admin token check must always reach it, with digests.
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});
const timingSafeEqual = vi.mocked(crypto.timingSafeEqual);

const ADMIN_TOKEN = "admin-token-0123456789abcdef";

describe("admin endpoints - bearer token", () => {
  // No service: a request the token lets through gets 503 not_ready, a refused one 401 before that.
  const app = buildApp({ service: () => undefined, natsConnected: () => false, adminToken: ADMIN_TOKEN });
  afterAll(() => app.close());

  async function dlq(authorization?: string) {
    timingSafeEqual.mockClear();
    const res = await app.inject({
      url: "/v1/destinations/crm/dlq",
      ...(authorization !== undefined ? { headers: { authorization } } : {}),
    });
    const compared = timingSafeEqual.mock.calls.map(([a, b]) => [(a as Buffer).length, (b as Buffer).length]);
    return { status: res.statusCode, body: res.json() as unknown, compared };
  }

  it("the right token passes the check", async () => {
    const ok = await dlq(`Bearer ${ADMIN_TOKEN}`);
    expect(ok.status).toBe(503);
    expect(ok.body).toMatchObject({ error: { code: "not_ready" } });
    expect(ok.compared).toEqual([[32, 32]]);
  });

  it("a wrong token of another length is refused on the same path as one of the same length: one compare of equal-length digests", async () => {
    const sameLength = await dlq(`Bearer ${ADMIN_TOKEN.replace(/f$/, "0")}`);
    const shorter = await dlq("Bearer x");
    const longer = await dlq(`Bearer ${ADMIN_TOKEN}${ADMIN_TOKEN}`);
    const refused = { error: { code: "unauthorized", message: "Missing or wrong bearer token." } };
    for (const res of [sameLength, shorter, longer]) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual(refused);
      expect(res.compared).toEqual([[32, 32]]);
    }
  });

  it("no header, another scheme or a malformed bearer header is refused with the same answer", async () => {
    for (const header of [undefined, `Basic ${ADMIN_TOKEN}`, "Bearer", `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}`]) {
      const res = await dlq(header);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code: "unauthorized", message: "Missing or wrong bearer token." } });
    }
  });
});
