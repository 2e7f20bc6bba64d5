import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startNatsServer, startService, type NatsServer, type Service } from "@tributary/testkit";

export interface LocalOptions {
  /** State dir for configs, secrets, NATS store and the DuckDB file. */
  stateDir: string;
  natsPort: number;
  gatewayPort: number;
  aggregatorPort: number;
  region: string;
  source: string;
}

export const DEFAULT_LOCAL: LocalOptions = {
  stateDir: ".tributary",
  natsPort: 4222,
  gatewayPort: 8080,
  aggregatorPort: 8090,
  region: "us",
  source: "demo",
};

export interface LocalSystem {
  nats: NatsServer;
  gateway: Service;
  aggregator: Service;
  gatewayUrl: string;
  aggregatorUrl: string;
  secretFile: string;
  stop(): Promise<void>;
}

export function secretFileOf(stateDir: string, source: string): string {
  return join(resolve(stateDir), "secrets", `${source}.secret`);
}

/** A random secret per checkout, kept out of the repo (in the state dir, which git ignores). */
function ensureSecret(file: string): void {
  if (existsSync(file)) return;
  mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
  writeFileSync(file, randomBytes(32).toString("hex") + "\n", { mode: 0o600 });
}

function entryOf(pkg: "@tributary/gateway" | "@tributary/aggregator"): string {
  return fileURLToPath(import.meta.resolve(`${pkg}/main`));
}

/**
 * Starts the local system: one region's nats-server (JetStream domain = region), its gateway and
 * the aggregator loading into a DuckDB file, all on loopback, with state under `stateDir`.
 */
export async function startLocal(opts: LocalOptions = DEFAULT_LOCAL): Promise<LocalSystem> {
  const stateDir = resolve(opts.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const secretFile = secretFileOf(stateDir, opts.source);
  ensureSecret(secretFile);

  const nats = await startNatsServer({ name: `tributary-${opts.region}`, domain: opts.region, port: opts.natsPort, dir: join(stateDir, `nats-${opts.region}`) });

  const gatewayConfig = join(stateDir, `gateway-${opts.region}.json`);
  writeFileSync(gatewayConfig, JSON.stringify({
    region: opts.region,
    port: opts.gatewayPort,
    nats: { servers: [nats.url] },
    stream: { maxBytes: 1024 ** 3 }, // 1 GiB is plenty on a laptop
    sources: {
      [opts.source]: {
        scheme: { type: "webhook-hmac-sha256" },
        secrets: [{ id: "local", file: secretFile }],
      },
    },
  }, null, 2));
  const aggregatorConfig = join(stateDir, "aggregator.json");
  writeFileSync(aggregatorConfig, JSON.stringify({
    port: opts.aggregatorPort,
    warehouseUrl: `duckdb://${join(stateDir, "tributary.duckdb")}`,
    nats: { servers: [nats.url] },
    // One region and no hub yet: the aggregator loads straight from the regional stream.
    stream: `EVENTS_${opts.region.toUpperCase()}`,
  }, null, 2));

  const gatewayUrl = `http://127.0.0.1:${opts.gatewayPort}`;
  const gateway = await startService({
    name: "gateway",
    entry: entryOf("@tributary/gateway"),
    env: { TRIBUTARY_CONFIG: gatewayConfig },
    readyUrl: `${gatewayUrl}/readyz`,
    output: "inherit",
  });
  const aggregatorUrl = `http://127.0.0.1:${opts.aggregatorPort}`;
  const aggregator = await startService({
    name: "aggregator",
    entry: entryOf("@tributary/aggregator"),
    env: { TRIBUTARY_CONFIG: aggregatorConfig },
    readyUrl: `${aggregatorUrl}/readyz`,
    output: "inherit",
  });

  return {
    nats,
    gateway,
    aggregator,
    gatewayUrl,
    aggregatorUrl,
    secretFile,
    async stop() {
      await Promise.all([gateway.stop(), aggregator.stop()]);
      await nats.stop();
    },
  };
}

export function readSecret(file: string): string {
  return readFileSync(file, "utf8").trim();
}
