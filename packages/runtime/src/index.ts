export { DEFAULT_SHUTDOWN_DEADLINE_MS, EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, runService } from "./run-service.js";
export type { ServiceContext, ServiceLogger, ServiceOptions, StartedService, StopStep } from "./run-service.js";
export { bearerGuard, bearerTokenOf, BearerTokens, secretsEqual } from "./bearer.js";
export type { BearerEntry, BearerGuardOptions, BearerRefusal } from "./bearer.js";
export { guardRoutes, HTTP_SERVER_LIMITS, httpServerOptions, limitConnections, OWN_AUTH } from "./http-server.js";
export type { HttpServerLimits } from "./http-server.js";
export { isLoopbackAddress, isLoopbackHost } from "./loopback.js";
