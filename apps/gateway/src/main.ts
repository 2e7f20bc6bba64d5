import { readFileSync } from "node:fs";
import { configFileFrom, isConfigError } from "@tributary/config";
import { startTelemetry } from "@tributary/telemetry";
import { NatsCredentialsError } from "@tributary/streams";
import { buildApp } from "./app.js";
import { loadGatewayConfig } from "./config.js";
import { RegionalPublisher } from "./publisher.js";

/** Longer than a batch flush or a PubAck timeout, shorter than Kubernetes' default 30 s grace period. */
const SHUTDOWN_DEADLINE_MS = 25_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadGatewayConfig(process.env, configFileFrom(process.argv, process.env));
  } catch (err) {
    if (isConfigError(err)) {
      console.error(`tributary-gateway: ${err.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }

  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  const telemetry = startTelemetry({
    serviceName: "tributary-gateway",
    serviceVersion: version,
    attributes: { "tributary.region": config.region },
    env: process.env,
    warn: (message) => console.error(`tributary-gateway: ${message}`),
  });

  // The app owns the logger; the publisher logs through it.
  let publisher: RegionalPublisher | undefined;
  const app = buildApp({
    config,
    // OTEL_SDK_DISABLED=true turns telemetry off entirely: no spans, no metrics, no /metrics.
    ...(telemetry.settings.disabled ? {} : { telemetry }),
    streamState: () => publisher?.streamState(),
    publish: (msg) => publisher!.publish(msg),
    isReady: () => publisher?.isReady() ?? false,
    readiness: () => publisher?.readiness() ?? { ready: false, reason: "starting", fill: null },
    buffer: {
      get full() {
        return publisher?.full ?? false;
      },
      retryAfterSeconds: () => publisher!.retryAfterSeconds(),
      freshRetryAfterSeconds: (waitMs?: number) => publisher!.freshRetryAfterSeconds(waitMs),
    },
  });
  publisher = new RegionalPublisher(config, app.log);

  const address = await app.listen({ host: config.host, port: config.port });
  app.log.info({ address, region: config.region, sources: [...config.sources.keys()] }, "gateway listening");
  const connecting = publisher.start().catch((err: unknown) => {
    if (err instanceof NatsCredentialsError) {
      app.log.error(err.message);
      process.exitCode = 78; // EX_CONFIG
    } else {
      app.log.error({ err }, "could not set up the regional stream");
      process.exitCode = 1;
    }
    void shutdown("setup-failed");
  });

  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    // A shutdown that cannot finish (a hung connection) must not keep the process forever: the
    // orchestrator's kill would come anyway, this way the exit code says what happened.
    setTimeout(() => {
      console.error(`tributary-gateway: shutdown did not finish within ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app.log.info({ signal }, "shutting down: finishing in-flight publishes");
    // Order matters: stop taking requests and let in-flight ones get their PubAck, then drain NATS.
    await app.close();
    await publisher!.close();
    await connecting.catch(() => undefined);
    await telemetry.shutdown(); // exports the last spans
    app.log.info("gateway stopped");
  }
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  console.error("tributary-gateway: failed to start", err);
  process.exit(1);
});
