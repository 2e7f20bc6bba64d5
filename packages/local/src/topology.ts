import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
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
  type ClusterOptions,
  type UserCredential,
} from "@tributary/streams";
import {
  startNatsCluster,
  startNatsServer,
  startService,
  startTcpProxy,
  type NatsCluster,
  type NatsServer,
  type Service,
  type TcpProxy,
} from "@tributary/processes";
import { appEntry } from "./apps.js";
import { writeContext } from "./context.js";

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
  /**
   * Run regions (and the hub) as clusters of `size` nats-servers with streams of `size` replicas
   * (3: R3, which survives losing one node): `regions` (default all) and `hub` (default true) pick
   * which. Apps connect to every node. With fixed ports the first node takes the part's port and the
   * others get free ones. Without it every part is one nats-server (the light default).
   */
  cluster?: { size: number; regions?: readonly string[]; hub?: boolean };
  /**
   * `always`: every nats-server fsyncs each write before its PubAck (`sync_interval: always`, what
   * power-loss durability needs, as the production configs set it). Default: nats-server's lazy fsync.
   */
  syncInterval?: "always";
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
  /** Route users of the clusters, by cluster name (`tributary-us`, `tributary-hub`); made when one first runs. */
  routes?: Record<string, UserCredential>;
}

export interface RegionHandle {
  region: string;
  /** The region's nats-server; with a cluster, its first node. */
  nats: NatsServer;
  /** Every nats-server of the region (one unless clustered): kill one to test a node failure. */
  nodes: readonly NatsServer[];
  /** Their client URLs, as the gateway is given them. */
  natsUrls: string[];
  /** Present when the region runs as a cluster (waitHealthy after a node's restart). */
  cluster: NatsCluster | undefined;
  gateway: Service;
  gatewayUrl: string;
  /** Present with cuttableLinks: the leafnode links to the hub (one proxy shared by all regions). */
  link: TcpProxy | undefined;
}

export interface Topology {
  options: TopologyOptions;
  stateDir: string;
  credentials: Credentials;
  /** The hub's nats-server; with a cluster, its first node. */
  hub: NatsServer;
  /** Every nats-server of the hub (one unless clustered). */
  hubNodes: readonly NatsServer[];
  hubCluster: NatsCluster | undefined;
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
function loadOrCreateCredentials(
  stateDir: string,
  regions: readonly string[],
  withDelivery: boolean,
  clusters: readonly string[],
): Credentials {
  const file = join(stateDir, "credentials.json");
  let creds: Credentials | undefined;
  if (existsSync(file)) creds = JSON.parse(readFileSync(file, "utf8")) as Credentials;
  creds ??= {
    admin: { user: "admin", password: password() },
    aggregator: { user: "aggregator", password: password() },
    gateways: {},
    leafs: {},
  };
  if (withDelivery) creds.delivery ??= { user: "delivery", password: password() };
  for (const region of regions) {
    creds.gateways[region] ??= { user: `gateway-${region}`, password: password() };
    creds.leafs[region] ??= { user: `leaf-${region}`, password: password() };
  }
  if (clusters.length > 0) creds.routes ??= {};
  for (const cluster of clusters) creds.routes![cluster] ??= { user: "route", password: password() };
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

/** One part's nats-servers: a lone server, or the nodes of its cluster. */
interface NatsPart {
  nodes: NatsServer[];
  cluster: NatsCluster | undefined;
}

/** What a part's config is rendered from: startNatsServer's context, plus the node's name and cluster block when clustered. */
type PartContext = {
  storeDir: string;
  port: number;
  leafnodePort: number;
  index: number;
  serverName?: string;
  cluster?: ClusterOptions;
};

/**
 * Starts one part (a region or the hub, named `name`): one nats-server in `<stateDir>/nats-<name>`
 * as always, or `size` nodes of the cluster `tributary-<name>` in `<stateDir>/nats-<name>-cluster`
 * (a store of its own: a one-server run's events are not carried into a cluster run).
 */
async function startPart(opts: {
  stateDir: string;
  name: string;
  size: number;
  leafnodeListener?: boolean;
  route: UserCredential | undefined;
  render: (ctx: PartContext) => string;
}): Promise<NatsPart> {
  if (opts.size <= 1) {
    const server = await startNatsServer({
      name: opts.name,
      dir: join(opts.stateDir, `nats-${opts.name}`),
      ...(opts.leafnodeListener ? { leafnodeListener: true } : {}),
      config: (ctx) => opts.render({ ...ctx, index: 0 }),
    });
    return { nodes: [server], cluster: undefined };
  }
  const clusterName = `tributary-${opts.name}`;
  const cluster = await startNatsCluster({
    size: opts.size,
    dir: join(opts.stateDir, `nats-${opts.name}-cluster`),
    ...(opts.leafnodeListener ? { leafnodeListener: true } : {}),
    config: (ctx) =>
      opts.render({
        storeDir: ctx.storeDir,
        port: ctx.port,
        leafnodePort: ctx.leafnodePort,
        index: ctx.index,
        serverName: `${clusterName}-${ctx.index + 1}`,
        cluster: {
          name: clusterName,
          port: ctx.clusterPort,
          routes: ctx.routes,
          ...(opts.route ? { credential: opts.route } : {}),
        },
      }),
  });
  return { nodes: [...cluster.nodes], cluster };
}

/** A fixed port goes to a part's first node only; the others (and every node with -1) get free ones. */
function portOf(ctxPort: number, index: number, fixed: number): number {
  return ctxPort !== -1 ? ctxPort : index === 0 ? fixed : -1;
}

/**
 * The streams, provisioned by the admin user: the apps' own users cannot create them. A clustered
 * part gets streams (and the hub-source consumer) with one replica per node.
 */
async function provision(hub: NatsPart, regions: Map<string, NatsPart>, admin: UserCredential): Promise<void> {
  for (const [region, part] of regions) {
    const replicas = part.nodes.length;
    const nc = await connectNats({
      servers: part.nodes.map((n) => n.url),
      name: "tributary-provision",
      user: admin.user,
      pass: admin.password,
    });
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStream(
        jsm,
        regionalStreamConfig({ region, maxBytes: 1024 ** 3, ...(replicas > 1 ? { replicas } : {}) }),
      );
      await ensureConsumer(jsm, regionalStreamName(region), {
        ...hubSourceConsumerConfig(region),
        ...(replicas > 1 ? { num_replicas: replicas } : {}),
      });
    } finally {
      await nc.close();
    }
  }
  const replicas = hub.nodes.length > 1 ? { replicas: hub.nodes.length } : {};
  const nc = await connectNats({
    servers: hub.nodes.map((n) => n.url),
    name: "tributary-provision",
    user: admin.user,
    pass: admin.password,
  });
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, hubStreamConfig({ regions: [...regions.keys()], maxBytes: 4 * 1024 ** 3, ...replicas }));
    await ensureStream(jsm, dlqStreamConfig(replicas));
    // The delivery process's streams: its DLQ, its replays, and the attempt log the aggregator
    // loads (before the aggregator starts, so it loads the log from its first moment).
    for (const config of [
      deliveryDlqStreamConfig(replicas),
      deliveryReplayStreamConfig(replicas),
      deliveriesStreamConfig(replicas),
    ])
      await ensureStream(jsm, config);
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
  const clusterSize = options.cluster?.size ?? 1;
  const hubSize = clusterSize > 1 && options.cluster?.hub !== false ? clusterSize : 1;
  const regionSize = (region: string) =>
    clusterSize > 1 && (options.cluster?.regions ?? options.regions).includes(region) ? clusterSize : 1;
  const clustered = [...(hubSize > 1 ? ["hub"] : []), ...options.regions.filter((r) => regionSize(r) > 1)].map(
    (name) => `tributary-${name}`,
  );
  const credentials = loadOrCreateCredentials(stateDir, options.regions, destinations.length > 0, clustered);
  const secretFile = secretFileOf(stateDir, options.source);
  ensureSecret(secretFile);
  const logLevel = options.logLevel ?? "info";
  const output = options.output ?? "buffer";
  const started: Array<{ stop(): Promise<unknown> }> = [];

  try {
    // Regions learn the hub's leafnode address from the hub and reconnect to it directly, so a
    // cuttable link is a proxy that the hub itself advertises.
    // (With a clustered hub the proxy leads to its first node, and every node advertises the proxy.)
    let hubLeafnodePort = -1;
    const link = options.cuttableLinks ? await startTcpProxy(() => ({ port: hubLeafnodePort })) : undefined;
    if (link) started.push({ stop: () => link.close() });
    const hubPart = await startPart({
      stateDir,
      name: "hub",
      size: hubSize,
      leafnodeListener: true,
      route: credentials.routes?.["tributary-hub"],
      render: (ctx) =>
        renderHubServerConfig({
          storeDir: ctx.storeDir,
          port: portOf(ctx.port, ctx.index, options.hubPort),
          leafnodePort: portOf(ctx.leafnodePort, ctx.index, options.hubLeafnodePort),
          admin: credentials.admin,
          aggregator: credentials.aggregator,
          aggregatorDurable: AGGREGATOR_DURABLE,
          leafs: options.regions.map((region) => ({ region, credential: credentials.leafs[region]! })),
          ...(credentials.delivery && destinations.length > 0
            ? { delivery: { credential: credentials.delivery, destinations: destinations.map((d) => d.name) } }
            : {}),
          ...(link ? { leafnodeAdvertise: `127.0.0.1:${link.port}` } : {}),
          ...(options.syncInterval ? { syncInterval: options.syncInterval } : {}),
          ...(ctx.cluster ? { serverName: ctx.serverName!, cluster: ctx.cluster } : {}),
        }),
    });
    const hub = hubPart.nodes[0]!;
    const hubUrls = hubPart.nodes.map((n) => n.url);
    hubLeafnodePort = hub.ports.leafnode!;
    started.push({ stop: () => stopPart(hubPart) });

    const servers = new Map<string, NatsPart>();
    // Every node of a region has the same remote: the proxy, or each hub node's leafnode listener.
    const leafUrl = link
      ? link.url("nats-leaf")
      : hubPart.nodes.length === 1
        ? `nats-leaf://127.0.0.1:${hub.ports.leafnode}`
        : hubPart.nodes.map((n) => `nats-leaf://127.0.0.1:${n.ports.leafnode}`);
    for (const [i, region] of options.regions.entries()) {
      const port = options.regionPorts === -1 ? -1 : options.regionPorts[i]!;
      const part = await startPart({
        stateDir,
        name: region,
        size: regionSize(region),
        route: credentials.routes?.[`tributary-${region}`],
        render: (ctx) =>
          renderRegionServerConfig({
            region,
            storeDir: ctx.storeDir,
            port: portOf(ctx.port, ctx.index, port),
            hubLeafnodeUrl: leafUrl,
            admin: credentials.admin,
            gateway: credentials.gateways[region]!,
            leaf: credentials.leafs[region]!,
            ...(options.syncInterval ? { syncInterval: options.syncInterval } : {}),
            ...(ctx.cluster ? { serverName: ctx.serverName!, cluster: ctx.cluster } : {}),
          }),
      });
      servers.set(region, part);
      started.push({ stop: () => stopPart(part) });
    }

    await provision(hubPart, servers, credentials.admin);

    const regions = new Map<string, RegionHandle>();
    for (const [i, region] of options.regions.entries()) {
      const part = servers.get(region)!;
      const natsUrls = part.nodes.map((n) => n.url);
      const configFile = join(stateDir, `gateway-${region}.json`);
      const gatewayPort = options.gatewayPorts[i]!;
      writeFileSync(
        configFile,
        JSON.stringify(
          {
            region,
            port: gatewayPort,
            logLevel,
            nats: { servers: natsUrls, user: credentials.gateways[region]!.user },
            stream: { manage: false },
            sources: {
              [options.source]: {
                scheme: { type: "webhook-hmac-sha256" },
                secrets: [{ id: "local", file: secretFile }],
              },
            },
          },
          null,
          2,
        ),
      );
      const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
      const gateway = await startService({
        name: `gateway-${region}`,
        entry: appEntry("gateway"),
        // The password comes through env, never the config file.
        env: {
          ...options.appEnv,
          TRIBUTARY_CONFIG: configFile,
          TRIBUTARY_NATS_PASS: credentials.gateways[region]!.password,
        },
        readyUrl: `${gatewayUrl}/readyz`,
        output,
      });
      started.push(gateway);
      regions.set(region, {
        region,
        nats: part.nodes[0]!,
        nodes: part.nodes,
        natsUrls,
        cluster: part.cluster,
        gateway,
        gatewayUrl,
        link,
      });
    }

    const aggregatorConfig = join(stateDir, "aggregator.json");
    writeFileSync(
      aggregatorConfig,
      JSON.stringify(
        {
          port: options.aggregatorPort,
          logLevel,
          warehouseUrl: `duckdb://${join(stateDir, "tributary.duckdb")}`,
          nats: { servers: hubUrls, user: credentials.aggregator.user },
          manageStreams: false,
          stream: "EVENTS",
          durable: AGGREGATOR_DURABLE,
          // The local loop reads rows without a token (`tributary rows`, curl); never a production default.
          api: { anonymousLoopback: true },
          ...options.aggregatorOverrides,
        },
        null,
        2,
      ),
    );
    const aggregatorUrl = `http://127.0.0.1:${options.aggregatorPort}`;
    const startAggregator = () =>
      startService({
        name: "aggregator",
        entry: appEntry("aggregator"),
        env: {
          ...options.appEnv,
          TRIBUTARY_CONFIG: aggregatorConfig,
          TRIBUTARY_NATS_PASS: credentials.aggregator.password,
        },
        readyUrl: `${aggregatorUrl}/readyz`,
        output,
      });
    let aggregator = await startAggregator();
    started.push({ stop: () => aggregator.stop() });

    let delivery: Topology["delivery"];
    if (destinations.length > 0) {
      const deliveryConfig = join(stateDir, "delivery.json");
      const deliveryPort = options.deliveryPort ?? DEFAULT_DELIVERY_PORT;
      writeFileSync(
        deliveryConfig,
        JSON.stringify(
          {
            port: deliveryPort,
            logLevel,
            nats: { servers: hubUrls, user: credentials.delivery!.user },
            manageStreams: false,
            destinations,
          },
          null,
          2,
        ),
        { mode: 0o600 },
      ); // a destination's headers may carry a credential
      const url = `http://127.0.0.1:${deliveryPort}`;
      const service = await startService({
        name: "delivery",
        entry: appEntry("delivery"),
        env: {
          ...options.appEnv,
          TRIBUTARY_CONFIG: deliveryConfig,
          TRIBUTARY_NATS_PASS: credentials.delivery!.password,
        },
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
      hubNodes: hubPart.nodes,
      hubCluster: hubPart.cluster,
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
        for (const part of servers.values()) await stopPart(part);
        await link?.close();
        await stopPart(hubPart);
      },
    };
    // Where the operator commands (status, reconcile, dlq, replay, doctor) find this system (a
    // cluster's first node: any node answers for the whole cluster while it is up).
    writeContext(join(stateDir, "context.json"), {
      hub: { url: hub.url },
      hubConfigFile: hub.configPath,
      regions: Object.fromEntries(
        [...regions.values()].map((r) => [
          r.region,
          { url: r.nats.url, gatewayUrl: r.gatewayUrl, configFile: r.nats.configPath },
        ]),
      ),
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

/** A cluster's nodes stop together (one at a time, each would wait for the others' elections). */
async function stopPart(part: NatsPart): Promise<void> {
  await Promise.all(part.nodes.map((n) => n.stop()));
}

export function readSecret(file: string): string {
  return readFileSync(file, "utf8").trim();
}
