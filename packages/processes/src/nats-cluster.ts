import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsServer, type NatsServer } from "./nats-server.js";
import { freePorts } from "./ports.js";
import { waitFor } from "./processes.js";

/** What each node's config is rendered from. */
export interface NatsClusterNodeContext {
  /** 0-based position of the node; server names must differ per node (`tributary-us-${index + 1}`). */
  index: number;
  storeDir: string;
  /** Client and leafnode ports as startNatsServer gives them: -1 on the first start, pinned afterwards. */
  port: number;
  leafnodePort: number;
  /** This node's route port, chosen before the first start and the same on every restart. */
  clusterPort: number;
  /** `nats-route://127.0.0.1:<port>` of every node, this one included (nats-server skips its own). */
  routes: string[];
}

export interface NatsClusterOptions {
  /** Number of nodes; default 3 (the smallest cluster that survives losing one node with R3 streams). */
  size?: number;
  /** Parent dir; node i lives in `<dir>/node-<i+1>`. Default: a new temp dir, removed by `cleanup()`. */
  dir?: string;
  /** Path of the nats-server binary; default: findNatsServer(). */
  binary?: string;
  /** The config listens for leafnodes: each node's leafnode port is waited for and pinned. */
  leafnodeListener?: boolean;
  /** Renders one node's whole config, `cluster {}` block included (e.g. with the production renderer). */
  config: (ctx: NatsClusterNodeContext) => string;
}

/** Real nats-servers on loopback, routed into one cluster. */
export interface NatsCluster {
  /** The nodes in order; each can be killed (SIGKILL) and restarted on its ports and store. */
  readonly nodes: readonly NatsServer[];
  /** Every node's client URL, for clients that should reach any node. */
  readonly urls: string[];
  readonly clusterPorts: readonly number[];
  readonly dir: string;
  /**
   * Waits until the node (default: every node) answers the full `/healthz`: JetStream has a meta
   * leader, and the node's streams and consumers are current. After a restart this is when a node
   * has caught up.
   */
  waitHealthy(node?: NatsServer, timeoutMs?: number): Promise<void>;
  /** Graceful stop of every node. */
  stop(): Promise<void>;
  /** Kills every node and removes the dir when startNatsCluster created it. */
  cleanup(): Promise<void>;
}

async function healthy(server: NatsServer): Promise<true | undefined> {
  const res = await fetch(`http://127.0.0.1:${server.ports.monitoring}/healthz`);
  return res.ok ? true : undefined;
}

/**
 * Starts a cluster of real nats-servers in temp dirs on free loopback ports. Routes need every
 * node's cluster port before any node starts, so those are picked first (freePorts) and stay the
 * same across restarts; client, leafnode and monitoring ports are chosen by each server and pinned
 * as startNatsServer pins them. Resolves once every node is up and the cluster has a meta leader.
 */
export async function startNatsCluster(opts: NatsClusterOptions): Promise<NatsCluster> {
  const size = opts.size ?? 3;
  const ownsDir = !opts.dir;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), "tributary-nats-cluster-")));
  await mkdir(dir, { recursive: true });

  // A port picked by freePorts can be taken by someone else before the node binds it: try again
  // with new ports then (the nodes of a failed attempt are killed first).
  let nodes: NatsServer[] = [];
  let clusterPorts: number[];
  for (let attempt = 1; ; attempt++) {
    clusterPorts = await freePorts(size);
    const routes = clusterPorts.map((port) => `nats-route://127.0.0.1:${port}`);
    const starts = clusterPorts.map((clusterPort, index) =>
      startNatsServer({
        dir: join(dir, `node-${index + 1}`),
        ...(opts.binary ? { binary: opts.binary } : {}),
        ...(opts.leafnodeListener ? { leafnodeListener: true } : {}),
        config: (ctx) => opts.config({ ...ctx, index, clusterPort, routes }),
      }),
    );
    const results = await Promise.allSettled(starts);
    nodes = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (!failed) break;
    await Promise.all(nodes.map((n) => n.kill()));
    const portTaken = /address already in use/.test(String((failed.reason as Error)?.message));
    if (!portTaken || attempt >= 3) {
      if (ownsDir) await rm(dir, { recursive: true, force: true });
      throw failed.reason;
    }
  }

  const cluster: NatsCluster = {
    nodes,
    urls: nodes.map((n) => n.url),
    clusterPorts,
    dir,
    async waitHealthy(node, timeoutMs = 30_000) {
      await Promise.all(
        (node ? [node] : nodes).map((n) =>
          waitFor(`nats-server cluster node ${n.url} healthy`, () => healthy(n), timeoutMs, 100),
        ),
      );
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
    async cleanup() {
      await Promise.all(nodes.map((n) => n.cleanup()));
      if (ownsDir) await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.waitHealthy();
  } catch (err) {
    await cluster.cleanup();
    throw err;
  }
  return cluster;
}
