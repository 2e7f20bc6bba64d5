import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "@tributary/errors";
import {
  aggregatorPermissions,
  connectNats,
  dlqStreamConfig,
  enrichedStreamConfig,
  ensureStream,
  hubStreamConfig,
  inboxPermission,
} from "@tributary/streams";
import { startNatsServer, type NatsServer } from "@tributary/testkit";
import { DuckDbSink } from "@tributary/warehouse";
import { loadAggregatorConfig } from "../src/config.js";
import { AggregatorService } from "../src/service.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The aggregator's consumers ack cumulatively, which is safe only because each start resets them
 * to their ack floor (resume.ts): a NATS user that may not reset them stops the start, naming the
 * setting, rather than loading with acks that would cover a killed predecessor's messages.
 */
describe("aggregator start - the consumer reset it depends on", () => {
  let dir: string;
  let server: NatsServer;
  let sink: DuckDbSink;
  const connections: NatsConnection[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tributary-aggregator-resume-"));
    // The aggregator's own permissions less the resets: a NATS config written before them.
    const granted = aggregatorPermissions("warehouse-loader");
    const withoutReset = granted.publish.filter((s) => !s.includes(".CONSUMER.RESET."));
    expect(withoutReset.length).toBe(granted.publish.length - 2);
    server = await startNatsServer({
      domain: "hub",
      dir: join(dir, "nats"),
      extraConfig: `authorization { users: [
        { user: "admin", password: "a" },
        { user: "aggregator", password: "g", permissions: { publish: { allow: ${JSON.stringify(withoutReset)} }, subscribe: { allow: ${JSON.stringify([inboxPermission("aggregator")])} } } }
      ] }`,
    });
    const admin = await connectNats({ servers: [server.url], name: "admin", user: "admin", pass: "a" });
    connections.push(admin);
    const jsm = await jetstreamManager(admin);
    await ensureStream(jsm, hubStreamConfig({ regions: [] }));
    await ensureStream(jsm, dlqStreamConfig());
    await ensureStream(jsm, enrichedStreamConfig());
    sink = await DuckDbSink.open(join(dir, "events.duckdb"));
    await sink.migrate();
  });
  afterAll(async () => {
    for (const nc of connections) await nc.close();
    await sink?.close();
    await server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("resume - a user that may not reset its consumers stops the start with a config error naming the permission", async () => {
    const nc = await connectNats({ servers: [server.url], name: "aggregator", user: "aggregator", pass: "g" });
    connections.push(nc);
    const defaults = loadAggregatorConfig({}, undefined);
    const config = {
      ...defaults,
      manageStreams: false,
      durable: "warehouse-loader",
      deliveries: { ...defaults.deliveries, enabled: false },
    };
    const service = await AggregatorService.start({ nc, sink, config, log: silent });
    const refused = await service.loading.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).field).toBe("nats.user");
    expect((refused as ConfigError).message).toMatch(/\$JS\.API\.CONSUMER\.RESET\.EVENTS\.enricher/);
    expect(service.loader).toBeUndefined();
    await service.stop();
  });
});
