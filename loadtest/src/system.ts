import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  AGGREGATOR_DURABLE,
  DEFAULT_TOPOLOGY,
  readSecret,
  startTopology,
  type Topology,
  type TopologyOptions,
} from "@tributary/local";
import { freePorts, startClickHouse, type ClickHouseTestServer } from "@tributary/processes";
import { connectNats } from "@tributary/streams";

export type WarehouseKind = "duckdb" | "clickhouse";

/** The local multi-region system for one run: fresh state dir, free loopback ports. */
export interface LocalSystem {
  topology: Topology;
  warehouse: WarehouseKind;
  /** Where the aggregator loads: a duckdb:// or clickhouse:// URL. */
  warehouseUrl: string;
  clickhouse: ClickHouseTestServer | undefined;
  secret: string;
  /** The processes whose CPU the report shows, by name; read afresh (a restart changes a pid). */
  processes(): Array<{ name: string; pid: number }>;
  /** The hub consumer's backlog: messages not yet delivered plus delivered but not acked. */
  hubBacklog(): Promise<{ pending: number; ackPending: number }>;
  stop(): Promise<void>;
}

/** The processes of a topology by name; a clustered part lists each node (`nats us-2`). */
function processesOf(topology: Topology): Array<{ name: string; pid: number }> {
  const nodes = (part: string, servers: readonly { pid: number }[]) =>
    servers.map((n, i) => ({ name: servers.length > 1 ? `nats ${part}-${i + 1}` : `nats ${part}`, pid: n.pid }));
  const list = nodes("hub", topology.hubNodes);
  for (const r of topology.regions.values())
    list.push(...nodes(r.region, r.nodes), { name: `gateway ${r.region}`, pid: r.gateway.process.pid ?? -1 });
  list.push(
    { name: "aggregator", pid: topology.aggregator.process.pid ?? -1 },
    { name: "driver (this process)", pid: process.pid },
  );
  return list;
}

export async function startLocalSystem(
  opts: {
    warehouse?: WarehouseKind;
    cuttableLinks?: boolean;
    cluster?: TopologyOptions["cluster"];
    syncInterval?: "always";
    keepState?: boolean;
    output?: "inherit" | "buffer";
  } = {},
): Promise<LocalSystem> {
  const stateDir = mkdtempSync(join(tmpdir(), "tributary-loadtest-"));
  const warehouse = opts.warehouse ?? "duckdb";
  let clickhouse: ClickHouseTestServer | undefined;
  try {
    clickhouse = warehouse === "clickhouse" ? await startClickHouse() : undefined;
    const warehouseUrl = clickhouse ? clickhouse.url("tributary") : `duckdb://${join(stateDir, "tributary.duckdb")}`;
    const [us, eu, aggregatorPort] = (await freePorts(3)) as [number, number, number];
    const topology = await startTopology({
      ...DEFAULT_TOPOLOGY,
      stateDir,
      hubPort: -1,
      hubLeafnodePort: -1,
      regionPorts: -1,
      gatewayPorts: [us, eu],
      aggregatorPort,
      cuttableLinks: opts.cuttableLinks ?? false,
      ...(opts.cluster ? { cluster: opts.cluster } : {}),
      ...(opts.syncInterval ? { syncInterval: opts.syncInterval } : {}),
      logLevel: "warn",
      output: opts.output ?? "buffer",
      // A shorter redelivery deadline than the default 60 s, so a killed aggregator's in-flight
      // batch comes back within the run; otherwise the production defaults.
      aggregatorOverrides: { ackWaitMs: 10_000, ...(clickhouse ? { warehouseUrl } : {}) },
    });
    const admin = topology.credentials.admin;
    const system: LocalSystem = {
      topology,
      warehouse,
      warehouseUrl,
      clickhouse,
      secret: readSecret(topology.secretFile),
      processes: () => processesOf(topology),
      async hubBacklog() {
        const nc = await connectNats({
          servers: [topology.hub.url],
          name: "loadtest-probe",
          user: admin.user,
          pass: admin.password,
        });
        try {
          const info = await (await jetstreamManager(nc)).consumers.info("EVENTS_ENRICHED", AGGREGATOR_DURABLE);
          return { pending: info.num_pending, ackPending: info.num_ack_pending };
        } finally {
          await nc.close();
        }
      },
      async stop() {
        await topology.stop().catch(() => undefined);
        await clickhouse?.dispose().catch(() => undefined);
        if (!opts.keepState) rmSync(stateDir, { recursive: true, force: true });
      },
    };
    return system;
  } catch (err) {
    await clickhouse?.dispose().catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
}
