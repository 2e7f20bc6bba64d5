import type { FastifyPluginCallback } from "fastify";
import type { GatewayState } from "./state.js";

/**
 * `/healthz` (the process runs) and `/readyz` (take this instance out of the load balancer while it
 * is not: starting, NATS down, the stream nearly full or unread, shutting down). On the ingest
 * port they say only that (`detailed: false`); on the operations port `/readyz` adds the reason,
 * the region and the stream's fill level. They answer under pressure too.
 */
export const probeRoutes: FastifyPluginCallback<{ state: GatewayState; detailed: boolean }> = (
  app,
  { state, detailed },
  done,
) => {
  const { config, lifecycle } = state;
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    const readiness = state.readiness();
    const ready = !lifecycle.closing && readiness.ready;
    const body: Record<string, unknown> = { status: ready ? "ready" : "not_ready" };
    if (detailed) {
      body.region = config.region;
      if (lifecycle.closing) body.reason = "shutting_down";
      else if (readiness.reason !== undefined) body.reason = readiness.reason;
      if (readiness.fill !== null) body.stream_fill = Math.round(readiness.fill * 10_000) / 10_000;
    }
    return reply.code(ready ? 200 : 503).send(body);
  });
  done();
};

/**
 * `/v1/stats`, on the operations port only: counters, the configured sources and secret ids with
 * their last use, admission (in flight, ack rate, event loop, heap) and the stream's state.
 * `memoryUsage`: the pressure guard's last sample, which lives on the ingest server it guards.
 */
export const statsRoutes: FastifyPluginCallback<{ state: GatewayState; memoryUsage: () => object }> = (
  app,
  { state, memoryUsage },
  done,
) => {
  const { config, counters, limiter } = state;
  app.get("/v1/stats", async () => ({
    region: config.region,
    ...counters.toJSON(),
    admission: {
      in_flight: limiter.inFlight,
      max_in_flight: limiter.maxInFlight,
      ack_rate: Math.round(limiter.ackRate()),
      refused_at_limit: limiter.refusedFull,
      refused_queue_too_slow: limiter.refusedSlow,
      ...memoryUsage(),
    },
    stream: state.readiness(),
  }));
  done();
};
