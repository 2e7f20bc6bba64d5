import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectNats,
  DLQ_STREAM,
  dlqStreamConfig,
  ensureStream,
  eventSubject,
  ENRICHED_STREAM,
  enrichedStreamConfig,
  hubStreamConfig,
  publishEvent,
} from "@tributary/streams";
import { startNatsServer, waitFor, type NatsServer } from "@tributary/testkit";
import { DuckDbSink } from "@tributary/warehouse";
import { loadAggregatorConfig, type AggregatorConfig } from "../src/config.js";
import { AggregatorService } from "../src/service.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const encode = (text: string) => new TextEncoder().encode(text);

/** The aggregator's defaults, with small batches and a short ack wait for a test. */
function testConfig(overrides: Partial<AggregatorConfig> = {}): AggregatorConfig {
  const config = loadAggregatorConfig({}, undefined);
  return {
    ...config,
    manageStreams: false, // provisioned here, as operators do
    ackWaitMs: 5_000,
    batch: { ...config.batch, maxEvents: 100, minEvents: 10, maxAgeMs: 50 },
    ...overrides,
  };
}

describe("aggregator service (in process: real nats-server, DuckDB file)", () => {
  let dir: string;
  let server: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let sink: DuckDbSink;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tributary-aggregator-service-"));
    server = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
    nc = await connectNats({ servers: [server.url], name: "service-test" });
    jsm = await jetstreamManager(nc);
    // The hub stream without regions to source: it takes events.> directly, standing in for them.
    const hub = hubStreamConfig({ regions: [] });
    await ensureStream(jsm, { ...hub, subjects: [...(hub.subjects ?? []), "events.>"] });
    await ensureStream(jsm, dlqStreamConfig());
    await ensureStream(jsm, enrichedStreamConfig());
    sink = await DuckDbSink.open(join(dir, "events.duckdb"));
    await sink.migrate();
  });
  afterAll(async () => {
    await nc?.drain();
    await sink?.close();
    await server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("service - every event becomes exactly one row, a poison message goes to EVENTS_DLQ, and it stops cleanly", async () => {
    const service = await AggregatorService.start({ nc, sink, config: testConfig(), log: silent });
    const loader = await service.loading;
    expect(loader).toBeDefined();
    expect(service.loader).toBe(loader);

    const js = jetstream(nc);
    const keys: string[] = [];
    const publish = (
      i: number,
      body = { event: "link.clicked", timestamp: new Date().toISOString(), data: { n: i } },
    ) =>
      publishEvent(js, {
        subject: eventSubject("us", "demo", "link.clicked"),
        body: encode(JSON.stringify(body)),
        eventKey: `demo:e-${i}`,
        source: "demo",
        region: "us",
        eventType: "link.clicked",
        receivedAt: new Date(),
      });
    for (let i = 0; i < 500; i++) {
      await publish(i);
      keys.push(`demo:e-${i}`);
    }
    // A resend of 50 of them: the hub's duplicate window answers for the same key.
    for (let i = 0; i < 500; i += 10) expect((await publish(i)).duplicate).toBe(true);
    await publishEvent(js, {
      subject: eventSubject("us", "demo", "link.clicked"),
      body: encode("{not json"),
      eventKey: "demo:poison-1",
      source: "demo",
      region: "us",
      eventType: "link.clicked",
      receivedAt: new Date(),
    });

    await waitFor("500 rows", async () => ((await sink.countEvents()) >= 500 ? true : undefined), 20_000, 50);
    await waitFor("the DLQ entry", async () =>
      (await jsm.streams.info(DLQ_STREAM)).state.messages === 1 ? true : undefined,
    );
    const entry = await jsm.streams.getMessage(DLQ_STREAM, { seq: 1 });
    expect(entry?.header.get("Tributary-Dlq-Reason")).toMatch(/^invalid_json/);
    expect(entry?.header.get("Tributary-Original-Msg-Id")).toBe("demo:poison-1");
    expect(new TextDecoder().decode(entry?.data)).toBe("{not json");
    expect(loader!.healthy).toBe(true);

    const stoppedAt = Date.now();
    await service.stop();
    await service.running;
    // The delivery-log loader was waiting for a DELIVERIES stream: the stop ended that wait too.
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);

    const rows = await sink.recentEvents(10_000);
    expect(rows).toHaveLength(500);
    expect(new Set(rows.map((r) => r.event_key))).toEqual(new Set(keys));
    expect(loader!.counters).toMatchObject({ loaded: 500, poison: 1, duplicates: 0 });
    // Everything was acked (or terminated, the poison): nothing waits for redelivery.
    const consumer = await jsm.consumers.info(ENRICHED_STREAM, "warehouse-loader");
    expect(consumer.num_pending).toBe(0);
    expect(consumer.num_ack_pending).toBe(0);
  });

  it("service - not ready while the stream is missing, and a stop ends the wait", async () => {
    const service = await AggregatorService.start({
      nc,
      sink,
      config: testConfig({ stream: "LATE", durable: "late-loader" }),
      log: silent,
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(service.loader).toBeUndefined();
    await service.stop();
    expect(await service.loading).toBeUndefined();
    await service.running;
  });
});
