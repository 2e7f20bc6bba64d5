import { join } from "node:path";
import {
  startNatsCluster,
  startNatsServer,
  type NatsCluster,
  type NatsServer,
  type TcpProxy,
} from "@tributary/processes";
import {
  renderHubServerConfig,
  renderRegionServerConfig,
  type ClusterOptions,
  type UserCredential,
} from "@tributary/streams";
import { AGGREGATOR_DURABLE, deliveryScopeOf } from "./options.js";
import type { Plan, Started } from "./plan.js";

/** One part's nats-servers: a lone server, or the nodes of its cluster. */
export interface NatsPart {
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

/** A cluster's nodes stop together (one at a time, each would wait for the others' elections). */
export async function stopPart(part: NatsPart): Promise<void> {
  await Promise.all(part.nodes.map((n) => n.stop()));
}

/** A fixed port goes to a part's first node only; the others (and every node with -1) get free ones. */
function portOf(ctxPort: number, index: number, fixed: number): number {
  return ctxPort !== -1 ? ctxPort : index === 0 ? fixed : -1;
}

/**
 * The hub (domain `hub`), listening for the regions' leafnode links. With a cuttable `link`, every
 * node advertises the proxy as its leafnode address, so regions reconnect through it.
 */
export async function startHub(plan: Plan, link: TcpProxy | undefined, started: Started): Promise<NatsPart> {
  const { options, credentials, destinations } = plan;
  const hub = await startPart({
    stateDir: plan.stateDir,
    name: "hub",
    size: plan.hubSize,
    leafnodeListener: true,
    route: credentials.routes?.["tributary-hub"],
    render: (ctx) =>
      renderHubServerConfig({
        // Every listener, link and route of the local system is on 127.0.0.1 (the renderer checks
        // it): plaintext there, where production runs TLS.
        insecurePlaintext: true,
        storeDir: ctx.storeDir,
        port: portOf(ctx.port, ctx.index, options.hubPort),
        leafnodePort: portOf(ctx.leafnodePort, ctx.index, options.hubLeafnodePort),
        admin: credentials.admin,
        aggregator: credentials.aggregator,
        aggregatorDurable: AGGREGATOR_DURABLE,
        ...(credentials.control ? { control: credentials.control } : {}),
        leafs: options.regions.map((region) => ({ region, credential: credentials.leafs[region]! })),
        // Managed: subscriptions come and go at runtime, so the user is not pinned to today's destinations.
        ...(credentials.delivery
          ? {
              delivery: {
                credential: credentials.delivery,
                destinations: destinations.map(deliveryScopeOf),
                managed: true,
              },
            }
          : {}),
        ...(link ? { leafnodeAdvertise: `127.0.0.1:${link.port}` } : {}),
        ...(options.syncInterval ? { syncInterval: options.syncInterval } : {}),
        ...(ctx.cluster ? { serverName: ctx.serverName!, cluster: ctx.cluster } : {}),
      }),
  });
  started.add(() => stopPart(hub));
  return hub;
}

/** Each region (domain = region), linked to the hub as a leafnode: through the proxy, or to every hub node. */
export async function startRegions(
  plan: Plan,
  hub: NatsPart,
  link: TcpProxy | undefined,
  started: Started,
): Promise<Map<string, NatsPart>> {
  const { options, credentials } = plan;
  // Every node of a region has the same remote: the proxy, or each hub node's leafnode listener.
  const leafUrl = link
    ? link.url("nats-leaf")
    : hub.nodes.length === 1
      ? `nats-leaf://127.0.0.1:${hub.nodes[0]!.ports.leafnode}`
      : hub.nodes.map((n) => `nats-leaf://127.0.0.1:${n.ports.leafnode}`);
  const regions = new Map<string, NatsPart>();
  for (const [i, region] of options.regions.entries()) {
    const port = options.regionPorts === -1 ? -1 : options.regionPorts[i]!;
    const part = await startPart({
      stateDir: plan.stateDir,
      name: region,
      size: plan.regionSize(region),
      route: credentials.routes?.[`tributary-${region}`],
      render: (ctx) =>
        renderRegionServerConfig({
          insecurePlaintext: true, // loopback only, as the hub's
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
    regions.set(region, part);
    started.add(() => stopPart(part));
  }
  return regions;
}
