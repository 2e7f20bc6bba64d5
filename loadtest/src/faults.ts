import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsServer, TopologyOptions } from "@tributary/local";
import { connectNats, regionalStreamName } from "@tributary/streams";
import type { LocalSystem } from "./system.js";

export const FAULT_KINDS = ["aggregator-kill", "region-kill", "node-kill", "link-cut", "warehouse-stop"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_DESCRIPTIONS: Record<FaultKind, string> = {
  "aggregator-kill": "SIGKILL of the aggregator, restarted after the outage",
  "region-kill": "SIGKILL of region us's nats-server (its gateway answers 503), restarted after the outage",
  "node-kill":
    "region us as a 3-node NATS cluster (R3): SIGKILL of the EVENTS_US stream leader (its gateway answers 503 only until a new leader is elected), restarted after the outage",
  "link-cut": "both regions' leafnode links to the hub cut at a TCP proxy, restored after the outage",
  "warehouse-stop": "the ClickHouse server stopped (SIGTERM), started again after the outage",
};

export function isFaultKind(value: string): value is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(value);
}

/** What a fault needs from the system at start. */
export function systemNeeds(kind: FaultKind | undefined): {
  cuttableLinks: boolean;
  warehouse: "duckdb" | "clickhouse";
  cluster?: TopologyOptions["cluster"];
} {
  return {
    cuttableLinks: kind === "link-cut",
    // Only region us is clustered: the node that fails is there, and eleven processes are already
    // plenty for the machine that also drives the load. eu and the hub stay one nats-server each.
    ...(kind === "node-kill" ? { cluster: { size: 3, regions: ["us"], hub: false } } : {}),
    // DuckDB is embedded in the aggregator: it cannot be stopped on its own. Stopping the
    // warehouse means a warehouse server, so that run loads into ClickHouse.
    warehouse: kind === "warehouse-stop" ? "clickhouse" : "duckdb",
  };
}

export interface FaultMark {
  kind: FaultKind;
  /** Epoch ms when the fault began, when the part was really down (a graceful stop takes a while), and when the recovery step finished. */
  startMs: number;
  downMs: number;
  endMs: number;
}

/** Injects the fault, holds it for `holdMs`, then undoes it. */
export async function injectFault(system: LocalSystem, kind: FaultKind, holdMs: number): Promise<FaultMark> {
  const { topology } = system;
  const startMs = Date.now();
  let downMs = startMs;
  const hold = () => {
    downMs = Date.now();
    return new Promise((r) => setTimeout(r, holdMs));
  };
  switch (kind) {
    case "aggregator-kill":
      await topology.aggregator.kill();
      await hold();
      await topology.restartAggregator();
      break;
    case "region-kill": {
      const us = topology.regions.get("us")!;
      await us.nats.kill();
      await hold();
      await us.nats.restart();
      break;
    }
    case "node-kill": {
      const node = await streamLeader(system, "us");
      await node.kill();
      await hold();
      await node.restart();
      break;
    }
    case "link-cut": {
      const link = topology.regions.get("us")!.link;
      if (!link) throw new Error("link-cut needs the topology started with cuttableLinks");
      link.cut();
      await hold();
      link.restore();
      break;
    }
    case "warehouse-stop": {
      const ch = system.clickhouse;
      if (!ch) throw new Error("warehouse-stop needs the ClickHouse warehouse");
      await ch.stop();
      await hold();
      await ch.start();
      break;
    }
  }
  return { kind, startMs, downMs, endMs: Date.now() };
}

/** The node of a clustered region that leads its stream (the hard case: the stream needs an election). */
async function streamLeader(system: LocalSystem, region: string): Promise<NatsServer> {
  const handle = system.topology.regions.get(region)!;
  if (handle.nodes.length < 2) throw new Error(`node-kill needs region ${region} started as a cluster`);
  const admin = system.topology.credentials.admin;
  const nc = await connectNats({
    servers: handle.natsUrls,
    name: "loadtest-fault",
    user: admin.user,
    pass: admin.password,
  });
  try {
    const leader = (await (await jetstreamManager(nc)).streams.info(regionalStreamName(region))).cluster?.leader;
    const index = handle.nodes.findIndex((_, i) => leader === `tributary-${region}-${i + 1}`);
    if (index < 0)
      throw new Error(`no known leader of ${regionalStreamName(region)} (stream info says ${leader ?? "none"})`);
    return handle.nodes[index]!;
  } finally {
    await nc.close();
  }
}
