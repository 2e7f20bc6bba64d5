import type { FastifyPluginCallback } from "fastify";
import type { GatewayState } from "./state.js";

/**
 * `/healthz` (the process runs), `/readyz` (take this instance out of the load balancer while it
 * is not: starting, NATS down, the stream nearly full or unread, shutting down) and `/v1/stats`
 * (counters, admission, the stream's state). They answer under pressure too.
 */
export const statusRoutes: FastifyPluginCallback<GatewayState> = (app, state, done) => {
  const { config, counters, limiter, lifecycle } = state;
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    const readiness = state.readiness();
    const ready = !lifecycle.closing && readiness.ready;
    const body: Record<string, unknown> = { status: ready ? "ready" : "not_ready", region: config.region };
    if (lifecycle.closing) body.reason = "shutting_down";
    else if (readiness.reason !== undefined) body.reason = readiness.reason;
    if (readiness.fill !== null) body.stream_fill = Math.round(readiness.fill * 10_000) / 10_000;
    return reply.code(ready ? 200 : 503).send(body);
  });
  app.get("/v1/stats", async () => ({
    region: config.region,
    ...counters.toJSON(),
    admission: {
      in_flight: limiter.inFlight,
      max_in_flight: limiter.maxInFlight,
      ack_rate: Math.round(limiter.ackRate()),
      refused_at_limit: limiter.refusedFull,
      refused_queue_too_slow: limiter.refusedSlow,
      ...app.memoryUsage(),
    },
    stream: state.readiness(),
  }));
  done();
};
