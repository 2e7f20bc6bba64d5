import { readFileSync } from "node:fs";
import { configFileFrom, isConfigError } from "@tributary/config";
import { createDeliveryMetrics, instrumentFastify, startTelemetry, type DestinationCounts } from "@tributary/telemetry";
import { isDestinationConfigError } from "@tributary/delivery";
import { connectNats, NatsCredentialsError, retryWhileStreamMissing } from "@tributary/streams";
import { buildApp } from "./app.js";
import { loadDeliveryConfig, type LoadedDeliveryConfig } from "./config.js";
import { DeliveryService } from "./service.js";
import { deliveryTelemetryHooks } from "./telemetry.js";

/** How often each destination's consumer position is read for the lag metrics. */
const LAG_READ_INTERVAL_MS = 5_000;

/** Longer than a destination's default timeout (10 s) plus acks, shorter than Kubernetes' 30 s grace period. */
const SHUTDOWN_DEADLINE_MS = 25_000;

async function main(): Promise<void> {
  let loaded: LoadedDeliveryConfig;
  try {
    loaded = loadDeliveryConfig(process.env, configFileFrom(process.argv, process.env));
  } catch (err) {
    if (isConfigError(err)) {
      console.error(`tributary-delivery: ${err.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const { config } = loaded;
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  const telemetry = startTelemetry({
    serviceName: "tributary-delivery",
    serviceVersion: version,
    env: process.env,
    warn: (m) => console.error(`tributary-delivery: ${m}`),
  });

  let service: DeliveryService | undefined;
  const nc = await connectNats({
    servers: config.nats.servers,
    name: "tributary-delivery",
    waitOnFirstConnect: true,
    ...(config.nats.user !== undefined ? { user: config.nats.user, pass: config.nats.pass ?? "" } : {}),
  });
  const http = buildApp({
    service: () => service,
    natsConnected: () => !nc.isClosed() && !nc.isDraining(),
    adminToken: loaded.adminToken,
    logger: { level: config.logLevel },
  });
  const log = http.log;
  if (!telemetry.settings.disabled) instrumentFastify(http, telemetry);
  const lags = new Map<string, { pending: number; ackPending: number }>();
  const metrics = createDeliveryMetrics(telemetry.meter, function* (): Iterable<DestinationCounts> {
    for (const [destination, { deliverer }] of service?.deliverers ?? []) {
      const s = deliverer.snapshot();
      yield {
        destination,
        delivered: s.delivered,
        retried: s.retried,
        dlq: s.dlq,
        filtered: s.filtered,
        attempts: s.attempts,
        breakerOpens: s.breakerOpens,
        breakerState: s.breakerState,
        inFlight: s.inFlight,
        lag: lags.get(destination),
      };
    }
  });
  await http.listen({ host: config.host, port: config.port });

  let stopping = false;
  let lagTimer: NodeJS.Timeout | undefined;
  const stopWaiting = new AbortController();
  let starting: Promise<DeliveryService | undefined> | undefined;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      console.error(
        `tributary-delivery: shutdown did not finish within ${SHUTDOWN_DEADLINE_MS} ms; exiting (unacked events are redelivered)`,
      );
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    log.info({ signal }, "shutting down: finishing the requests in flight");
    stopWaiting.abort();
    // A start in progress finishes first (or gives up), so what it started is stopped here too.
    service ??= await starting?.catch(() => undefined);
    await service?.stop().catch((err: unknown) => log.error({ err }, "deliverers failed while stopping"));
    await nc.drain(); // sends the last acks
    clearInterval(lagTimer);
    await http.close();
    await telemetry.shutdown();
    log.info("delivery stopped");
  }
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));

  // Where operators provision the streams (a Helm Job), EVENTS or the delivery streams may not exist yet.
  starting = retryWhileStreamMissing(
    () =>
      DeliveryService.start({
        nc,
        destinations: config.destinations,
        signingKeys: loaded.signingKeys,
        ackWaitMs: config.ackWaitMs,
        manageStreams: config.manageStreams,
        log,
        ...deliveryTelemetryHooks(telemetry, metrics),
      }),
    {
      onWait: (attempt) => {
        if (attempt % 15 === 0)
          log.warn("a stream it reads does not exist yet (EVENTS, DELIVERY_REPLAY); waiting for it to be provisioned");
      },
      signal: stopWaiting.signal,
    },
  );
  service = await starting;
  if (!service || stopping) return; // stopped while waiting or starting: shutdown() stops it
  // Each destination's backlog in the hub stream, read in the background (a scrape never waits on NATS).
  lagTimer = setInterval(() => {
    for (const name of service?.deliverers.keys() ?? []) {
      void service?.lag(name).then((lag) => {
        if (lag) lags.set(name, lag);
      });
    }
  }, LAG_READ_INTERVAL_MS);
  lagTimer.unref();
  log.info({ destinations: config.destinations.map((d) => d.name) }, "delivering");
}

main().catch((err: unknown) => {
  if (err instanceof NatsCredentialsError || isDestinationConfigError(err)) {
    console.error(`tributary-delivery: ${(err as Error).message}`);
    process.exit(78); // EX_CONFIG
  }
  console.error("tributary-delivery: failed to start", err);
  process.exit(1);
});
