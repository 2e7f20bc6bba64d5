import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "@tributary/config";
import { loadAggregatorConfig } from "../src/config.js";
import { apiTokens, buildEnricher } from "../src/enrich-config.js";

function configWith(extra: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), "agg-config-"));
  try {
    writeFileSync(join(dir, "c.json"), JSON.stringify(extra));
    return loadAggregatorConfig({}, join(dir, "c.json"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("aggregator config - enrichment and API", () => {
  it("config - defaults: enrichment on with truncated IPs, API on without tokens, no anonymous loopback reads", () => {
    const config = configWith({});
    expect(config.enrich).toMatchObject({ enabled: true, ipMode: "truncate", uniqueRule: "per_link_24h" });
    expect(config.api).toMatchObject({
      enabled: true,
      tokens: [],
      anonymousLoopback: false,
      rateLimit: { max: 600, windowMs: 60_000 },
    });
    expect(buildEnricher(config.enrich, {})).toBeDefined();
    expect(buildEnricher(configWith({ enrich: { enabled: false } }).enrich, {})).toBeUndefined();
  });

  it("config - hash mode without a key, a missing key variable, an unknown rule and a bad geo file name the field", () => {
    expect(configError(() => buildEnricher(configWith({ enrich: { ipMode: "hash" } }).enrich, {})).field).toBe(
      "enrich.ipMode",
    );
    expect(
      configError(() => buildEnricher(configWith({ enrich: { ipMode: "hash", hashKeyEnv: "IP_KEY" } }).enrich, {}))
        .message,
    ).toMatch(/export IP_KEY=/);
    expect(
      buildEnricher(configWith({ enrich: { ipMode: "hash", hashKeyEnv: "IP_KEY" } }).enrich, {
        IP_KEY: "k".repeat(32),
      }),
    ).toBeDefined();
    expect(configError(() => buildEnricher(configWith({ enrich: { uniqueRule: "per_moon" } }).enrich, {})).field).toBe(
      "enrich.uniqueRule",
    );
    expect(
      configError(() => buildEnricher(configWith({ enrich: { geoDatabase: "/nope/City.mmdb" } }).enrich, {})).field,
    ).toBe("enrich.geoDatabase");
    expect(
      configError(() =>
        buildEnricher(configWith({ enrich: { redact: [{ path: "data.ip", action: "hash" }] } }).enrich, {}),
      ).message,
    ).toMatch(/hash key/);
    expect(configError(() => configWith({ enrich: { ipMode: "scramble" } })).field).toMatch(/enrich\.ipMode/);
  });

  it("config - API tokens come from env or file, scoped, and refuse a missing or short secret", () => {
    const config = configWith({ api: { tokens: [{ id: "acme", env: "ACME", sources: ["acme"] }] } });
    expect(apiTokens(config.api, { ACME: "a".repeat(24) })).toEqual([
      { id: "acme", token: "a".repeat(24), sources: ["acme"], scope: "read" },
    ]);
    expect(configError(() => apiTokens(config.api, {})).field).toBe("api.tokens[0].env");
    expect(configError(() => apiTokens(config.api, { ACME: "short" })).field).toBe("api.tokens[0]");
  });
});
