import { describe, expect, it } from "vitest";
import type { ReconcileReader, WarehouseReader } from "@tributary/warehouse";
import { buildHttp } from "../src/app.js";

const reader = {
  countEvents: async () => 0,
  recentEvents: async () => [],
  eventKeys: async () => [],
} as unknown as WarehouseReader;
const reconcile: ReconcileReader = {
  seqRanges: async () => [[1, 3]],
  seqDoubles: async () => [],
  existingKeys: async (keys) => new Set(keys),
};

describe("operator endpoints", () => {
  it("operator - without a token nobody is answered; with operatorLoopback (local development) loopback callers are", async () => {
    const closed = buildHttp({ reader, loader: () => undefined, reconcile });
    for (const remoteAddress of ["127.0.0.1", "10.0.0.5"]) {
      const res = await closed.inject({ url: "/v1/reconcile/us/ranges", remoteAddress });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ error: { code: "operator_token_required" } });
    }
    await closed.close();
    const local = buildHttp({ reader, loader: () => undefined, reconcile, operatorLoopback: true });
    expect((await local.inject({ url: "/v1/reconcile/us/ranges" })).json()).toEqual({
      region: "us",
      ranges: [[1, 3]],
      erased: 0,
      retainedSince: null,
    });
    const remote = await local.inject({ url: "/v1/reconcile/us/ranges", remoteAddress: "10.0.0.5" });
    expect(remote.statusCode).toBe(403);
    expect(remote.json()).toMatchObject({ error: { code: "operator_token_required" } });
    expect(
      (
        await local.inject({
          method: "POST",
          url: "/v1/reconcile/keys",
          payload: { keys: ["a"] },
          remoteAddress: "10.0.0.5",
        })
      ).statusCode,
    ).toBe(403);
    // Stats are the operator's too; only the probes are open.
    expect((await local.inject({ url: "/v1/stats", remoteAddress: "10.0.0.5" })).statusCode).toBe(403);
    expect((await local.inject({ url: "/healthz", remoteAddress: "10.0.0.5" })).statusCode).toBe(200);
    await local.close();
  });

  it("operator - with a token every caller needs it, loopback too", async () => {
    const app = buildHttp({ reader, loader: () => undefined, reconcile, operatorToken: "operator-token-0123456789" });
    expect((await app.inject({ url: "/v1/reconcile/us/doubles" })).statusCode).toBe(401);
    expect(
      (
        await app.inject({
          url: "/v1/reconcile/us/doubles",
          headers: { authorization: "Bearer wrong-token-0123456789" },
        })
      ).statusCode,
    ).toBe(401);
    const ok = await app.inject({
      url: "/v1/reconcile/us/doubles",
      remoteAddress: "10.0.0.5",
      headers: { authorization: "Bearer operator-token-0123456789" },
    });
    expect(ok.statusCode).toBe(200);
    await app.close();
  });
});
