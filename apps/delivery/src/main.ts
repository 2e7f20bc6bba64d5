import { natsCredentials } from "@tributary/config";
import { runService } from "@tributary/runtime";
import { connectNats } from "@tributary/streams";
import { buildApp } from "./app.js";
import { loadDeliveryConfig } from "./config.js";
import { startDelivery, stopDelivery } from "./control.js";
import type { DeliveryService } from "./service.js";
import { deliveryGauges, deliveryTelemetryHooks } from "./telemetry.js";

runService({
  name: "delivery",
  packageJson: new URL("../package.json", import.meta.url),
  loadConfig: loadDeliveryConfig,
  deadlineNote: "unacked events are redelivered",
  start: async ({ config: { config, signingKeys, adminToken }, telemetry, signal, unlessStopped }) => {
    // The first connect retries until NATS answers; a stop before then ends the start (exit 0).
    const nc = await unlessStopped(
      connectNats({
        servers: config.nats.servers,
        name: "tributary-delivery",
        waitOnFirstConnect: true,
        ...natsCredentials(config.nats),
      }),
    );
    let service: DeliveryService | undefined;
    const natsConnected = () => !nc.isClosed() && !nc.isDraining();
    const http = buildApp({
      service: () => service,
      natsConnected,
      adminToken,
      adminLoopback: config.adminLoopback,
      // OTEL_SDK_DISABLED=true turns telemetry off entirely: no spans, no /metrics.
      ...(telemetry.settings.disabled ? {} : { telemetry }),
      logger: { level: config.logLevel },
    });
    const log = http.log;
    const gauges = deliveryGauges(telemetry, () => service);
    await http.listen({ host: config.host, port: config.port });
    const { destinations, ackWaitMs, manageStreams, allowPrivate } = config;
    const hooks = deliveryTelemetryHooks(telemetry, gauges.metrics);
    const options = { nc, destinations, signingKeys, ackWaitMs, manageStreams, log, ...hooks };
    const { sync, ...started } = await startDelivery(options, signal, { ...config.control, allowPrivate });
    service = started.service;
    if (service) gauges.readLags();
    return {
      log,
      started: [{ destinations: destinations.map((d) => d.name) }, "delivering"],
      stopping: "shutting down: finishing the requests in flight",
      stop: [
        ["deliverers", () => stopDelivery({ service, sync }, log)],
        ["nats", () => nc.drain()], // sends the last acks
        ["lag reads", () => gauges.stop()],
        ["http", () => http.close()],
      ],
    };
  },
});
