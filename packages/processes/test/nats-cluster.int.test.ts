import { afterEach, describe, expect, it } from "vitest";
import { startNatsCluster, waitFor, type NatsCluster, type NatsServer } from "../src/index.js";

/** A JetStream node config of a 3-node cluster with authenticated routes (startNatsCluster renders no config itself). */
function nodeConfig(ctx: {
  index: number;
  storeDir: string;
  port: number;
  clusterPort: number;
  routes: string[];
}): string {
  return [
    `server_name: "test-${ctx.index + 1}"`,
    `host: "127.0.0.1"`,
    `port: ${ctx.port}`,
    `jetstream { store_dir: ${JSON.stringify(ctx.storeDir)} }`,
    "cluster {",
    '  name: "test"',
    `  listen: "127.0.0.1:${ctx.clusterPort}"`,
    '  authorization { user: "route", password: "secret" }',
    `  routes: [${ctx.routes.map((r) => JSON.stringify(r.replace("//", "//route:secret@"))).join(", ")}]`,
    "}",
  ].join("\n");
}

interface Jsz {
  server_name: string;
  meta_cluster?: {
    leader?: string;
    cluster_size?: number;
    replicas?: Array<{ name: string; current: boolean; offline?: boolean }>;
  };
}

async function jsz(node: NatsServer): Promise<Jsz> {
  return (await (await fetch(`http://127.0.0.1:${node.ports.monitoring}/jsz`)).json()) as Jsz;
}

describe("nats-server cluster", () => {
  let cluster: NatsCluster | undefined;
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = undefined;
  });

  it("cluster - three nodes on free ports form one JetStream cluster; a SIGKILLed node restarts on its ports and store and rejoins", async () => {
    cluster = await startNatsCluster({ size: 3, config: nodeConfig });
    expect(cluster.nodes).toHaveLength(3);
    expect(new Set(cluster.urls).size).toBe(3);
    expect(new Set(cluster.clusterPorts).size).toBe(3);
    const meta = (await jsz(cluster.nodes[0]!)).meta_cluster!;
    expect(meta.cluster_size).toBe(3);
    expect(meta.leader).toMatch(/^test-[123]$/);

    const victim = cluster.nodes[1]!;
    const ports = { ...victim.ports };
    await victim.kill();
    // The other two keep a meta leader (a quorum of three).
    await waitFor(
      "a meta leader without node 2",
      async () => {
        const m = (await jsz(cluster!.nodes[0]!)).meta_cluster;
        return m?.leader && m.leader !== "test-2" ? true : undefined;
      },
      20_000,
      100,
    );
    await victim.restart();
    expect(victim.ports).toEqual(ports);
    await cluster.waitHealthy(victim);
    await waitFor(
      "node 2 current in the meta group",
      async () => {
        // Only the meta leader tracks its followers.
        const leader = (await jsz(cluster!.nodes[0]!)).meta_cluster?.leader;
        const leaderNode = cluster!.nodes[Number(leader?.slice("test-".length)) - 1];
        if (!leaderNode || leaderNode === victim) return undefined;
        const replicas = (await jsz(leaderNode)).meta_cluster?.replicas ?? [];
        const peer = replicas.find((r) => r.name === "test-2");
        return peer?.current && !peer.offline ? true : undefined;
      },
      20_000,
      100,
    );
  });
});
