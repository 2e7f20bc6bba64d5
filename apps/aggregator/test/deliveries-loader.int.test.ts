import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  connectNats,
  deliveriesStreamConfig,
  deliveryLogSubject,
  DELIVERY_LOG_DLQ_SUBJECT,
  DLQ_STREAM,
  dlqStreamConfig,
  ensureStream,
  EventHeader,
} from "@tributary/streams";
import { startNatsServer, type NatsServer } from "@tributary/testkit";
import { DuckDbSink, WarehouseError, type DeliveryRow } from "@tributary/warehouse";
import type { NatsConnection } from "@nats-io/transport-node";
import { startDeliveriesLoader } from "../src/deliveries-loader.js";
import { buildHttp } from "../src/app.js";

const log = { info() {}, warn() {} };

describe("delivery log - loaded into the warehouse's deliveries table", () => {
  let dir: string;
  let server: NatsServer;
  let nc: NatsConnection;
  let sink: DuckDbSink;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "tributary-deliveries-loader-"));
    server = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
    nc = await connectNats({ servers: [server.url], name: "test" });
    sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    await sink.migrate();
  });
  afterEach(async () => {
    await nc.close();
    await sink.close();
    await server.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("off when the hub has no DELIVERIES stream and it looks only once", async () => {
    expect(
      await startDeliveriesLoader({ nc, sink, durable: "deliveries-loader", ackWaitMs: 5_000, log, recheckMs: 0 }),
    ).toBeUndefined();
  });

  it("waits for a DELIVERIES stream provisioned after the start (delivery enabled later), then loads it; a stop ends the wait", async () => {
    const waiting = startDeliveriesLoader({
      nc,
      sink,
      durable: "deliveries-loader",
      ackWaitMs: 5_000,
      log,
      recheckMs: 100,
    });
    await new Promise((r) => setTimeout(r, 300));
    await ensureStream(await jetstreamManager(nc), deliveriesStreamConfig());
    const record = {
      destination: "crm",
      event_key: "demo:late",
      attempt: 1,
      outcome: "delivered",
      status: 200,
      latency_ms: 1,
      error: "",
      at: new Date().toISOString(),
    };
    await jetstream(nc).publish(deliveryLogSubject("crm"), new TextEncoder().encode(JSON.stringify(record)));
    const started = (await waiting)!;
    const deadline = Date.now() + 15_000;
    while ((await sink.countDeliveries()) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await sink.countDeliveries()).toBe(1);
    started.loader.stop();
    await started.running;

    const stop = new AbortController();
    await jetstreamManager(nc).then((jsm) => jsm.streams.delete("DELIVERIES"));
    const stopped = startDeliveriesLoader({
      nc,
      sink,
      durable: "deliveries-loader",
      ackWaitMs: 5_000,
      log,
      recheckMs: 60_000,
      signal: stop.signal,
    });
    await new Promise((r) => setTimeout(r, 100));
    stop.abort();
    expect(await stopped).toBeUndefined();
  });

  it("every record becomes one row; a restart (redelivery) adds none; unreadable records are skipped", async () => {
    await ensureStream(await jetstreamManager(nc), deliveriesStreamConfig());
    const js = jetstream(nc);
    const at = new Date().toISOString();
    for (let i = 0; i < 250; i++) {
      const record = {
        destination: i % 2 ? "crm" : "slack",
        event_key: `demo:e-${i}`,
        attempt: 1,
        outcome: i % 10 === 0 ? "retry" : "delivered",
        status: i % 10 === 0 ? 503 : 200,
        latency_ms: 3.5,
        error: "",
        at,
      };
      await js.publish(deliveryLogSubject(record.destination), new TextEncoder().encode(JSON.stringify(record)));
    }
    await js.publish(deliveryLogSubject("crm"), new TextEncoder().encode("not a record"));

    const first = (await startDeliveriesLoader({ nc, sink, durable: "deliveries-loader", ackWaitMs: 5_000, log }))!;
    const deadline = Date.now() + 15_000;
    while ((await sink.countDeliveries()) < 250 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    first.loader.stop();
    await first.running;
    expect(await sink.countDeliveries()).toBe(250);
    expect(await sink.countDeliveries({ destination: "crm" })).toBe(125);
    expect(await sink.countDeliveries({ outcome: "retry" })).toBe(25);
    expect(first.loader.counters).toMatchObject({ loaded: 250, unreadable: 1 });
    // inject comes from 127.0.0.1: the local-development switch lets it read the operator endpoint.
    const http = buildHttp({ reader: sink, loader: () => undefined, operatorLoopback: true });
    const page = (await http.inject({ url: "/v1/deliveries?destination=slack&outcome=retry&limit=5" })).json() as {
      data: Array<{ destination: string; outcome: string; status: number }>;
      total: number;
    };
    expect(page.total).toBe(25);
    expect(page.data).toHaveLength(5);
    expect(page.data.every((d) => d.destination === "slack" && d.outcome === "retry" && d.status === 503)).toBe(true);
    expect((await http.inject({ url: "/v1/deliveries?event_key=demo:e-7" })).json()).toMatchObject({
      total: 1,
      data: [{ event_key: "demo:e-7", destination: "crm", attempt: 1 }],
    });
    expect((await http.inject({ url: "/v1/deliveries?outcome=bogus" })).statusCode).toBe(400);
    await http.close();

    // The same records again (as after a crash before the acks): the log sequence keys them.
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.delete("DELIVERIES", "deliveries-loader");
    const second = (await startDeliveriesLoader({ nc, sink, durable: "deliveries-loader", ackWaitMs: 5_000, log }))!;
    const until = Date.now() + 15_000;
    while (second.loader.counters.duplicates < 250 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    second.loader.stop();
    await second.running;
    expect(second.loader.counters).toMatchObject({ loaded: 0, duplicates: 250 });
    expect(await sink.countDeliveries()).toBe(250);
  });
  it("L7 - a record the warehouse fails on with an error that is not a data error no longer stalls the log: it goes to the DLQ, the rest load", async () => {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, deliveriesStreamConfig());
    await ensureStream(jsm, dlqStreamConfig());
    // The real DuckDB, except that any batch holding one record fails the way DuckDB's INTERNAL
    // errors or a ClickHouse code outside its data errors do: as warehouse_unavailable.
    const flaky = new Proxy(sink, {
      get(target, prop) {
        if (prop === "insertDeliveries")
          return (rows: readonly DeliveryRow[]) =>
            rows.some((r) => r.event_key === "demo:poison")
              ? Promise.reject(new WarehouseError("warehouse_unavailable", "INTERNAL Error: Attempted to access index"))
              : target.insertDeliveries(rows);
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const js = jetstream(nc);
    const at = new Date().toISOString();
    for (let i = 0; i < 40; i++) {
      const record = { destination: "crm", event_key: i === 17 ? "demo:poison" : `demo:p-${i}`, attempt: 1 };
      const data = JSON.stringify({ ...record, outcome: "delivered", status: 200, latency_ms: 1, error: "", at });
      await js.publish(deliveryLogSubject("crm"), new TextEncoder().encode(data));
    }
    const started = (await startDeliveriesLoader({
      nc,
      sink: flaky,
      durable: "deliveries-loader",
      ackWaitMs: 30_000,
      log,
    }))!;
    const deadline = Date.now() + 40_000;
    while ((await sink.countDeliveries()) < 39 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    started.loader.stop();
    await started.running;
    expect(await sink.countDeliveries()).toBe(39);
    expect(started.loader.counters).toMatchObject({ loaded: 39, poison: 1 });
    const entry = await jsm.streams.getMessage(DLQ_STREAM, { seq: 1 });
    expect(entry!.subject).toBe(DELIVERY_LOG_DLQ_SUBJECT);
    expect(entry!.header.get(EventHeader.DlqReason)).toMatch(/^warehouse_failed: warehouse_unavailable INTERNAL Error/);
    expect(JSON.parse(new TextDecoder().decode(entry!.data))).toMatchObject({ event_key: "demo:poison" });
    const info = await jsm.consumers.info("DELIVERIES", "deliveries-loader");
    expect(info.num_ack_pending + info.num_pending).toBe(0);
  });
});
