import type { Attributes, BatchObservableResult, Histogram, Meter } from "@opentelemetry/api";
import { BATCH_SIZE_BUCKETS, LATENCY_BUCKETS_SECONDS, OPERATION_BUCKETS_SECONDS } from "./buckets.js";

/**
 * Every metric Tributary exports, by its Prometheus name (OpenTelemetry names with `.` become `_`,
 * counters gain `_total`). Names end in their unit because the Prometheus exporter does not add it.
 * The dashboard and the alert rules use these names; a test checks they exist.
 */
export const METRICS = {
  gatewayEvents: "tributary_gateway_events_total",
  gatewayPublishDuration: "tributary_gateway_publish_duration_seconds",
  gatewayPublishedBytes: "tributary_gateway_published_bytes_total",
  gatewayInFlight: "tributary_gateway_in_flight",
  regionStreamBytes: "tributary_region_stream_bytes",
  regionStreamMaxBytes: "tributary_region_stream_max_bytes",
  regionStreamMessages: "tributary_region_stream_messages",
  regionStreamLastSeq: "tributary_region_stream_last_seq",
  regionStreamFill: "tributary_region_stream_fill_ratio",
  regionOutageBudget: "tributary_region_outage_budget_seconds",
  duplicatesDropped: "tributary_duplicates_dropped_total",
  loaderEvents: "tributary_loader_events_total",
  loaderInsertFailures: "tributary_loader_insert_failures_total",
  loaderHealthy: "tributary_loader_healthy",
  loaderBatchSize: "tributary_loader_batch_size_events",
  loaderFlushDuration: "tributary_loader_flush_duration_seconds",
  e2eLatency: "tributary_e2e_latency_seconds",
  eventAgeAtLoad: "tributary_event_age_at_load_seconds",
  hubConsumerPending: "tributary_hub_consumer_pending_messages",
  hubConsumerAckPending: "tributary_hub_consumer_ack_pending_messages",
  hubStreamMessages: "tributary_hub_stream_messages",
  hubStreamBytes: "tributary_hub_stream_bytes",
  hubStreamMaxBytes: "tributary_hub_stream_max_bytes",
  hubSourceLag: "tributary_hub_source_lag_messages",
  hubSourceLastActive: "tributary_hub_source_last_active_seconds",
  dlqMessages: "tributary_dlq_messages",
  deliveryEvents: "tributary_delivery_events_total",
  deliveryAttempts: "tributary_delivery_attempts_total",
  deliveryAttemptDuration: "tributary_delivery_attempt_duration_seconds",
  deliveryBreakerState: "tributary_delivery_breaker_state",
  deliveryBreakerOpens: "tributary_delivery_breaker_opens_total",
  deliveryInFlight: "tributary_delivery_in_flight",
  deliveryPaused: "tributary_delivery_paused",
  deliveryPauses: "tributary_delivery_pauses",
} as const;

/** The OpenTelemetry instrument name for a Prometheus name (the exporter adds `_total` back). */
function instrumentName(prometheusName: string): string {
  return prometheusName.replace(/_total$/, "");
}

// ---------------------------------------------------------------------------------------------
// Gateway

export type GatewayOutcome = "accepted" | "duplicate" | "refused";

export interface GatewayEventCount {
  /** A configured source id, or `_unknown` (an unknown id from the URL would let senders mint label values). */
  source: string;
  outcome: GatewayOutcome;
  /** The refusal's error code; empty for accepted and duplicate. */
  code: string;
  count: number;
}

export interface RegionStreamState {
  bytes: number;
  maxBytes: number;
  messages: number;
  lastSeq: number;
  /** Seconds the stream can absorb the current input before it refuses or ages out events; null before two readings. */
  outageBudgetSeconds: number | null;
}

export interface GatewaySnapshot {
  events: Iterable<GatewayEventCount>;
  publishedBytes: number;
  inFlight: number;
  /** The last reading of the regional stream, if any. */
  stream: RegionStreamState | undefined;
}

export interface GatewayMetrics {
  /** Seconds from publish to PubAck, per event. */
  recordPublish(seconds: number): void;
}

/**
 * The gateway's instruments. Counts are kept by the gateway in plain numbers and read at scrape
 * time (observable instruments): the request path pays for an increment, not for attribute hashing.
 */
export function createGatewayMetrics(meter: Meter, region: string, snapshot: () => GatewaySnapshot): GatewayMetrics {
  const regionAttrs: Attributes = { region };
  const publishDuration = meter.createHistogram(instrumentName(METRICS.gatewayPublishDuration), {
    description: "Time from publishing an event to the regional stream's PubAck",
    unit: "s",
    advice: { explicitBucketBoundaries: [...OPERATION_BUCKETS_SECONDS] },
  });
  const events = meter.createObservableCounter(instrumentName(METRICS.gatewayEvents), {
    description: "Events answered by the gateway: accepted (202), duplicate (200) or refused (by error code)",
  });
  const duplicates = meter.createObservableCounter(instrumentName(METRICS.duplicatesDropped), {
    description: "Duplicate events dropped, by the depth that caught them (region stream, aggregator, warehouse)",
  });
  const publishedBytes = meter.createObservableCounter(instrumentName(METRICS.gatewayPublishedBytes), {
    description: "Bytes of event bodies acknowledged by the regional stream",
  });
  const inFlight = meter.createObservableGauge(METRICS.gatewayInFlight, {
    description: "Events awaiting the regional stream's PubAck in this process",
  });
  const gauges = {
    bytes: meter.createObservableGauge(METRICS.regionStreamBytes, { description: "Bytes held by the regional stream" }),
    maxBytes: meter.createObservableGauge(METRICS.regionStreamMaxBytes, {
      description: "The regional stream's max_bytes",
    }),
    messages: meter.createObservableGauge(METRICS.regionStreamMessages, {
      description: "Messages held by the regional stream",
    }),
    lastSeq: meter.createObservableGauge(METRICS.regionStreamLastSeq, {
      description: "The regional stream's last sequence number",
    }),
    fill: meter.createObservableGauge(METRICS.regionStreamFill, {
      description: "bytes / max_bytes of the regional stream",
    }),
    budget: meter.createObservableGauge(METRICS.regionOutageBudget, {
      description:
        "How long the regional stream can absorb the current input rate before it refuses events or ages out events the hub has not sourced",
    }),
  };
  meter.addBatchObservableCallback(
    (observer) => {
      const s = snapshot();
      let duplicateCount = 0;
      for (const e of s.events) {
        observer.observe(events, e.count, { region, source: e.source, outcome: e.outcome, code: e.code });
        if (e.outcome === "duplicate") duplicateCount += e.count;
      }
      observer.observe(duplicates, duplicateCount, { region, depth: "region" });
      observer.observe(publishedBytes, s.publishedBytes, regionAttrs);
      observer.observe(inFlight, s.inFlight, regionAttrs);
      if (s.stream) {
        observer.observe(gauges.bytes, s.stream.bytes, regionAttrs);
        observer.observe(gauges.maxBytes, s.stream.maxBytes, regionAttrs);
        observer.observe(gauges.messages, s.stream.messages, regionAttrs);
        observer.observe(gauges.lastSeq, s.stream.lastSeq, regionAttrs);
        if (s.stream.maxBytes > 0) observer.observe(gauges.fill, s.stream.bytes / s.stream.maxBytes, regionAttrs);
        if (s.stream.outageBudgetSeconds !== null)
          observer.observe(gauges.budget, s.stream.outageBudgetSeconds, regionAttrs);
      }
    },
    [events, duplicates, publishedBytes, inFlight, ...Object.values(gauges)],
  );
  return { recordPublish: (seconds) => publishDuration.record(seconds, regionAttrs) };
}

// ---------------------------------------------------------------------------------------------
// Aggregator

export interface LoaderCounts {
  loaded: number;
  poison: number;
  recentDuplicates: number;
  warehouseDuplicates: number;
  insertFailures: number;
  healthy: boolean;
}

export interface HubState {
  consumers: Array<{ name: string; pending: number; ackPending: number }>;
  stream: { messages: number; bytes: number; maxBytes: number } | undefined;
  /** Per region: messages the hub has not sourced yet, and seconds since the source was last active. */
  sources: Array<{ region: string; lag: number; lastActiveSeconds: number | null }>;
  dlqMessages: number | undefined;
}

export interface AggregatorSnapshot {
  loader: LoaderCounts | undefined;
  hub: HubState | undefined;
}

/** One row a batch committed, for the latency histograms. */
export interface LoadedRow {
  region: string;
  source: string;
  receivedAtMs: number;
  occurredAtMs: number | null;
}

export interface AggregatorMetrics {
  /**
   * A committed batch: its size, how long the flush took, and per new row the end-to-end latency
   * (received at the gateway → committed) and the event's age at load (occurred → committed).
   */
  recordLoad(batch: { events: number; flushSeconds: number; committedAtMs: number; rows: Iterable<LoadedRow> }): void;
}

/** The loader's counters: events loaded and poison, duplicates per depth, insert failures, health. */
function loaderObservables(meter: Meter) {
  const loaderEvents = meter.createObservableCounter(instrumentName(METRICS.loaderEvents), {
    description: "Events handled by the loader: loaded (new rows) or poison (to the DLQ)",
  });
  const duplicates = meter.createObservableCounter(instrumentName(METRICS.duplicatesDropped), {
    description: "Duplicate events dropped, by the depth that caught them (region stream, aggregator, warehouse)",
  });
  const insertFailures = meter.createObservableCounter(instrumentName(METRICS.loaderInsertFailures), {
    description: "Warehouse inserts that failed and were retried",
  });
  const healthy = meter.createObservableGauge(METRICS.loaderHealthy, {
    description: "1 while the warehouse accepts inserts, 0 while failing",
  });
  return {
    instruments: [loaderEvents, duplicates, insertFailures, healthy],
    observe(observer: BatchObservableResult, loader: NonNullable<AggregatorSnapshot["loader"]>): void {
      observer.observe(loaderEvents, loader.loaded, { outcome: "loaded" });
      observer.observe(loaderEvents, loader.poison, { outcome: "poison" });
      observer.observe(duplicates, loader.recentDuplicates, { depth: "aggregator" });
      observer.observe(duplicates, loader.warehouseDuplicates, { depth: "warehouse" });
      observer.observe(insertFailures, loader.insertFailures);
      observer.observe(healthy, loader.healthy ? 1 : 0);
    },
  };
}

/** The hub as the aggregator last read it: consumer backlogs, the stream's fill, each region's source, the DLQ. */
function hubObservables(meter: Meter) {
  const pending = meter.createObservableGauge(METRICS.hubConsumerPending, {
    description: "Messages in the hub stream the consumer has not been delivered yet",
  });
  const ackPending = meter.createObservableGauge(METRICS.hubConsumerAckPending, {
    description: "Messages delivered to the consumer and not acknowledged yet",
  });
  const hubMessages = meter.createObservableGauge(METRICS.hubStreamMessages, {
    description: "Messages held by the hub stream",
  });
  const hubBytes = meter.createObservableGauge(METRICS.hubStreamBytes, { description: "Bytes held by the hub stream" });
  const hubMaxBytes = meter.createObservableGauge(METRICS.hubStreamMaxBytes, {
    description: "The hub stream's max_bytes",
  });
  const sourceLag = meter.createObservableGauge(METRICS.hubSourceLag, {
    description: "Messages of a region's stream the hub has not sourced yet (as the hub last saw it)",
  });
  const sourceActive = meter.createObservableGauge(METRICS.hubSourceLastActive, {
    description: "Seconds since the hub's source of a region was last active",
  });
  const dlq = meter.createObservableGauge(METRICS.dlqMessages, {
    description: "Poison events waiting in the DLQ stream",
  });
  return {
    instruments: [pending, ackPending, hubMessages, hubBytes, hubMaxBytes, sourceLag, sourceActive, dlq],
    observe(observer: BatchObservableResult, hub: NonNullable<AggregatorSnapshot["hub"]>): void {
      for (const c of hub.consumers) {
        observer.observe(pending, c.pending, { consumer: c.name });
        observer.observe(ackPending, c.ackPending, { consumer: c.name });
      }
      if (hub.stream) {
        observer.observe(hubMessages, hub.stream.messages);
        observer.observe(hubBytes, hub.stream.bytes);
        observer.observe(hubMaxBytes, hub.stream.maxBytes);
      }
      for (const src of hub.sources) {
        observer.observe(sourceLag, src.lag, { region: src.region });
        if (src.lastActiveSeconds !== null)
          observer.observe(sourceActive, src.lastActiveSeconds, { region: src.region });
      }
      if (hub.dlqMessages !== undefined) observer.observe(dlq, hub.dlqMessages);
    },
  };
}

export function createAggregatorMetrics(meter: Meter, snapshot: () => AggregatorSnapshot): AggregatorMetrics {
  const latency = (name: string, description: string): Histogram =>
    meter.createHistogram(name, {
      description,
      unit: "s",
      advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS_SECONDS] },
    });
  const e2e = latency(
    METRICS.e2eLatency,
    "Time from the gateway receiving an event to its row being committed in the warehouse",
  );
  const age = latency(METRICS.eventAgeAtLoad, "Time from the event's occurred_at to its row being committed");
  const batchSize = meter.createHistogram(METRICS.loaderBatchSize, {
    description: "Events per warehouse batch",
    advice: { explicitBucketBoundaries: [...BATCH_SIZE_BUCKETS] },
  });
  const flush = meter.createHistogram(METRICS.loaderFlushDuration, {
    description: "Time to load one batch (insert and commit, with retries)",
    unit: "s",
    advice: { explicitBucketBoundaries: [...OPERATION_BUCKETS_SECONDS] },
  });

  const loader = loaderObservables(meter);
  const hub = hubObservables(meter);
  meter.addBatchObservableCallback(
    (observer) => {
      const snap = snapshot();
      if (snap.loader) loader.observe(observer, snap.loader);
      if (snap.hub) hub.observe(observer, snap.hub);
    },
    [...loader.instruments, ...hub.instruments],
  );

  // One attributes object per (region, source): recorded per row, allocated once.
  const attrsCache = new Map<string, Attributes>();
  const attrsOf = (region: string, source: string): Attributes => {
    const id = `${region}\u0000${source}`;
    let attrs = attrsCache.get(id);
    if (attrs === undefined) attrsCache.set(id, (attrs = { region, source }));
    return attrs;
  };

  return {
    recordLoad({ events, flushSeconds, committedAtMs, rows }) {
      batchSize.record(events);
      flush.record(flushSeconds);
      for (const row of rows) {
        const attrs = attrsOf(row.region, row.source);
        e2e.record(Math.max(0, (committedAtMs - row.receivedAtMs) / 1000), attrs);
        if (row.occurredAtMs !== null) age.record(Math.max(0, (committedAtMs - row.occurredAtMs) / 1000), attrs);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Delivery

/** What one destination has done so far (the deliverer's counters), and its consumer's backlog. */
export interface DestinationCounts {
  destination: string;
  delivered: number;
  retried: number;
  dlq: number;
  filtered: number;
  attempts: number;
  breakerOpens: number;
  breakerState: "closed" | "open" | "half-open";
  inFlight: number;
  /** Paused (by an operator, or automatically after failing too long): nothing is sent. */
  paused?: boolean;
  /** Times it was paused since the process started. */
  pauses?: number;
  /** The destination's durable consumer on the hub stream, as last read. */
  lag: { pending: number; ackPending: number } | undefined;
}

export interface DeliveryMetrics {
  /** One HTTP attempt: its duration and outcome (`delivered`, `retry`, `dlq`). */
  recordAttempt(destination: string, outcome: string, seconds: number): void;
}

const BREAKER_STATE_VALUE = { closed: 0, "half-open": 0.5, open: 1 } as const;

/**
 * Per destination: events delivered / retried / dead-lettered / filtered, attempts and their
 * latency, the breaker's state (0 closed, 0.5 half-open, 1 open) and openings, and its consumer's
 * pending and ack-pending on the hub (the same metric as the loader's, `consumer="delivery-<name>"`).
 */
export function createDeliveryMetrics(meter: Meter, snapshot: () => Iterable<DestinationCounts>): DeliveryMetrics {
  const duration = meter.createHistogram(METRICS.deliveryAttemptDuration, {
    description: "Time of one HTTP attempt to a destination, by outcome",
    unit: "s",
    advice: { explicitBucketBoundaries: [...OPERATION_BUCKETS_SECONDS] },
  });
  const events = meter.createObservableCounter(instrumentName(METRICS.deliveryEvents), {
    description: "Events a destination has finished with: delivered, retried (handed back with a delay), dlq, filtered",
  });
  const attempts = meter.createObservableCounter(instrumentName(METRICS.deliveryAttempts), {
    description: "HTTP requests made to a destination",
  });
  const opens = meter.createObservableCounter(instrumentName(METRICS.deliveryBreakerOpens), {
    description: "Times a destination's circuit breaker opened",
  });
  const state = meter.createObservableGauge(METRICS.deliveryBreakerState, {
    description: "A destination's circuit breaker: 0 closed, 0.5 half-open, 1 open (no requests)",
  });
  const inFlight = meter.createObservableGauge(METRICS.deliveryInFlight, {
    description: "Requests to a destination awaiting an answer",
  });
  const paused = meter.createObservableGauge(METRICS.deliveryPaused, {
    description: "1 while a destination is paused (its backlog waits in the stream), else 0",
  });
  const pauses = meter.createObservableCounter(instrumentName(METRICS.deliveryPauses), {
    description: "Times a destination was paused (by an operator, or after failing for breaker.pauseAfterMs)",
  });
  const pending = meter.createObservableGauge(METRICS.hubConsumerPending, {
    description: "Messages in the hub stream the consumer has not been delivered yet",
  });
  const ackPending = meter.createObservableGauge(METRICS.hubConsumerAckPending, {
    description: "Messages delivered to the consumer and not acknowledged yet",
  });
  meter.addBatchObservableCallback(
    (observer) => {
      for (const d of snapshot()) {
        const attrs = { destination: d.destination };
        observer.observe(events, d.delivered, { ...attrs, outcome: "delivered" });
        observer.observe(events, d.retried, { ...attrs, outcome: "retried" });
        observer.observe(events, d.dlq, { ...attrs, outcome: "dlq" });
        observer.observe(events, d.filtered, { ...attrs, outcome: "filtered" });
        observer.observe(attempts, d.attempts, attrs);
        observer.observe(opens, d.breakerOpens, attrs);
        observer.observe(state, BREAKER_STATE_VALUE[d.breakerState], attrs);
        observer.observe(inFlight, d.inFlight, attrs);
        if (d.paused !== undefined) observer.observe(paused, d.paused ? 1 : 0, attrs);
        if (d.pauses !== undefined) observer.observe(pauses, d.pauses, attrs);
        if (d.lag) {
          observer.observe(pending, d.lag.pending, { consumer: `delivery-${d.destination}` });
          observer.observe(ackPending, d.lag.ackPending, { consumer: `delivery-${d.destination}` });
        }
      }
    },
    [events, attempts, opens, state, inFlight, paused, pauses, pending, ackPending],
  );
  return { recordAttempt: (destination, outcome, seconds) => duration.record(seconds, { destination, outcome }) };
}
