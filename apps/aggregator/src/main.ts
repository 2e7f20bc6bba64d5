import { natsCredentials } from "@tributary/config";
import { runService } from "@tributary/runtime";
import { connectNats } from "@tributary/streams";
import { buildAggregatorHttp } from "./app.js";
import { loadAggregatorSettings } from "./config.js";
import { ControlLink } from "./control.js";
import { openRetainedWarehouse } from "./retention.js";
import { AggregatorService } from "./service.js";

/**
 * The aggregator process: HTTP first (health answers meanwhile), then the management API's and the
 * pipeline's hub connections (control.ts, service.ts). A stop flushes the batch in hand, drains
 * NATS, closes HTTP and the warehouse; runService's deadline exits 1 past 25 s.
 */
runService({
  name: "aggregator",
  packageJson: new URL("../package.json", import.meta.url),
  loadConfig: loadAggregatorSettings,
  // Refused NATS credentials are a setting to fix: exit 78.
  start: async ({ config: settings, telemetry, fail, unlessStopped }) => {
    const { config, enricher } = settings;
    const { sink, sweeper } = await openRetainedWarehouse(config.warehouseUrl, config.retention);
    let service: AggregatorService | undefined;
    const control = new ControlLink(settings.control, config.control.lastUseEverySeconds);
    const http = buildAggregatorHttp(settings, sink, telemetry, () => service?.loader, control, sweeper);
    await http.listen({ host: config.host, port: config.port });
    sweeper?.start(config.retention.everySeconds * 1000, http.log);
    await unlessStopped(control.start(config.nats.servers, http.log));
    // The first connect retries until NATS answers; a stop before then ends the start (exit 0).
    const nc = await unlessStopped(
      connectNats({
        servers: config.nats.servers,
        name: "tributary-aggregator",
        waitOnFirstConnect: true,
        ...natsCredentials(config.nats),
      }),
    );
    const pipeline = { nc, sink, config, telemetry, enricher, log: http.log };
    const started = await AggregatorService.start({ ...pipeline, observe: control.observe });
    service = started;
    started.running.catch((err: unknown) =>
      fail(err, started.loader ? "loader stopped unexpectedly" : "could not start loading"),
    );
    return {
      log: http.log,
      stopping: "shutting down: flushing the current batch",
      stop: [
        ["retention", async () => sweeper?.stop()],
        ["loader", () => started.stop()],
        ["nats", () => nc.drain()], // sends the last acks
        ["control", () => control.close()],
        ["http", () => http.close()],
        ["warehouse", () => sink.close()],
      ],
    };
  },
});
