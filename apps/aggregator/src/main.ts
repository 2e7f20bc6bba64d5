import { readFileSync } from "node:fs";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { configFileFrom, isConfigError } from "@tributary/config";
import { RecentKeys } from "@tributary/dedupe";
import {
  connectNats,
  DLQ_STREAM,
  NatsCredentialsError,
  dlqStreamConfig,
  ensureConsumer,
  ensureStream,
  loaderConsumerConfig,
  retryWhileStreamMissing,
} from "@tributary/streams";
import { createAggregatorMetrics, startTelemetry, traceLogFields } from "@tributary/telemetry";
import { isEventQueries, isReconcileReader, openWarehouse, redactUrl } from "@tributary/warehouse";
import { buildHttp } from "./app.js";
import { loadAggregatorConfig, type AggregatorConfig } from "./config.js";
import { HubMonitor } from "./hub-monitor.js";
import { apiTokens, buildEnricher, operatorToken } from "./enrich-config.js";
import type { Enricher } from "@tributary/enrich";
import type { ApiToken } from "@tributary/query-api";
import { AdaptiveBatchSize, Loader, rowFromMessage } from "@tributary/loader";
import { startDeliveriesLoader } from "./deliveries-loader.js";

/** Longer than a batch flush or a PubAck timeout, shorter than Kubernetes' default 30 s grace period. */
const SHUTDOWN_DEADLINE_MS = 25_000;

async function main(): Promise<void> {
  let config: AggregatorConfig;
  let enricher: Enricher | undefined;
  let tokens: ApiToken[];
  let operator: string | undefined;
  try {
    config = loadAggregatorConfig(process.env, configFileFrom(process.argv, process.env));
    enricher = buildEnricher(config.enrich, process.env);
    tokens = apiTokens(config.api, process.env);
    operator = operatorToken(config.operatorToken, process.env);
  } catch (err) {
    if (isConfigError(err)) {
      console.error(`tributary-aggregator: ${err.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }

  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  const telemetry = startTelemetry({
    serviceName: "tributary-aggregator",
    serviceVersion: version,
    env: process.env,
    warn: (message) => console.error(`tributary-aggregator: ${message}`),
  });

  const sink = await openWarehouse(config.warehouseUrl);
  await sink.migrate();

  let loader: Loader | undefined;
  // Log lines written inside a span (a batch's load) carry its trace id.
  const logger = { level: config.logLevel, ...(telemetry.tracing ? { mixin: () => traceLogFields() } : {}) };
  const api =
    config.api.enabled && isEventQueries(sink)
      ? { queries: sink, tokens, anonymousLoopback: config.api.anonymousLoopback, rateLimit: config.api.rateLimit }
      : undefined;
  // OTEL_SDK_DISABLED=true turns telemetry off entirely: no spans, no /metrics.
  const http = buildHttp({
    reader: sink,
    loader: () => loader,
    logger,
    api,
    operatorToken: operator,
    ...(telemetry.settings.disabled ? {} : { telemetry }),
    ...(isReconcileReader(sink) ? { reconcile: sink } : {}),
  });
  const log = http.log;
  await http.listen({ host: config.host, port: config.port });

  const nc = await connectNats({
    servers: config.nats.servers,
    name: "tributary-aggregator",
    waitOnFirstConnect: true,
    ...(config.nats.user !== undefined ? { user: config.nats.user, pass: config.nats.pass ?? "" } : {}),
  });
  const jsm = await jetstreamManager(nc);
  if (config.manageStreams) await ensureStream(jsm, dlqStreamConfig());
  // Where operators provision the streams (a Helm Job), the hub stream may not exist yet.
  await retryWhileStreamMissing(
    () =>
      ensureConsumer(
        jsm,
        config.stream,
        loaderConsumerConfig({
          durable: config.durable,
          maxAckPending: config.maxAckPending,
          ackWaitMs: config.ackWaitMs,
        }),
      ),
    {
      onWait: (attempt) => {
        if (attempt % 15 === 0)
          log.warn({ stream: config.stream }, "the stream does not exist yet; waiting for it to be provisioned");
      },
    },
  );
  const js = jetstream(nc);
  const consumer = await js.consumers.get(config.stream, config.durable);
  // The client-side buffer holds about one batch per flush slot and one filling: the stream keeps the rest.
  const messages = await consumer.consume({
    max_messages: Math.min(config.batch.maxEvents * (config.batch.flushesInFlight + 1), config.maxAckPending),
  });
  const recentKeys = config.dedupe.maxKeys > 0 ? new RecentKeys(config.dedupe) : undefined;
  const hub = new HubMonitor({
    jsm,
    stream: config.stream,
    durable: config.durable,
    dlqStream: DLQ_STREAM,
    intervalMs: config.metricsIntervalMs,
    log,
  });
  hub.start();
  const metrics = createAggregatorMetrics(telemetry.meter, () => {
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
      hub: hub.state,
    };
  });
  loader = new Loader({
    messages,
    js,
    sink,
    toRow: (msg) => rowFromMessage(msg, enricher),
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
    metrics,
    ...(telemetry.tracing ? { tracer: telemetry.tracer } : {}),
  });
  log.info(
    { stream: config.stream, durable: config.durable, warehouse: redactUrl(config.warehouseUrl) },
    "aggregator loading",
  );
  const running = loader.run();
  // The delivery log starts beside the loader and never delays or stops it.
  const stopWaitingForDeliveries = new AbortController();
  const deliveries = config.deliveries.enabled
    ? startDeliveriesLoader({
        nc,
        sink,
        durable: config.deliveries.durable,
        ackWaitMs: config.ackWaitMs,
        log,
        signal: stopWaitingForDeliveries.signal,
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
      )
    : Promise.resolve(undefined);

  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    // A shutdown that cannot finish (a hung connection) must not keep the process forever: the
    // orchestrator's kill would come anyway, this way the exit code says what happened.
    setTimeout(() => {
      console.error(`tributary-aggregator: shutdown did not finish within ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    log.info({ signal }, "shutting down: flushing the current batch");
    loader?.stop();
    stopWaitingForDeliveries.abort();
    // Started (or given up) before the sink closes: a start in progress is stopped too.
    const started = await deliveries;
    started?.loader.stop();
    await running.catch((err: unknown) => log.error({ err }, "loader failed while stopping"));
    await started?.running.catch((err: unknown) => log.error({ err }, "delivery-log loader failed while stopping"));
    await hub.stop();
    await nc.drain(); // sends the last acks
    await http.close();
    await sink.close();
    await telemetry.shutdown(); // exports the last spans
    log.info("aggregator stopped");
  }
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
  running.catch((err: unknown) => {
    log.error({ err }, "loader stopped unexpectedly");
    process.exitCode = 1;
    void shutdown("loader-failed");
  });
}

main().catch((err: unknown) => {
  if (err instanceof NatsCredentialsError) {
    console.error(`tributary-aggregator: ${err.message}`);
    process.exit(78); // EX_CONFIG
  }
  console.error("tributary-aggregator: failed to start", err);
  process.exit(1);
});
