import type { FastifyBaseLogger } from "fastify";
import { PublishError, regionalStreamName, type EventMessage, type PublishReceipt } from "@tributary/streams";
import { createGatewayMetrics, type RegionStreamState, type Telemetry } from "@tributary/telemetry";
import { InFlightLimiter } from "../admission.js";
import { BATCH_MAX_BODY_BYTES_LIMIT, MAX_BODY_BYTES_LIMIT, type GatewayConfig } from "../config.js";
import { GatewayCounters } from "../counters.js";
import type { IngestContext } from "../ingest.js";
import type { Readiness } from "../publisher.js";
import { instrumentPublish } from "../telemetry.js";

/** The regional stream as the HTTP side sees it: a RegionalPublisher, or a stand-in in tests. */
export interface RegionalStream {
  /** Publishes to the regional stream and resolves on its PubAck. */
  publish(msg: EventMessage): Promise<PublishReceipt>;
  /** Ready or why not, and the stream's fill level: /readyz and /v1/stats. */
  readiness(): Readiness;
  /** The stream refused an event as full and has not drained since: refuse before publishing. */
  readonly full: boolean;
  /** Seconds to wait for a full stream, from the last reading: a refusal before the body is read costs no NATS request. */
  retryAfterSeconds(): number;
  /** The same after a new reading (waiting at most `waitMs`): for a publish the stream has just refused as full. */
  freshRetryAfterSeconds(waitMs?: number): Promise<number>;
  /** The last reading and the outage budget, for the gauges. */
  streamState(): RegionStreamState | undefined;
}

export interface GatewayDeps {
  config: GatewayConfig;
  /** Undefined while the process starts: /readyz says "starting", publishes answer 503 buffer_unavailable. */
  stream: () => RegionalStream | undefined;
  /** Milliseconds since the epoch; tests move the clock. */
  now?: () => number;
  logger?: FastifyBaseLogger | boolean;
  /** Metrics (served at /metrics) and traces; without it the gateway records neither. */
  telemetry?: Telemetry;
}

/** What the gateway's plugins share; buildApp makes one per app. */
export interface GatewayState {
  readonly config: GatewayConfig;
  readonly counters: GatewayCounters;
  readonly limiter: InFlightLimiter;
  /** What ingestEvent and ingestBatch are given. */
  readonly ingest: IngestContext;
  /** The largest body any source accepts: the server's and the events route's body limit. */
  readonly maxEventBytes: number;
  /** The largest batch any source takes: the batch route's body limit (each source's own is applied as the body streams in). */
  readonly maxBatchBytes: number;
  /** `closing` turns true when close() begins: ingest refused, /readyz not ready, connections told to go. */
  readonly lifecycle: { closing: boolean };
  stream(): RegionalStream | undefined;
  readiness(): Readiness;
}

const STARTING: Readiness = { ready: false, reason: "starting", fill: null };

export function gatewayState(deps: GatewayDeps): GatewayState {
  const { config, telemetry } = deps;
  const counters = new GatewayCounters();
  const limiter = new InFlightLimiter({
    maxInFlight: config.admission.maxInFlightPublishes,
    // Past half the publish timeout, a queued event risks a timed-out (ambiguous) answer.
    maxQueueMs: config.nats.publishTimeoutMs / 2,
  });
  const stream = regionalStreamName(config.region);
  const direct = (msg: EventMessage): Promise<PublishReceipt> =>
    deps.stream()?.publish(msg) ??
    Promise.reject(new PublishError("buffer_unavailable", "not connected to the regional NATS"));
  const metrics =
    telemetry &&
    createGatewayMetrics(telemetry.meter, config.region, () => ({
      events: counters.events(),
      publishedBytes: counters.publishedBytes,
      inFlight: limiter.inFlight,
      stream: deps.stream()?.streamState(),
    }));
  const ingest: IngestContext = {
    region: config.region,
    stream,
    publish: telemetry && metrics ? instrumentPublish(direct, { telemetry, metrics, counters, stream }) : direct,
    now: deps.now ?? Date.now,
    counters,
    limiter,
    overloadRetryAfter: () =>
      limiter.retryAfterSeconds(config.retryAfterSeconds, config.admission.maxRetryAfterSeconds),
    fullRetryAfter: async () => (await deps.stream()?.freshRetryAfterSeconds()) ?? config.retryAfterSeconds,
    retryAfterSeconds: config.retryAfterSeconds,
  };
  return {
    config,
    counters,
    limiter,
    ingest,
    // With sources changed at runtime the route limits are the largest any source may set; each
    // source's own limit is applied to the declared length and as the body streams in.
    maxEventBytes: config.control.enabled
      ? MAX_BODY_BYTES_LIMIT
      : Math.max(...[...config.sources.values()].map((s) => s.maxBodyBytes)),
    // At least 1: Fastify needs a limit even when no source takes batches (admission refuses them all).
    maxBatchBytes: config.control.enabled
      ? BATCH_MAX_BODY_BYTES_LIMIT
      : Math.max(1, ...[...config.sources.values()].map((s) => s.batch?.maxBodyBytes ?? 0)),
    lifecycle: { closing: false },
    stream: deps.stream,
    readiness: () => deps.stream()?.readiness() ?? STARTING,
  };
}
