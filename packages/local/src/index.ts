export {
  AGGREGATOR_DURABLE,
  DEFAULT_DELIVERY_PORT,
  DEFAULT_TOPOLOGY,
  readSecret,
  secretFileOf,
  startTopology,
} from "./topology.js";
export type { Credentials, DestinationSpec, RegionHandle, Topology, TopologyOptions } from "./topology.js";
export { writeContext } from "./context.js";
export type { OperatorContext } from "./context.js";
export { appEntry } from "./apps.js";
export type { LocalApp } from "./apps.js";
// The process handles a Topology hands out, so callers can name their types.
export type { NatsCluster, NatsServer, Service, TcpProxy } from "@tributary/processes";
