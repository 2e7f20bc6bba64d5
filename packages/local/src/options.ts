import { HUB_LOADER_DURABLE } from "@tributary/streams";
/** The aggregator's durable consumer on the hub stream (packages/streams owns the name). */
export const AGGREGATOR_DURABLE = HUB_LOADER_DURABLE;

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
  /**
   * Each gateway's operations port (/metrics, /v1/stats, detailed probes), in the order of
   * `regions`; free ports when not given (the `up` banner and the context say where).
   */
  gatewayOpsPorts?: readonly number[];
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

/**
 * What the delivery user's NATS permissions need of a destination: its name and the sources and
 * types it takes, which pin its consumers' filters (packages/streams deliveryPermissions).
 */
export function deliveryScopeOf(spec: DestinationSpec): { name: string; sources: string[]; types: string[] } {
  const strings = (value: unknown) =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  return { name: spec.name, sources: strings(spec.sources), types: strings(spec.types) };
}

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
