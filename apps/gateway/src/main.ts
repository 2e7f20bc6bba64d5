import { runService } from "@tributary/runtime";
import { NatsCredentialsError } from "@tributary/streams";
import { buildApp } from "./app.js";
import { loadGatewayConfig } from "./config.js";
import { RegionalPublisher } from "./publisher.js";

runService({
  name: "gateway",
  packageJson: new URL("../package.json", import.meta.url),
  loadConfig: loadGatewayConfig,
  isConfigError: (err) => err instanceof NatsCredentialsError,
  telemetryAttributes: (config) => ({ "tributary.region": config.region }),
  start: async ({ config, telemetry, fail }) => {
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
    const regional = (publisher = new RegionalPublisher(config, app.log));
    const address = await app.listen({ host: config.host, port: config.port });
    // NATS is set up in the background: until then /readyz says "starting". Refused credentials exit 78.
    const connecting = regional.start().catch((err: unknown) => fail(err, "could not set up the regional stream"));
    return {
      log: app.log,
      started: [{ address, region: config.region, sources: [...config.sources.keys()] }, "gateway listening"],
      stopping: "shutting down: finishing in-flight publishes",
      // Order matters: stop taking requests and let in-flight ones get their PubAck, then drain NATS.
      stop: [
        ["http", () => app.close()],
        ["nats", () => regional.close()],
        ["setup", () => connecting],
      ],
    };
  },
});
