// The process supervision lives in @tributary/processes (the local system runs on it too); the
// testkit re-exports it, so tests keep one import.
export {
  clickHouseCommand,
  findNatsServer,
  freePorts,
  MIN_NATS_SERVER_VERSION,
  NatsServerNotFoundError,
  NatsServerTooOldError,
  natsServerVersion,
  sleep,
  startClickHouse,
  startNatsCluster,
  startNatsServer,
  startService,
  startTcpProxy,
  stopProcess,
  track,
  waitFor,
  waitForExit,
} from "@tributary/processes";
export type {
  ClickHouseTestServer,
  NatsCluster,
  NatsClusterNodeContext,
  NatsClusterOptions,
  NatsServer,
  NatsServerOptions,
  NatsServerPorts,
  Service,
  ServiceOptions,
  TcpProxy,
} from "@tributary/processes";
export { sampleEvent, signWebhook } from "./signing.js";
export { testCertificates } from "./certificates.js";
export type { TestCertificates } from "./certificates.js";
export { startOtlpReceiver } from "./otlp-receiver.js";
export type { OtlpReceiver, ReceivedSpan } from "./otlp-receiver.js";
export { findPrometheusDir, promtool, PrometheusNotFoundError, startPrometheus } from "./prometheus.js";
export type { PrometheusOptions, PrometheusServer } from "./prometheus.js";
export { isPressureRefusal, postToGateway } from "./gateway-client.js";
export type { GatewayAnswer } from "./gateway-client.js";
