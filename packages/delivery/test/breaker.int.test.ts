import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Loader, rowFromMessage } from "@tributary/loader";
import { connectNats, ensureConsumer, ENRICHED_STREAM, loaderConsumerConfig } from "@tributary/streams";
import { DuckDbSink } from "@tributary/warehouse";
import type { AttemptRecord } from "../src/index.js";
import { Destination, Hub, silentLog, until } from "./harness.js";

let hub: Hub;
const closers: Array<() => Promise<void>> = [];
beforeEach(async () => {
  hub = await Hub.start();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await hub.close();
});

describe("delivery - circuit breaker", () => {
  it("while A is down its breaker holds its events (no requests while open); B and the warehouse loader keep going; A gets its whole backlog after recovery", async () => {
    let aDown = true;
    const a = await Destination.start(() => (aDown ? { status: 503, body: "maintenance" } : { status: 200 }));
    const b = await Destination.start();
    closers.push(
      () => a.close(),
      () => b.close(),
    );

    // The warehouse loader on the same hub stream, with its own durable consumer (as the aggregator runs it).
    const sink = await DuckDbSink.open(join(hub.dir, "events.duckdb"));
    await sink.migrate();
    const nc = await connectNats({ servers: [hub.server.url], name: "loader" });
    await ensureConsumer(
      await jetstreamManager(nc),
      ENRICHED_STREAM,
      loaderConsumerConfig({ durable: "warehouse-loader", maxAckPending: 5_000, ackWaitMs: 10_000 }),
    );
    const js = jetstream(nc);
    const messages = await (
      await js.consumers.get(ENRICHED_STREAM, "warehouse-loader")
    ).consume({ max_messages: 1_000 });
    const loader = new Loader({
      messages,
      js,
      sink,
      toRow: rowFromMessage,
      policy: { maxEvents: 500, maxBytes: 8 << 20, maxAgeMs: 50 },
      ackWaitMs: 10_000,
      log: silentLog,
    });
    const loading = loader.run();
    closers.push(async () => {
      loader.stop();
      await loading;
      await nc.drain();
      await sink.close();
    });

    // A answers 503 to everything: 20 failed attempts (minimumAttempts, the default) open its breaker.
    // failuresToOpen counts attempts without an answer (B's timeouts on a starved machine, below).
    const breaker = { failuresToOpen: 3, halfOpenAfterMs: 400, maxHalfOpenAfterMs: 800 };
    const retry = { maxAttempts: 100, initialDelayMs: 50, maxDelayMs: 200 };
    const da = await hub.deliver(Hub.config({ name: "a", url: a.url, maxInFlight: 8, breaker, retry }));
    const bFailures: AttemptRecord[] = [];
    const db = await hub.deliver(Hub.config({ name: "b", url: b.url, maxInFlight: 8, breaker, retry }), {
      onAttempt: (r) => r.outcome !== "delivered" && bFailures.push(r),
    });

    const keys = await hub.publish(1_000);
    await until(() => b.ids().size === 1_000, 30_000, "B receives everything while A is down");
    await until(
      async () => (await sink.countEvents()) === 1_000,
      30_000,
      "the warehouse loads everything while A is down",
    );
    expect(da.deliverer.breakerState).not.toBe("closed");
    expect(da.deliverer.stats.breakerOpens).toBeGreaterThanOrEqual(1);
    expect(da.deliverer.stats.breakerHeld).toBeGreaterThan(0);

    // Open: no request reaches A, apart from the rare half-open probe (one at a time, 400 ms after
    // the breaker opened, then 800 ms apart: no jitter, test/breaker.test.ts).
    const before = a.received.length;
    const window = 1_500;
    await new Promise((r) => setTimeout(r, window));
    const probes = a.received.length - before;
    expect(probes).toBeLessThanOrEqual(Math.ceil(window / breaker.halfOpenAfterMs) + 1);
    // Its backlog waits in the stream, not in memory: unacknowledged are at most the maxInFlight
    // events held, plus events nak'ed with a delay after a failed attempt and not pulled again yet
    // (the failures before the breaker opened, about minimumAttempts of them, and failed probes),
    // which wait in the server, not in hand.
    const state = await hub.consumerState("a");
    expect(state.ackPending).toBeLessThanOrEqual(8 + da.deliverer.stats.retried);
    expect(state.pending + state.ackPending).toBeGreaterThan(900);
    // While down, A saw few requests in total: the ones before the breaker opened, and probes.
    expect(a.received.length).toBeLessThan(60);

    aDown = false;
    await until(() => a.ids().size === 1_000, 30_000, "A receives its whole backlog after recovery");
    await until(
      async () => (await hub.consumerState("a")).ackPending === 0 && (await hub.consumerState("a")).pending === 0,
      5_000,
      "A's consumer drained",
    );
    expect([...a.ids()].sort()).toEqual([...keys].sort());
    expect(da.deliverer.breakerState).toBe("closed");
    expect(da.deliverer.stats.dlq).toBe(0);
    // Duplicates at A only as retries with the same id: each extra request has a higher attempt.
    const attempts = new Map<string, number[]>();
    for (const r of a.received) attempts.set(r.id, [...(attempts.get(r.id) ?? []), r.attempt]);
    for (const list of attempts.values()) expect(new Set(list).size).toBe(list.length);
    // B never answers anything but 200, so A's outage cost it nothing: every event delivered once.
    // The only exception is its own client timeout (2 s) when a starved machine (CI: two packages'
    // tests on two cores) holds the answer back: then a retry, the same id with the next attempt,
    // and with three in a row B's own breaker opens for a moment. Never an HTTP failure, never a
    // request that is not one attempt of one event.
    expect(
      bFailures.filter((r) => r.status !== 0),
      JSON.stringify(bFailures.slice(0, 5)),
    ).toEqual([]);
    expect(db.deliverer.stats).toMatchObject({ delivered: 1_000, dlq: 0, retried: bFailures.length });
    expect(b.ids()).toEqual(new Set(keys));
    const bAttempts = new Map<string, number[]>();
    for (const r of b.received) bAttempts.set(r.id, [...(bAttempts.get(r.id) ?? []), r.attempt]);
    for (const list of bAttempts.values()) expect(new Set(list).size).toBe(list.length);
    expect(b.received.length).toBeGreaterThanOrEqual(1_000);
    expect(b.received.length).toBeLessThanOrEqual(1_000 + bFailures.length);
    if (bFailures.length === 0) expect(db.deliverer.stats.breakerOpens).toBe(0);
  });
});
