import { readSecret } from "./state.js";
import { join } from "node:path";
import { startTcpProxy, type NatsCluster, type NatsServer, type Service, type TcpProxy } from "@tributary/processes";
import { writeContext, type OperatorContext } from "./context.js";
import { startHub, startRegions, stopPart, type NatsPart } from "./nats.js";
import { AGGREGATOR_DURABLE, DEFAULT_TOPOLOGY, type TopologyOptions } from "./options.js";
import { planOf, Started, type Plan } from "./plan.js";
import { provision } from "./provision.js";
import { startAggregator, startDelivery, startGateways, type AggregatorHandle } from "./services.js";
import type { Credentials } from "./state.js";

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
  /** The gateway's operations server: /metrics, /v1/stats, the probes with their details. */
  gatewayOpsUrl: string;
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
  /** The delivery process: the given destinations and the management API's subscriptions. */
  delivery: { service: Service; url: string };
  secretFile: string;
  /** An admin token of the query and management API the aggregator serves. */
  apiToken: string;
  /** Starts the aggregator again (after a kill in a fault test). */
  restartAggregator(): Promise<Service>;
  stop(): Promise<void>;
}

/**
 * The whole system on loopback: a hub nats-server (domain `hub`) and one nats-server per region
 * (domain = region) linked to it as leafnodes, every stream provisioned, a gateway per region and
 * the aggregator loading the hub stream into DuckDB (serving the query and management APIs) and the
 * delivery process.
 * Each app runs as its own process with least-privilege NATS credentials, as in production. If a
 * step fails, what had started is stopped again.
 */
export async function startTopology(options: TopologyOptions = DEFAULT_TOPOLOGY): Promise<Topology> {
  const plan = planOf(options);
  const started = new Started();
  try {
    // Regions learn the hub's leafnode address from the hub and reconnect to it directly, so a
    // cuttable link is a proxy that the hub itself advertises.
    // (With a clustered hub the proxy leads to its first node, and every node advertises the proxy.)
    let hubLeafnodePort = -1;
    const link = options.cuttableLinks ? await startTcpProxy(() => ({ port: hubLeafnodePort })) : undefined;
    if (link) started.add(() => link.close());
    const hub = await startHub(plan, link, started);
    hubLeafnodePort = hub.nodes[0]!.ports.leafnode!;
    const servers = await startRegions(plan, hub, link, started);
    await provision(hub, servers, plan.credentials.admin, plan.destinations);
    const hubUrls = hub.nodes.map((n) => n.url);
    const gateways = await startGateways(plan, servers, started);
    const aggregator = await startAggregator(plan, hubUrls, started);
    const delivery = await startDelivery(plan, hubUrls, started);

    const regions = new Map(
      [...servers].map(([region, part]) => [region, regionHandle(region, part, gateways.get(region)!, link)] as const),
    );
    const topology = assemble(plan, { hub, servers, regions, aggregator, delivery, link });
    writeContext(join(plan.stateDir, "context.json"), contextOf(topology));
    return topology;
  } catch (err) {
    await started.stopAll();
    throw err;
  }
}

/** A region's handle: its nats-servers, its gateway and the (shared) cuttable link. */
function regionHandle(
  region: string,
  part: NatsPart,
  app: { gateway: Service; gatewayUrl: string; gatewayOpsUrl: string },
  link: TcpProxy | undefined,
): RegionHandle {
  const natsUrls = part.nodes.map((n) => n.url);
  return { region, nats: part.nodes[0]!, nodes: part.nodes, natsUrls, cluster: part.cluster, ...app, link };
}

/** The handle over every started part; `stop()` takes them down from the apps to the hub. */
function assemble(
  plan: Plan,
  parts: {
    hub: NatsPart;
    servers: Map<string, NatsPart>;
    regions: Map<string, RegionHandle>;
    aggregator: AggregatorHandle;
    delivery: Topology["delivery"];
    link: TcpProxy | undefined;
  },
): Topology {
  const { hub, servers, regions, aggregator, delivery, link } = parts;
  return {
    options: plan.options,
    stateDir: plan.stateDir,
    credentials: plan.credentials,
    hub: hub.nodes[0]!,
    hubNodes: hub.nodes,
    hubCluster: hub.cluster,
    regions,
    get aggregator() {
      return aggregator.service;
    },
    aggregatorUrl: aggregator.url,
    delivery,
    secretFile: plan.secretFile,
    apiToken: readSecret(plan.apiTokenFile),
    restartAggregator: () => aggregator.restart(),
    async stop() {
      await delivery.service.stop();
      await aggregator.service.stop();
      await Promise.all([...regions.values()].map((r) => r.gateway.stop()));
      for (const part of servers.values()) await stopPart(part);
      await link?.close();
      await stopPart(hub);
    },
  };
}

/**
 * Where the operator commands (status, reconcile, dlq, replay, doctor) find this system (a
 * cluster's first node: any node answers for the whole cluster while it is up).
 */
function contextOf(topology: Topology): OperatorContext {
  return {
    hub: { url: topology.hub.url },
    hubConfigFile: topology.hub.configPath,
    regions: Object.fromEntries(
      [...topology.regions.values()].map((r) => [
        r.region,
        { url: r.nats.url, gatewayUrl: r.gatewayUrl, configFile: r.nats.configPath },
      ]),
    ),
    admin: topology.credentials.admin,
    aggregatorUrl: topology.aggregatorUrl,
    deliveryUrl: topology.delivery.url,
    apiToken: topology.apiToken,
    durable: AGGREGATOR_DURABLE,
  };
}
