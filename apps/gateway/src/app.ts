import Fastify, { LogController, type FastifyInstance } from "fastify";
import { HTTP_SERVER_LIMITS, httpServerOptions, limitConnections, type HttpServerLimits } from "@tributary/runtime";
import { serveMetrics, traceRequests } from "@tributary/telemetry";
import type { GatewayConfig } from "./config.js";
import { clientErrorHandler, frameworkErrors, refuseUnmetExpectations, requireHost } from "./http-refusals.js";
import { admissionPlugin } from "./plugins/admission.js";
import { errorsPlugin } from "./plugins/errors.js";
import { ingestRoutes } from "./plugins/ingest.js";
import { gatewayState, type GatewayDeps, type GatewayState } from "./plugins/state.js";
import { probeRoutes, statsRoutes } from "./plugins/status.js";

/** The gateway's two HTTP servers; the caller listens on each (config `host`/`port`, `opsHost`/`opsPort`). */
export interface Gateway {
  /** What senders reach: ingest and the load balancer's probes. */
  app: FastifyInstance;
  /** What operators and Prometheus reach: /metrics, /v1/stats and the probes with their details. */
  ops: FastifyInstance;
}

/**
 * The gateway's HTTP side: the ingest server, one plugin per concern, registered in this order (it
 * matters: the rate-limit plugin must see the ingest routes declared after it): error mapping,
 * admission and pressure, probes, ingest; and the operations server. They share one GatewayState
 * (counters, the in-flight limiter, the regional stream, whether the server is closing).
 */
export function buildGateway(deps: GatewayDeps): Gateway {
  const state = gatewayState(deps);
  const app = ingestServer(deps, state);
  return { app, ops: opsServer(deps, state, app) };
}

function ingestServer(deps: GatewayDeps, state: GatewayState): FastifyInstance {
  const limits = serverLimits(deps.config.http);
  const options = httpServerOptions(limits);
  const app = Fastify({
    ...options,
    // A request without Host is refused by the requireHost hook, with a code, not by Node with an empty 400.
    http: { ...options.http, requireHostHeader: false },
    // Refusals below the routes (parser, timeouts, router) in the gateway's own shape and codes.
    clientErrorHandler: clientErrorHandler(state.counters),
    frameworkErrors: frameworkErrors(state.counters),
    logger: deps.logger ?? { level: deps.config.logLevel },
    // Per-request logs cost throughput; refusals are counted instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: state.maxEventBytes,
    return503OnClosing: false, // answered by the admission plugin with our own code and Retry-After
  });
  limitConnections(app, limits);
  refuseUnmetExpectations(app.server, state.counters);
  app.addHook("onRequest", requireHost);
  // A server span per ingest request, its own trace: senders are not trusted with ours.
  if (deps.telemetry) traceRequests(app, deps.telemetry, { tracedPrefix: "/v1/sources/", callerTrace: "link" });
  void app.register(errorsPlugin, state);
  void app.register(admissionPlugin, state);
  void app.register(probeRoutes, { state, detailed: false });
  void app.register(ingestRoutes, state);
  return app;
}

/**
 * The operations server: scrapes and operators' reads, never shed by the pressure guard (it guards
 * the ingest server), with the limits of the other apps' internal servers. It logs through the
 * ingest server's logger.
 */
function opsServer(deps: GatewayDeps, state: GatewayState, ingest: FastifyInstance): FastifyInstance {
  const ops = Fastify({ ...httpServerOptions(HTTP_SERVER_LIMITS), loggerInstance: ingest.log });
  limitConnections(ops, HTTP_SERVER_LIMITS);
  if (deps.telemetry) serveMetrics(ops, deps.telemetry);
  void ops.register(probeRoutes, { state, detailed: true });
  void ops.register(statsRoutes, { state, memoryUsage: () => ingest.memoryUsage() });
  return ops;
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
