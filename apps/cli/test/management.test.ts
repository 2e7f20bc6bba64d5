import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { managementEndpoint } from "../src/ops/api.js";
import { sameJson } from "../src/ops/config-plan.js";
import { secretEnvName } from "../src/ops/config-export.js";

const dir = mkdtempSync(join(tmpdir(), "tributary-cli-api-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const context = (extra: Record<string, unknown>) => {
  const file = join(dir, `context-${Math.random()}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      hub: { url: "nats://127.0.0.1:4222" },
      regions: {},
      admin: { user: "admin", password: "pw" },
      aggregatorUrl: "http://127.0.0.1:8090",
      ...extra,
    }),
  );
  return () => file;
};

describe("management API endpoint", () => {
  it("endpoint - --api-url, then TRIBUTARY_API_URL, then the context's apiUrl, then its aggregatorUrl; the token likewise", () => {
    const env = { TRIBUTARY_API_URL: "http://env:1/", TRIBUTARY_API_TOKEN: "env-token" };
    const bare = context({});
    expect(managementEndpoint({ url: "http://flag:1", token: "flag-token" }, bare, env)).toEqual({
      baseUrl: "http://flag:1",
      token: "flag-token",
    });
    expect(managementEndpoint({}, bare, env)).toEqual({ baseUrl: "http://env:1", token: "env-token" });
    expect(managementEndpoint({}, bare, {})).toEqual({ baseUrl: "http://127.0.0.1:8090", token: undefined });
    expect(managementEndpoint({}, context({ apiUrl: "https://api:9", apiToken: "ctx-token" }), {})).toEqual({
      baseUrl: "https://api:9",
      token: "ctx-token",
    });
    expect(managementEndpoint({}, context({ apiToken: "ctx-token" }), { TRIBUTARY_API_TOKEN: "env-token" }).token).toBe(
      "env-token",
    );
  });

  it("endpoint - without an address or a context, says how to give one", () => {
    expect(() => managementEndpoint({}, () => join(dir, "missing.json"), {})).toThrow(/--api-url URL/);
  });

  it("plan - settings compare as JSON whatever their key order; exported secrets name env variables", () => {
    expect(sameJson({ a: 1, b: { c: [1, 2], d: null } }, { b: { d: null, c: [1, 2] }, a: 1 })).toBe(true);
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(secretEnvName("shop-eu", "2026.01")).toBe("TRIBUTARY_SOURCE_SHOP_EU_2026_01");
  });
});
