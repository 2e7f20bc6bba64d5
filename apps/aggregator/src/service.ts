import {
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { RecentKeys } from "@tributary/dedupe";
import type { Enricher } from "@tributary/enrich";
import { AdaptiveBatchSize, defaultMappingWorkers, Loader, MappingPool, rowFromMessage } from "@tributary/loader";
import {
  CumulativeAcks,
  DLQ_STREAM,
  dlqStreamConfig,
  ENRICHED_LOADER_SUBJECTS,
  enrichedStreamConfig,
  ensureConsumer,
  ensureStream,
  loaderConsumerConfig,
  retryWhileStreamMissing,
} from "@tributary/streams";
import { createAggregatorMetrics, type AggregatorMetrics, type Telemetry } from "@tributary/telemetry";
import { redactUrl, type WarehouseSink } from "@tributary/warehouse";
import type { AggregatorConfig } from "./config.js";
import { startDeliveriesLoader, type DeliveriesLoader } from "./deliveries-loader.js";
import { HubMonitor } from "./hub-monitor.js";
import { resumeAtAckFloor } from "./resume.js";
import { startEnrichStage, type EnrichStage } from "./enrich-stage.js";

/** What the service logs through; pino's (Fastify's `app.log`) fits. */
export interface AggregatorLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface AggregatorServiceOptions {
  /** The hub connection; the caller drains it after `stop()` (that sends the last acks). */
  nc: NatsConnection;
  /** Opened and migrated by the caller, closed by it after `stop()`. */
  sink: WarehouseSink;
  config: AggregatorConfig;
  /** Metrics (the meter) and, with tracing on, spans; without it the service records neither. */
  telemetry?: Telemetry;
  /** The enrich stage's enricher (`buildEnricher`); without it events go on without enriched columns. */
  enricher?: Enricher;
  log: AggregatorLog;
  /** Sees every hub message the loader pulls (the source secrets' last use, secret-uses.ts). */
  observe?: ((msg: JsMsg) => void) | undefined;
}

type StartedDeliveries = { loader: DeliveriesLoader; running: Promise<void> };

/**
 * The aggregator's pipeline without the process around it: the durable consumer on the hub
 * stream, the Loader (batches, dedupe depth, DLQ), the hub monitor and metrics, and the
 * delivery-log loader beside it. The caller owns the NATS connection, the warehouse, HTTP and the
 * signals (apps/aggregator's main; the in-process test).
 *
 * `start` creates the DLQ stream (with `manageStreams`) and returns; the consumer follows in the
 * background, since the hub stream may not be provisioned yet: `loader` stays undefined (not
 * ready) until it exists, and `loading` settles when it does.
 */
export class AggregatorService {
  readonly #opts: AggregatorServiceOptions;
  /** Aborted by `stop()`: ends a wait for the hub stream or for the delivery-log stream. */
  readonly #stopping = new AbortController();
  #loader: Loader | undefined;
  #loaderRunning: Promise<void> | undefined;
  /** The enrich stage: hub stream → enriched stream, beside the loader. */
  #stage: { stage: EnrichStage; running: Promise<void> } | undefined;
  /** The loader's mapping workers (parse, validate, map, enrich), closed after it stops. */
  #pool: MappingPool | undefined;
  #hub: HubMonitor | undefined;
  #deliveries: Promise<StartedDeliveries | undefined> = Promise.resolve(undefined);
  /** The loader once it runs; undefined when stopped before the stream appeared; rejects if the consumer could not be set up. */
  readonly loading: Promise<Loader | undefined>;
  /**
   * Settles when loading ends: resolves after `stop()`, rejects when the loader fails or loading
   * could not begin. The owner should stop the service then (main exits 1).
   */
  readonly running: Promise<void>;

  private constructor(opts: AggregatorServiceOptions, jsm: JetStreamManager) {
    this.#opts = opts;
    this.loading = this.#begin(jsm);
    this.running = this.loading.then(() =>
      Promise.all([this.#loaderRunning, this.#stage?.running]).then(() => undefined),
    );
    // Watched by the owner; marked handled here so an unwatched failure is not also a crash.
    this.running.catch(() => undefined);
  }

  static async start(opts: AggregatorServiceOptions): Promise<AggregatorService> {
    const jsm = await jetstreamManager(opts.nc);
    if (opts.config.manageStreams) {
      await ensureStream(jsm, dlqStreamConfig());
      await ensureStream(jsm, enrichedStreamConfig());
    }
    return new AggregatorService(opts, jsm);
  }

  /** The warehouse loader while it runs (undefined before the stream exists): `/readyz` and `/v1/stats` read it. */
  get loader(): Loader | undefined {
    return this.#loader;
  }

  /**
   * Stops in order: pulling ends and the batch in hand is loaded and acked (left unacked if the
   * warehouse is down: redelivered later), the delivery-log loader stops (or its wait ends), then
   * the hub monitor. Never rejects: failures while stopping are logged. Drain NATS after it.
   */
  async stop(): Promise<void> {
    const { log } = this.#opts;
    this.#stopping.abort();
    const loader = await this.loading.catch(() => undefined);
    this.#stage?.stage.stop();
    loader?.stop();
    // Started (or given up) before the sink closes: a start in progress is stopped too.
    const deliveries = await this.#deliveries;
    deliveries?.loader.stop();
    await this.#loaderRunning?.catch((err: unknown) => log.error({ err }, "loader failed while stopping"));
    await this.#stage?.running.catch((err: unknown) => log.error({ err }, "enrich stage failed while stopping"));
    await this.#pool?.close().catch((err: unknown) => log.error({ err }, "mapping workers failed while stopping"));
    await deliveries?.running.catch((err: unknown) => log.error({ err }, "delivery-log loader failed while stopping"));
    await this.#hub?.stop();
  }

  async #begin(jsm: JetStreamManager): Promise<Loader | undefined> {
    const { nc, config, log } = this.#opts;
    if (!(await this.#ensureConsumer(jsm))) return undefined; // stopped while waiting
    const js = jetstream(nc);
    this.#stage = await startEnrichStage({
      nc,
      js,
      jsm,
      stream: config.stream,
      durable: config.enrichDurable,
      maxAckPending: config.maxAckPending,
      ackWaitMs: config.ackWaitMs,
      enricher: this.#opts.enricher,
      log,
    });
    await resumeAtAckFloor(jsm, config.enrichedStream, config.durable, log);
    const consumer = await js.consumers.get(config.enrichedStream, config.durable);
    // The client-side buffer holds about one batch per flush slot and one filling: the stream keeps the rest.
    const messages = await consumer.consume({
      max_messages: Math.min(config.batch.maxEvents * (config.batch.flushesInFlight + 1), config.maxAckPending),
    });
    this.#hub = new HubMonitor({
      jsm,
      stream: config.stream,
      consumers: [
        { stream: config.stream, durable: config.enrichDurable },
        { stream: config.enrichedStream, durable: config.durable },
      ],
      dlqStream: DLQ_STREAM,
      intervalMs: config.metricsIntervalMs,
      log,
    });
    this.#hub.start();
    const loader = this.#createLoader(messages, js, this.#createMetrics());
    this.#loader = loader;
    log.info(
      { stream: config.enrichedStream, durable: config.durable, warehouse: redactUrl(config.warehouseUrl) },
      "aggregator loading",
    );
    this.#loaderRunning = loader.run();
    // The delivery log starts beside the loader and never delays or stops it.
    this.#deliveries = this.#startDeliveries();
    return loader;
  }

  /** Creates or updates the durable consumer, waiting while the stream does not exist; false when stopped first. */
  async #ensureConsumer(jsm: JetStreamManager): Promise<boolean> {
    const { config, log } = this.#opts;
    // Where operators provision the streams (a Helm Job), the hub and enriched streams may not
    // exist yet. The stage's consumer is made once both do (startEnrichStage).
    const info = await retryWhileStreamMissing(
      async () => {
        await jsm.streams.info(config.stream);
        return ensureConsumer(
          jsm,
          config.enrichedStream,
          loaderConsumerConfig({
            durable: config.durable,
            maxAckPending: config.maxAckPending,
            ackWaitMs: config.ackWaitMs,
            filterSubjects: ENRICHED_LOADER_SUBJECTS,
            acks: "cumulative",
          }),
        );
      },
      {
        onWait: (attempt) => {
          if (attempt % 15 === 0)
            log.warn({ stream: config.stream }, "the stream does not exist yet; waiting for it to be provisioned");
        },
        signal: this.#stopping.signal,
      },
    );
    return info !== undefined && !this.#stopping.signal.aborted;
  }

  /** The aggregator's instruments, read from the loader's counters and the hub monitor at each collection. */
  #createMetrics(): AggregatorMetrics | undefined {
    const { telemetry } = this.#opts;
    if (!telemetry) return undefined;
    return createAggregatorMetrics(telemetry.meter, () => {
      const loader = this.#loader;
      const c = loader?.counters;
      return {
        loader: c && {
          loaded: c.loaded,
          poison: c.poison,
          recentDuplicates: c.recentDuplicates,
          warehouseDuplicates: c.duplicates,
          insertFailures: c.insertFailures,
          healthy: loader!.healthy,
        },
        hub: this.#hub?.state,
      };
    });
  }

  #createLoader(messages: ConsumerMessages, js: JetStreamClient, metrics: AggregatorMetrics | undefined): Loader {
    const { sink, config, telemetry, log } = this.#opts;
    const recentKeys = config.dedupe.maxKeys > 0 ? new RecentKeys(config.dedupe) : undefined;
    this.#pool = this.#createPool();
    return new Loader({
      messages,
      js,
      sink,
      // The enrich stage decided every enriched column: rows take them from the messages.
      ...(this.#pool ? { mapper: this.#pool } : { toRow: (msg) => rowFromMessage(msg) }),
      policy: config.batch,
      adaptive: new AdaptiveBatchSize({
        min: config.batch.minEvents,
        max: config.batch.maxEvents,
        targetLatencyMs: config.batch.targetLatencyMs,
      }),
      maxFlushesInFlight: config.batch.flushesInFlight,
      ackWaitMs: config.ackWaitMs,
      ...(recentKeys ? { recentKeys } : {}),
      log,
      ...(metrics ? { metrics } : {}),
      ...(telemetry?.tracing ? { tracer: telemetry.tracer } : {}),
      ...(this.#opts.observe ? { observe: this.#opts.observe } : {}),
      acks: new CumulativeAcks(),
    });
  }

  /** Parsing, validation and mapping on worker threads, so the loader's thread only pulls, appends and acks. */
  #createPool(): MappingPool {
    return new MappingPool({ workers: defaultMappingWorkers(), enrichedMessages: true });
  }

  /** The delivery-log loader (with `deliveries.enabled`); a failure to start only turns it off. */
  #startDeliveries(): Promise<StartedDeliveries | undefined> {
    const { nc, sink, config, log } = this.#opts;
    if (!config.deliveries.enabled) return Promise.resolve(undefined);
    return startDeliveriesLoader({
      nc,
      sink,
      durable: config.deliveries.durable,
      ackWaitMs: config.ackWaitMs,
      log,
      signal: this.#stopping.signal,
    }).then(
      (started) => {
        started?.running.catch((err: unknown) =>
          log.error({ err }, "the delivery-log loader stopped; the warehouse loader goes on"),
        );
        return started;
      },
      (err: unknown) => {
        log.warn({ err }, "delivery log loading is off: it could not start");
        return undefined;
      },
    );
  }
}
