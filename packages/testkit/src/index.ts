export { findNatsServer, NatsServerNotFoundError } from "./nats-binary.js";
export { startNatsServer } from "./nats-server.js";
export type { NatsServer, NatsServerOptions, NatsServerPorts } from "./nats-server.js";
export { sleep, stopProcess, track, waitFor, waitForExit } from "./processes.js";
export { sampleEvent, signWebhook } from "./signing.js";
export { startService } from "./service.js";
export type { Service, ServiceOptions } from "./service.js";
export { freePorts } from "./ports.js";
