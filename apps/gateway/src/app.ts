import Fastify, { LogController, type FastifyInstance } from "fastify";
import { httpServerOptions, limitConnections, type HttpServerLimits } from "@tributary/runtime";
import { instrumentFastify } from "@tributary/telemetry";
import type { GatewayConfig } from "./config.js";
import { admissionPlugin } from "./plugins/admission.js";
import { errorsPlugin } from "./plugins/errors.js";
import { ingestRoutes } from "./plugins/ingest.js";
import { gatewayState, type GatewayDeps } from "./plugins/state.js";
import { statusRoutes } from "./plugins/status.js";

/**
 * The gateway's HTTP side, one plugin per concern, registered in this order (it matters: the
 * rate-limit plugin must see the ingest routes declared after it): error mapping, admission and
 * pressure, health and stats, ingest. They share one GatewayState (counters, the in-flight
 * limiter, the regional stream, whether the server is closing).
 */
export function buildApp(deps: GatewayDeps): FastifyInstance {
  const state = gatewayState(deps);
  const limits = serverLimits(deps.config.http);
  const app = Fastify({
    ...httpServerOptions(limits),
    logger: deps.logger ?? { level: deps.config.logLevel },
    // Per-request logs cost throughput; refusals are counted instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: state.maxEventBytes,
    return503OnClosing: false, // answered by the admission plugin with our own code and Retry-After
  });
  limitConnections(app, limits);
  // /metrics, and a server span per ingest request (hooks on the root apply to every route).
  if (deps.telemetry) instrumentFastify(app, deps.telemetry, { tracedPrefix: "/v1/sources/" });
  void app.register(errorsPlugin, state);
  void app.register(admissionPlugin, state);
  void app.register(statusRoutes, state);
  void app.register(ingestRoutes, state);
  return app;
}

/**
 * The configured limits as the runtime's server options take them. Node looks for requests past
 * their timeouts every timeoutCheckIntervalMs (its own default is 30 s, which would let a 1 s
 * timeout run to 31 s): a quarter of the shortest timeout, between 100 ms and 2 s.
 */
function serverLimits(http: GatewayConfig["http"]): HttpServerLimits {
  const shortest = Math.min(http.headersTimeoutMs, http.requestTimeoutMs);
  return { ...http, timeoutCheckIntervalMs: Math.max(100, Math.min(2_000, Math.floor(shortest / 4))) };
}

export { GATEWAY_ERRORS, GatewayError } from "./errors.js";
export type { GatewayErrorCode } from "./errors.js";
export { loadGatewayConfig, resolveGatewayConfig, GatewayConfigSchema } from "./config.js";
export type { GatewayConfig, GatewayConfigInput, ResolvedSource } from "./config.js";
export { RegionalPublisher } from "./publisher.js";
export type { Readiness } from "./publisher.js";
export type { GatewayDeps, RegionalStream } from "./plugins/state.js";
