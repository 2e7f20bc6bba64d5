import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  connectNats,
  deliveriesStreamConfig,
  deliveryDlqStreamConfig,
  deliveryReplayStreamConfig,
  dlqStreamConfig,
  ensureConsumer,
  ensureStream,
  hubSourceConsumerConfig,
  hubStreamConfig,
  regionalStreamName,
  regionalStreamConfig,
  renderHubServerConfig,
  renderRegionServerConfig,
  type UserCredential,
} from "@tributary/streams";
import { writeContext } from "./ops/context.js";
import { startNatsServer, startService, startTcpProxy, type NatsServer, type Service, type TcpProxy } from "@tributary/testkit";

export const AGGREGATOR_DURABLE = "warehouse-loader";

export interface TopologyOptions {
  /** Configs, credentials, secrets, NATS stores and the DuckDB file live here. */
  stateDir: string;
  regions: readonly string[];
  /** The source every gateway accepts, signed with one local secret. */
  source: string;
  /** -1 lets each nats-server choose its ports (tests); fixed ports for `tributary up`. */
  hubPort: number;
  hubLeafnodePort: number;
  /** Client port of each region's nats-server, in the order of `regions` (or -1 for all). */
  regionPorts: readonly number[] | -1;
  gatewayPorts: readonly number[];
  aggregatorPort: number;
  /**
   * Destinations for the delivery process (apps/delivery's `destinations`, as JSON). With none,
   * no delivery process runs; its streams are provisioned anyway, so one can start later.
   */
  destinations?: readonly DestinationSpec[];
  /** The delivery process's stats/admin port (8091 by default). */
  deliveryPort?: number;
  /**
   * Route each region's leafnode link through a TCP proxy the caller can cut (fault tests).
   * Without it the region connects to the hub directly.
   */
  cuttableLinks?: boolean;
  /** Extra aggregator settings (e.g. smaller batches in tests). */
  aggregatorOverrides?: Record<string, unknown>;
  /** Where app logs go: "inherit" prefixes them on stdout (tributary up), "buffer" keeps a tail. */
  output?: "inherit" | "buffer";
  logLevel?: string;
  /** Extra environment for every app process (e.g. OTEL_* to export traces). */
  appEnv?: Record<string, string>;
}

/** One destination as apps/delivery's config takes it (validated by the delivery process at start). */
export type DestinationSpec = { name: string } & Record<string, unknown>;

export const DEFAULT_DELIVERY_PORT = 8091;

export const DEFAULT_TOPOLOGY: TopologyOptions = {
  stateDir: ".tributary",
  regions: ["us", "eu"],
  source: "demo",
  hubPort: 4222,
  hubLeafnodePort: 7422,
  regionPorts: [4223, 4224],
  gatewayPorts: [8080, 8081],
  aggregatorPort: 8090,
};

export interface Credentials {
  admin: UserCredential;
  aggregator: UserCredential;
  /** Made when a delivery process first runs in this state dir. */
  delivery?: UserCredential;
  gateways: Record<string, UserCredential>;
  leafs: Record<string, UserCredential>;
}

export interface RegionHandle {
  region: string;
  nats: NatsServer;
  gateway: Service;
  gatewayUrl: string;
  /** Present with cuttableLinks: the leafnode links to the hub (one proxy shared by all regions). */
  link: TcpProxy | undefined;
}

export interface Topology {
  options: TopologyOptions;
  stateDir: string;
  credentials: Credentials;
  hub: NatsServer;
  regions: Map<string, RegionHandle>;
  aggregator: Service;
  aggregatorUrl: string;
  /** Present when destinations were given. */
  delivery: { service: Service; url: string } | undefined;
  secretFile: string;
  /** Starts the aggregator again (after a kill in a fault test). */
  restartAggregator(): Promise<Service>;
  stop(): Promise<void>;
}

function password(): string {
  return randomBytes(18).toString("base64url");
}

/** Random credentials per user, made once per state dir and kept there (mode 0600). */
function loadOrCreateCredentials(stateDir: string, regions: readonly string[], withDelivery: boolean): Credentials {
  const file = join(stateDir, "credentials.json");
  let creds: Credentials | undefined;
  if (existsSync(file)) creds = JSON.parse(readFileSync(file, "utf8")) as Credentials;
  creds ??= { admin: { user: "admin", password: password() }, aggregator: { user: "aggregator", password: password() }, gateways: {}, leafs: {} };
  if (withDelivery) creds.delivery ??= { user: "delivery", password: password() };
  for (const region of regions) {
    creds.gateways[region] ??= { user: `gateway-${region}`, password: password() };
    creds.leafs[region] ??= { user: `leaf-${region}`, password: password() };
  }
  writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
  return creds;
}

function ensureSecret(file: string): void {
  if (existsSync(file)) return;
  mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
  writeFileSync(file, randomBytes(32).toString("hex") + "\n", { mode: 0o600 });
}

export function secretFileOf(stateDir: string, source: string): string {
  return join(resolve(stateDir), "secrets", `${source}.secret`);
}

function entryOf(pkg: "@tributary/gateway" | "@tributary/aggregator" | "@tributary/delivery-app"): string {
  return fileURLToPath(import.meta.resolve(`${pkg}/main`));
}

/** The streams, provisioned by the admin user: the apps' own users cannot create them. */
async function provision(hub: NatsServer, regions: Map<string, NatsServer>, admin: UserCredential): Promise<void> {
  for (const [region, server] of regions) {
    const nc = await connectNats({ servers: [server.url], name: "tributary-provision", user: admin.user, pass: admin.password });
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStream(jsm, regionalStreamConfig({ region, maxBytes: 1024 ** 3 }));
      await ensureConsumer(jsm, regionalStreamName(region), hubSourceConsumerConfig(region));
    } finally {
      await nc.close();
    }
  }
  const nc = await connectNats({ servers: [hub.url], name: "tributary-provision", user: admin.user, pass: admin.password });
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, hubStreamConfig({ regions: [...regions.keys()], maxBytes: 4 * 1024 ** 3 }));
    await ensureStream(jsm, dlqStreamConfig());
    // The delivery process's streams: its DLQ, its replays, and the attempt log the aggregator
    // loads (before the aggregator starts, so it loads the log from its first moment).
    for (const config of [deliveryDlqStreamConfig(), deliveryReplayStreamConfig(), deliveriesStreamConfig()]) await ensureStream(jsm, config);
  } finally {
    await nc.close();
  }
}

/**
 * The whole system on loopback: a hub nats-server (domain `hub`) and one nats-server per region
 * (domain = region) linked to it as leafnodes, every stream provisioned, a gateway per region and
 * the aggregator loading the hub stream into DuckDB. Each app runs as its own process with
 * least-privilege NATS credentials, as in production.
 */
export async function startTopology(options: TopologyOptions = DEFAULT_TOPOLOGY): Promise<Topology> {
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const destinations = options.destinations ?? [];
  const credentials = loadOrCreateCredentials(stateDir, options.regions, destinations.length > 0);
  const secretFile = secretFileOf(stateDir, options.source);
  ensureSecret(secretFile);
  const logLevel = options.logLevel ?? "info";
  const output = options.output ?? "buffer";
  const started: Array<{ stop(): Promise<unknown> }> = [];

  try {
    // Regions learn the hub's leafnode address from the hub and reconnect to it directly, so a
    // cuttable link is a proxy that the hub itself advertises.
    let hubLeafnodePort = -1;
    const link = options.cuttableLinks ? await startTcpProxy(() => ({ port: hubLeafnodePort })) : undefined;
    if (link) started.push({ stop: () => link.close() });
    const hub = await startNatsServer({
      name: "hub",
      dir: join(stateDir, "nats-hub"),
      leafnodeListener: true,
      config: (ctx) => renderHubServerConfig({
        storeDir: ctx.storeDir,
        port: ctx.port === -1 ? options.hubPort : ctx.port,
        leafnodePort: ctx.leafnodePort === -1 ? options.hubLeafnodePort : ctx.leafnodePort,
        admin: credentials.admin,
        aggregator: credentials.aggregator,
        aggregatorDurable: AGGREGATOR_DURABLE,
        leafs: options.regions.map((region) => ({ region, credential: credentials.leafs[region]! })),
        ...(credentials.delivery && destinations.length > 0 ? { delivery: { credential: credentials.delivery, destinations: destinations.map((d) => d.name) } } : {}),
        ...(link ? { leafnodeAdvertise: `127.0.0.1:${link.port}` } : {}),
      }),
    });
    hubLeafnodePort = hub.ports.leafnode!;
    started.push({ stop: () => hub.stop() });

    const servers = new Map<string, NatsServer>();
    const leafUrl = link ? link.url("nats-leaf") : `nats-leaf://127.0.0.1:${hub.ports.leafnode}`;
    for (const [i, region] of options.regions.entries()) {
      const port = options.regionPorts === -1 ? -1 : options.regionPorts[i]!;
      const server = await startNatsServer({
        name: region,
        dir: join(stateDir, `nats-${region}`),
        config: (ctx) => renderRegionServerConfig({
          region,
          storeDir: ctx.storeDir,
          port: ctx.port === -1 ? port : ctx.port,
          hubLeafnodeUrl: leafUrl,
          admin: credentials.admin,
          gateway: credentials.gateways[region]!,
          leaf: credentials.leafs[region]!,
        }),
      });
      servers.set(region, server);
      started.push({ stop: () => server.stop() });
    }

    await provision(hub, servers, credentials.admin);

    const regions = new Map<string, RegionHandle>();
    for (const [i, region] of options.regions.entries()) {
      const server = servers.get(region)!;
      const configFile = join(stateDir, `gateway-${region}.json`);
      const gatewayPort = options.gatewayPorts[i]!;
      writeFileSync(configFile, JSON.stringify({
        region,
        port: gatewayPort,
        logLevel,
        nats: { servers: [server.url], user: credentials.gateways[region]!.user },
        stream: { manage: false },
        sources: { [options.source]: { scheme: { type: "webhook-hmac-sha256" }, secrets: [{ id: "local", file: secretFile }] } },
      }, null, 2));
      const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
      const gateway = await startService({
        name: `gateway-${region}`,
        entry: entryOf("@tributary/gateway"),
        // The password comes through env, never the config file.
        env: { ...options.appEnv, TRIBUTARY_CONFIG: configFile, TRIBUTARY_NATS_PASS: credentials.gateways[region]!.password },
        readyUrl: `${gatewayUrl}/readyz`,
        output,
      });
      started.push(gateway);
      regions.set(region, { region, nats: server, gateway, gatewayUrl, link });
    }

    const aggregatorConfig = join(stateDir, "aggregator.json");
    writeFileSync(aggregatorConfig, JSON.stringify({
      port: options.aggregatorPort,
      logLevel,
      warehouseUrl: `duckdb://${join(stateDir, "tributary.duckdb")}`,
      nats: { servers: [hub.url], user: credentials.aggregator.user },
      manageStreams: false,
      stream: "EVENTS",
      durable: AGGREGATOR_DURABLE,
      // The local loop reads rows without a token (`tributary rows`, curl); never a production default.
      api: { anonymousLoopback: true },
      ...options.aggregatorOverrides,
    }, null, 2));
    const aggregatorUrl = `http://127.0.0.1:${options.aggregatorPort}`;
    const startAggregator = () => startService({
      name: "aggregator",
      entry: entryOf("@tributary/aggregator"),
      env: { ...options.appEnv, TRIBUTARY_CONFIG: aggregatorConfig, TRIBUTARY_NATS_PASS: credentials.aggregator.password },
      readyUrl: `${aggregatorUrl}/readyz`,
      output,
    });
    let aggregator = await startAggregator();
    started.push({ stop: () => aggregator.stop() });

    let delivery: Topology["delivery"];
    if (destinations.length > 0) {
      const deliveryConfig = join(stateDir, "delivery.json");
      const deliveryPort = options.deliveryPort ?? DEFAULT_DELIVERY_PORT;
      writeFileSync(deliveryConfig, JSON.stringify({
        port: deliveryPort,
        logLevel,
        nats: { servers: [hub.url], user: credentials.delivery!.user },
        manageStreams: false,
        destinations,
      }, null, 2), { mode: 0o600 }); // a destination's headers may carry a credential
      const url = `http://127.0.0.1:${deliveryPort}`;
      const service = await startService({
        name: "delivery",
        entry: entryOf("@tributary/delivery-app"),
        env: { ...options.appEnv, TRIBUTARY_CONFIG: deliveryConfig, TRIBUTARY_NATS_PASS: credentials.delivery!.password },
        readyUrl: `${url}/readyz`,
        output,
      });
      started.push(service);
      delivery = { service, url };
    }

    const topology: Topology = {
      options,
      stateDir,
      credentials,
      hub,
      regions,
      get aggregator() {
        return aggregator;
      },
      aggregatorUrl,
      delivery,
      secretFile,
      async restartAggregator() {
        await aggregator.stop();
        aggregator = await startAggregator();
        return aggregator;
      },
      async stop() {
        await delivery?.service.stop();
        await aggregator.stop();
        await Promise.all([...regions.values()].map((r) => r.gateway.stop()));
        for (const r of regions.values()) await r.nats.stop();
        await link?.close();
        await hub.stop();
      },
    };
    // Where the operator commands (status, reconcile, dlq, replay, doctor) find this system.
    writeContext(join(stateDir, "context.json"), {
      hub: { url: hub.url },
      hubConfigFile: hub.configPath,
      regions: Object.fromEntries([...regions.values()].map((r) => [r.region, { url: r.nats.url, gatewayUrl: r.gatewayUrl, configFile: r.nats.configPath }])),
      admin: credentials.admin,
      aggregatorUrl,
      ...(delivery ? { deliveryUrl: delivery.url } : {}),
      durable: AGGREGATOR_DURABLE,
    });
    return topology;
  } catch (err) {
    for (const part of started.reverse()) await part.stop().catch(() => undefined);
    throw err;
  }
}

export function readSecret(file: string): string {
  return readFileSync(file, "utf8").trim();
}
