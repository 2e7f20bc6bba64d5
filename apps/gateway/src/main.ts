import { runService } from "@tributary/runtime";
import { buildGateway } from "./app.js";
import { loadGatewayConfig } from "./config.js";
import { RegionalPublisher } from "./publisher.js";
import { SourceRegistry, watchSources } from "./source-registry.js";
import { SealingKeys } from "@tributary/control";

runService({
  name: "gateway",
  packageJson: new URL("../package.json", import.meta.url),
  loadConfig: loadGatewayConfig,
  telemetryAttributes: (config) => ({ "tributary.region": config.region }),
  start: async ({ config, telemetry, fail }) => {
    // The app owns the logger; the publisher logs through it, so it is made second.
    let publisher: RegionalPublisher | undefined;
    // OTEL_SDK_DISABLED=true turns telemetry off entirely: no spans, no metrics, no /metrics.
    const { app, ops } = buildGateway({
      config,
      ...(telemetry.settings.disabled ? {} : { telemetry }),
      stream: () => publisher,
    });
    const regional = new RegionalPublisher(config, app.log);
    const registry = config.control.enabled ? new SourceRegistry(config, SealingKeys.fromEnv(), app.log) : undefined;
    let watching: { stop: () => void } | undefined;
    publisher = regional;
    const opsAddress = await ops.listen({ host: config.opsHost, port: config.opsPort });
    const address = await app.listen({ host: config.host, port: config.port });
    // NATS is set up in the background: until then /readyz says "starting". Refused credentials exit 78.
    const connecting = regional
      .start()
      .then(async () => {
        if (registry && regional.connection) watching = await watchSources(regional.connection, registry);
      })
      .catch((err: unknown) => fail(err, "could not set up the regional stream or its sources"));
    return {
      log: app.log,
      started: [
        { address, ops: opsAddress, region: config.region, sources: [...config.sources.keys()] },
        "gateway listening",
      ],
      stopping: "shutting down: finishing in-flight publishes",
      // Order matters: stop taking requests and let in-flight ones get their PubAck, then drain NATS;
      // the operations server answers probes and scrapes until the end.
      stop: [
        ["http", () => app.close()],
        ["sources", () => watching?.stop()],
        ["nats", () => regional.close()],
        ["setup", () => connecting],
        ["ops", () => ops.close()],
      ],
    };
  },
});
