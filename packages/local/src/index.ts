export { startTopology } from "./topology.js";
export type { RegionHandle, Topology } from "./topology.js";
export { AGGREGATOR_DURABLE, DEFAULT_DELIVERY_PORT, DEFAULT_TOPOLOGY, deliveryScopeOf } from "./options.js";
export type { DestinationSpec, TopologyOptions } from "./options.js";
export { readSecret, secretFileOf } from "./state.js";
export type { Credentials } from "./state.js";
export { writeContext } from "./context.js";
export type { OperatorContext } from "./context.js";
export { LOCAL_SOURCE_SCHEME, signWebhookHmacSha256 } from "./signing.js";
export { appEntry } from "./apps.js";
export type { LocalApp } from "./apps.js";
// The process handles a Topology hands out, so callers can name their types.
export type { NatsCluster, NatsServer, Service, TcpProxy } from "@tributary/processes";
