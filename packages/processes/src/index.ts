export {
  findNatsServer,
  MIN_NATS_SERVER_VERSION,
  NATS_BINARY_ERRORS,
  NatsServerNotFoundError,
  NatsServerTooOldError,
  natsServerVersion,
} from "./nats-binary.js";
export { startNatsServer } from "./nats-server.js";
export type { NatsServer, NatsServerOptions, NatsServerPorts } from "./nats-server.js";
export { startNatsCluster } from "./nats-cluster.js";
export type { NatsCluster, NatsClusterNodeContext, NatsClusterOptions } from "./nats-cluster.js";
export { sleep, stopProcess, track, waitFor, waitForExit } from "./processes.js";
export { startService } from "./service.js";
export type { Service, ServiceOptions } from "./service.js";
export { freePorts } from "./ports.js";
export { startTcpProxy } from "./tcp-proxy.js";
export type { TcpProxy } from "./tcp-proxy.js";
export { clickHouseCommand, startClickHouse } from "./clickhouse-server.js";
export type { ClickHouseTestServer } from "./clickhouse-server.js";
