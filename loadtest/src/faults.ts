import type { LocalSystem } from "./system.js";

export const FAULT_KINDS = ["aggregator-kill", "region-kill", "link-cut", "warehouse-stop"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_DESCRIPTIONS: Record<FaultKind, string> = {
  "aggregator-kill": "SIGKILL of the aggregator, restarted after the outage",
  "region-kill": "SIGKILL of region us's nats-server (its gateway answers 503), restarted after the outage",
  "link-cut": "both regions' leafnode links to the hub cut at a TCP proxy, restored after the outage",
  "warehouse-stop": "the ClickHouse server stopped (SIGTERM), started again after the outage",
};

export function isFaultKind(value: string): value is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(value);
}

/** What a fault needs from the system at start. */
export function systemNeeds(kind: FaultKind | undefined): { cuttableLinks: boolean; warehouse: "duckdb" | "clickhouse" } {
  return {
    cuttableLinks: kind === "link-cut",
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
