export { AGGREGATOR_DURABLE, DEFAULT_TOPOLOGY, readSecret, secretFileOf, startTopology } from "./topology.js";
export { DEFAULT_DELIVERY_PORT } from "./topology.js";
export type { Credentials, DestinationSpec, RegionHandle, Topology, TopologyOptions } from "./topology.js";
export { curlExample, sendSamples } from "./send.js";
export type { SendOptions, SendResult } from "./send.js";
export { passwordVar, renderProductionNatsConfigs } from "./render-nats.js";
