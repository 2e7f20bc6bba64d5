import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { headers as createHeaders } from "@nats-io/nats-core";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  connectNats,
  dlqStreamConfig,
  ensureConsumer,
  ensureStream,
  EventHeader,
  hubStreamConfig,
  loaderConsumerConfig,
} from "@tributary/streams";
import { startNatsServer, type NatsServer } from "@tributary/testkit";
import { DuckDbSink, type WarehouseReader, type WarehouseSink } from "@tributary/warehouse";
import { Loader, rowFromMessage, type LoaderOptions } from "../src/index.js";

export const silentLog = { info() {}, warn() {}, error() {} };

/**
 * A hub-like server with EVENTS (taking `replay.>` and, here, `events.>` directly, standing in for
 * the sourced regions), the DLQ, a durable consumer and a DuckDB file: what a loader needs.
 */
export class LoaderBench {
  private constructor(
    readonly dir: string,
    readonly server: NatsServer,
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly sink: WarehouseSink & WarehouseReader,
  ) {}

  /** `openSink` picks the warehouse (default: a DuckDB file in the temp dir). */
  static async start(openSink?: () => Promise<WarehouseSink & WarehouseReader>): Promise<LoaderBench> {
    const dir = mkdtempSync(join(tmpdir(), "tributary-loader-"));
    const server = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
    const nc = await connectNats({ servers: [server.url], name: "loader-test" });
    const jsm = await jetstreamManager(nc);
    const hub = hubStreamConfig({ regions: [] });
    await ensureStream(jsm, { ...hub, subjects: [...(hub.subjects ?? []), "events.>"] });
    await ensureStream(jsm, dlqStreamConfig());
    const sink = openSink ? await openSink() : await DuckDbSink.open(join(dir, "events.duckdb"));
    await sink.migrate();
    return new LoaderBench(dir, server, nc, jetstream(nc), jsm, sink);
  }

  /** Publishes events as the gateway would (headers of the wire contract, key as Nats-Msg-Id). */
  async publish(
    count: number,
    opts: {
      prefix?: string;
      body?: (i: number) => string;
      /** Headers set over the gateway's (a forged message). */
      headers?: Record<string, string>;
      subject?: string;
    } = {},
  ): Promise<string[]> {
    const keys: string[] = [];
    const pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < count; i++) {
      const key = `demo:${opts.prefix ?? "e"}-${i}`;
      const h = createHeaders();
      h.set(EventHeader.MsgId, key);
      h.set(EventHeader.Source, "demo");
      h.set(EventHeader.Region, "us");
      h.set(EventHeader.ReceivedAt, new Date().toISOString());
      h.set(EventHeader.EventType, "link.clicked");
      for (const [name, value] of Object.entries(opts.headers ?? {})) h.set(name, value);
      const body =
        opts.body?.(i) ??
        JSON.stringify({ event: "link.clicked", timestamp: new Date().toISOString(), data: { link_id: `lnk_${i}` } });
      pending.push(
        this.js.publish(opts.subject ?? "events.us.demo.link.clicked", new TextEncoder().encode(body), { headers: h }),
      );
      keys.push(h.get(EventHeader.MsgId));
      if (pending.length >= 256) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    return keys;
  }

  /** A loader on the durable `loader` of EVENTS, on its own connection (as a replica would be). */
  async loader(
    overrides: Partial<LoaderOptions> = {},
    durable = "loader",
  ): Promise<{
    loader: Loader;
    running: Promise<void>;
    consumerInfo(): Promise<{ ackFloor: number; ackPending: number; pending: number }>;
    close(): Promise<void>;
  }> {
    const nc = await connectNats({ servers: [this.server.url], name: "loader" });
    const jsm = await jetstreamManager(nc);
    await ensureConsumer(jsm, "EVENTS", loaderConsumerConfig({ durable, maxAckPending: 5_000, ackWaitMs: 5_000 }));
    const js = jetstream(nc);
    const consumer = await js.consumers.get("EVENTS", durable);
    const messages = await consumer.consume({ max_messages: 2_000 });
    const loader = new Loader({
      messages,
      js,
      sink: this.sink,
      toRow: rowFromMessage,
      policy: { maxEvents: 1_000, maxBytes: 8 * 1024 * 1024, maxAgeMs: 50 },
      ackWaitMs: 5_000,
      log: silentLog,
      ...overrides,
    });
    const running = loader.run();
    return {
      loader,
      running,
      async consumerInfo() {
        const info = await jsm.consumers.info("EVENTS", durable);
        return { ackFloor: info.ack_floor.stream_seq, ackPending: info.num_ack_pending, pending: info.num_pending };
      },
      async close() {
        loader.stop();
        await running;
        await nc.drain();
      },
    };
  }

  async dlqCount(): Promise<number> {
    return (await this.jsm.streams.info("EVENTS_DLQ")).state.messages;
  }

  async close(): Promise<void> {
    await this.nc.close();
    await this.sink.close();
    await this.server.cleanup();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
