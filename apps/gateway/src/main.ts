import { runService } from "@tributary/runtime";
import { buildGateway } from "./app.js";
import { loadGatewayConfig } from "./config.js";
import { RegionalPublisher } from "./publisher.js";

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
    publisher = regional;
    const opsAddress = await ops.listen({ host: config.opsHost, port: config.opsPort });
    const address = await app.listen({ host: config.host, port: config.port });
    // NATS is set up in the background: until then /readyz says "starting". Refused credentials exit 78.
    const connecting = regional.start().catch((err: unknown) => fail(err, "could not set up the regional stream"));
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
        ["nats", () => regional.close()],
        ["setup", () => connecting],
        ["ops", () => ops.close()],
      ],
    };
  },
});
