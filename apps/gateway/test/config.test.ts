import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "@tributary/config";
import { DEFAULT_REGION_MAX_MSG_SIZE, MAX_PAYLOAD_BYTES } from "@tributary/streams";
import { SCHEME_TYPES } from "@tributary/verify";
import {
  HEADER_ALLOWANCE_BYTES,
  loadGatewayConfig,
  MAX_BODY_BYTES_LIMIT,
  resolveGatewayConfig,
} from "../src/config.js";

const SECRET = "a-secret-of-enough-length-0123";
const base = {
  region: "us",
  sources: { demo: { scheme: { type: "webhook-hmac-sha256" }, secrets: [{ id: "k1", env: "DEMO_SECRET" }] } },
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("gateway config", () => {
  it("config - defaults fill in and secrets are read once from env", () => {
    const config = resolveGatewayConfig(base, { DEMO_SECRET: SECRET });
    expect(config.port).toBe(8080);
    expect(config.nats.publishTimeoutMs).toBe(5000);
    const demo = config.sources.get("demo")!;
    expect(demo.toleranceSeconds).toBe(300);
    expect(demo.secrets[0]!.key.toString()).toBe(SECRET);
  });

  it("config - admission and batch limits have defaults and are checked", () => {
    const config = resolveGatewayConfig(base, { DEMO_SECRET: SECRET });
    expect(config.admission).toEqual({
      maxInFlightPublishes: 8192,
      maxEventLoopDelayMs: 200,
      streamCheckIntervalMs: 1000,
      nearlyFullRatio: 0.9,
      maxRetryAfterSeconds: 300,
    });
    expect(config.batch).toEqual({ maxItems: 1000, maxBodyBytes: 1024 * 1024 });
    // Batches are off per source unless it says so; its own settings fall back to those above.
    expect(config.sources.get("demo")!.batch).toBeUndefined();
    const batched = (batch: unknown) =>
      resolveGatewayConfig(
        { ...base, batch: { maxItems: 50 }, sources: { demo: { ...base.sources.demo, batch } } },
        { DEMO_SECRET: SECRET },
      ).sources.get("demo")!.batch;
    expect(batched(true)).toEqual({ maxItems: 50, maxBodyBytes: 1024 * 1024 });
    expect(batched({ maxBodyBytes: 8192 })).toEqual({ maxItems: 50, maxBodyBytes: 8192 });
    expect(batched(false)).toBeUndefined();
    expect(
      configError(() => resolveGatewayConfig({ ...base, admission: { nearlyFullRatio: 1.5 } }, { DEMO_SECRET: SECRET }))
        .field,
    ).toBe("admission.nearlyFullRatio");
    expect(
      configError(() => resolveGatewayConfig({ ...base, batch: { maxItems: 0 } }, { DEMO_SECRET: SECRET })).field,
    ).toBe("batch.maxItems");
  });

  it("config - a secret whose env variable is unset names the field and the fix", () => {
    const err = configError(() => resolveGatewayConfig(base, {}));
    expect(err.field).toBe("sources.demo.secrets[0].env");
    expect(err.message).toContain("export DEMO_SECRET=");
  });

  it("config - a secret can come from a file, base64-encoded", () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-config-"));
    writeFileSync(join(dir, "s"), Buffer.from(SECRET).toString("base64") + "\n");
    const config = resolveGatewayConfig(
      {
        ...base,
        sources: { demo: { ...base.sources.demo, secrets: [{ id: "f", file: join(dir, "s"), encoding: "base64" }] } },
      },
      {},
    );
    expect(config.sources.get("demo")!.secrets[0]!.key.toString()).toBe(SECRET);
  });

  it("config - a secret with both env and file is refused", () => {
    const err = configError(() =>
      resolveGatewayConfig(
        { ...base, sources: { demo: { ...base.sources.demo, secrets: [{ id: "x", env: "A", file: "/b" }] } } },
        {},
      ),
    );
    expect(err.field).toBe("sources.demo.secrets[0]");
  });

  it("config - a short secret is refused", () => {
    expect(configError(() => resolveGatewayConfig(base, { DEMO_SECRET: "short" })).problem).toContain(
      "shorter than 16 bytes",
    );
  });

  it("config - a bad region names the field", () => {
    expect(configError(() => resolveGatewayConfig({ ...base, region: "US East" }, { DEMO_SECRET: SECRET })).field).toBe(
      "region",
    );
  });

  it("config - a source id unfit for NATS subjects is refused", () => {
    const err = configError(() =>
      resolveGatewayConfig({ ...base, sources: { "my.source": base.sources.demo } }, { DEMO_SECRET: SECRET }),
    );
    expect(err.field).toBe("sources.my.source");
  });

  it("config - no sources at all is refused", () => {
    expect(configError(() => resolveGatewayConfig({ ...base, sources: {} }, {})).field).toBe("sources");
  });

  it("config - an unknown scheme type lists the choices", () => {
    const err = configError(() =>
      resolveGatewayConfig(
        { ...base, sources: { demo: { ...base.sources.demo, scheme: { type: "md5" } } } },
        { DEMO_SECRET: SECRET },
      ),
    );
    expect(err.field).toBe("sources.demo.scheme.type");
    expect(err.problem).toBe(`must be one of ${SCHEME_TYPES.map((t) => JSON.stringify(t)).join(", ")}`);
  });

  it("L10 - a NATS URL carrying a user or password is refused without echoing it (it would reach logs and errors)", () => {
    for (const [url, at] of [
      ["nats://gateway-us:hunter2-secret@127.0.0.1:4222", 0],
      ["tls://:hunter2-secret@nats.example:4222", 1],
    ] as const) {
      const servers = at === 0 ? [url] : ["nats://127.0.0.1:4222", url];
      const err = configError(() => resolveGatewayConfig({ ...base, nats: { servers } }, { DEMO_SECRET: SECRET }));
      expect(err.field).toBe(`nats.servers[${at}]`);
      expect(err.message).not.toContain("hunter2");
    }
    const env = { DEMO_SECRET: SECRET, TRIBUTARY_NATS_URL: "nats://u:hunter2-secret@127.0.0.1:4222" };
    const dir = mkdtempSync(join(tmpdir(), "gw-config-"));
    try {
      writeFileSync(join(dir, "gateway.json"), JSON.stringify(base));
      expect(configError(() => loadGatewayConfig(env, join(dir, "gateway.json"))).field).toBe("nats.servers[0]");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("config - maxBodyBytes is capped where the repository's servers (max_payload) and the regional stream still take the body with its headers", () => {
    const source = (maxBodyBytes: number) => ({
      ...base,
      sources: { demo: { ...base.sources.demo, maxBodyBytes } },
    });
    expect(
      configError(() => resolveGatewayConfig(source(MAX_BODY_BYTES_LIMIT + 1), { DEMO_SECRET: SECRET })).field,
    ).toBe("sources.demo.maxBodyBytes");
    expect(
      resolveGatewayConfig(source(MAX_BODY_BYTES_LIMIT), { DEMO_SECRET: SECRET }).sources.get("demo")!.maxBodyBytes,
    ).toBe(MAX_BODY_BYTES_LIMIT);
    expect(MAX_BODY_BYTES_LIMIT + HEADER_ALLOWANCE_BYTES).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(MAX_BODY_BYTES_LIMIT + HEADER_ALLOWANCE_BYTES).toBeLessThanOrEqual(DEFAULT_REGION_MAX_MSG_SIZE);
  });

  it("M1 - a timestamp tolerance the duplicate window cannot guard is a config error: a request is accepted for 2 × toleranceSeconds", () => {
    const withTolerance = (toleranceSeconds: number, duplicateWindowSeconds = 900, type = "webhook-hmac-sha256") => ({
      ...base,
      stream: { duplicateWindowSeconds },
      sources: { demo: { ...base.sources.demo, scheme: { type }, toleranceSeconds } },
    });
    const err = configError(() => resolveGatewayConfig(withTolerance(451), { DEMO_SECRET: SECRET }));
    expect(err.field).toBe("sources.demo.toleranceSeconds");
    expect(
      resolveGatewayConfig(withTolerance(450), { DEMO_SECRET: SECRET }).sources.get("demo")!.toleranceSeconds,
    ).toBe(450);
    // A day of tolerance needs a two-day window; schemes that sign no timestamp have no such span.
    expect(configError(() => resolveGatewayConfig(withTolerance(86_400), { DEMO_SECRET: SECRET })).field).toBe(
      "sources.demo.toleranceSeconds",
    );
    expect(resolveGatewayConfig(withTolerance(86_400, 172_800), { DEMO_SECRET: SECRET }).sources.size).toBe(1);
    expect(resolveGatewayConfig(withTolerance(86_400, 900, "github"), { DEMO_SECRET: SECRET }).sources.size).toBe(1);
  });

  it("M1 - an id header the scheme does not sign is a config error naming the field; null is accepted", () => {
    const withId = (type: string, idHeader: string | null) => ({
      ...base,
      sources: { demo: { ...base.sources.demo, scheme: { type, idHeader } } },
    });
    for (const [type, header] of [
      ["webhook-hmac-sha256", "x-webhook-id"],
      ["github", "x-github-delivery"],
      ["shopify", "x-shopify-webhook-id"],
    ] as const) {
      expect(configError(() => resolveGatewayConfig(withId(type, header), { DEMO_SECRET: SECRET })).field).toBe(
        "sources.demo.scheme.idHeader",
      );
      expect(resolveGatewayConfig(withId(type, null), { DEMO_SECRET: SECRET }).sources.size).toBe(1);
    }
  });

  it("config - env overrides the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-config-"));
    const file = join(dir, "gateway.json");
    writeFileSync(file, JSON.stringify(base));
    let config;
    try {
      config = loadGatewayConfig(
        {
          DEMO_SECRET: SECRET,
          TRIBUTARY_PORT: "9999",
          TRIBUTARY_NATS_URL: "nats://127.0.0.1:4223, nats://127.0.0.1:4224",
          TRIBUTARY_REGION: "eu",
        },
        file,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(config.port).toBe(9999);
    expect(config.region).toBe("eu");
    expect(config.nats.servers).toEqual(["nats://127.0.0.1:4223", "nats://127.0.0.1:4224"]);
  });
});
