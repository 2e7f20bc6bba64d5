import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DestinationStateChange } from "../src/index.js";
import { Destination, Hub, type Received, until } from "./harness.js";

let hub: Hub;
const closers: Array<() => Promise<void>> = [];
beforeEach(async () => {
  hub = await Hub.start();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await hub.close();
});

/** FNV-1a of a string: a fixed, evenly spread number per request. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Whether the flaky destination answers 500 to this attempt of this event: 30 % of requests, the same in every run. */
const fails = (id: string, attempt: number) => fnv1a(`${id}#${attempt}`) % 1_000 < 300;

/** The attempt at which an event gets its 200 from the flaky destination. */
function deliveringAttempt(id: string): number {
  let attempt = 1;
  while (fails(id, attempt)) attempt++;
  return attempt;
}

/** Each event's attempts as the destination saw them, in order of arrival. */
function attemptsById(received: Received[]): Map<string, number[]> {
  const byId = new Map<string, number[]>();
  for (const r of received) byId.set(r.id, [...(byId.get(r.id) ?? []), r.attempt]);
  return byId;
}

/** Redeliveries before the requests that delivered (one per event): its attempt less one, summed. */
const sumOfRedeliveries = (final: Received[]) => final.reduce((sum, r) => sum + r.attempt - 1, 0);

// Small retry delays; a long request timeout so that a starved machine does not add attempts.
const retry = { maxAttempts: 20, initialDelayMs: 20, maxDelayMs: 200 };
const timeoutMs = 10_000;

describe("delivery - the breaker judges a failure rate", () => {
  it("a destination answering 500 to 30 % of requests at random gets 2,000 events in less than 3× a healthy one's time, every event once, the breaker (defaults) closed", async () => {
    const keys = await hub.publish(2_000);

    const healthy = await Destination.start();
    closers.push(() => healthy.close());
    const startedHealthy = performance.now();
    const dh = await hub.deliver(Hub.config({ name: "healthy", url: healthy.url, timeoutMs, retry, breaker: {} }));
    await until(() => healthy.ids().size === 2_000, 30_000, "the healthy destination receives everything");
    const healthyMs = performance.now() - startedHealthy;
    dh.deliverer.stop();

    const flaky = await Destination.start((req) => (fails(req.id, req.attempt) ? { status: 500 } : undefined));
    closers.push(() => flaky.close());
    const changes: DestinationStateChange[] = [];
    const delivered = () => flaky.received.filter((r) => !fails(r.id, r.attempt));
    const startedFlaky = performance.now();
    const df = await hub.deliver(Hub.config({ name: "flaky", url: flaky.url, timeoutMs, retry, breaker: {} }), {
      onStateChange: (c) => changes.push(c),
    });
    await until(() => delivered().length >= 2_000, 30_000, "the flaky destination receives everything");
    const flakyMs = performance.now() - startedFlaky;

    const failed = flaky.received.length - delivered().length;
    console.log(
      `healthy ${Math.round(healthyMs)} ms, 30 %-failing ${Math.round(flakyMs)} ms (${(flakyMs / healthyMs).toFixed(2)}×): ` +
        `${flaky.received.length} requests, ${failed} answered 500, breaker opened ${df.deliverer.stats.breakerOpens}×`,
    );
    expect(failed / flaky.received.length).toBeGreaterThan(0.25);
    expect(flakyMs).toBeLessThan(3 * healthyMs);
    // The breaker stays out of it (the rule that it replaced opened on every 5 failures in a row).
    expect(df.deliverer.stats.breakerOpens).toBeLessThanOrEqual(1);
    expect(changes.filter((c) => c.state === "paused")).toEqual([]);

    // Every event delivered exactly once, after exactly the attempts its hash decides: no attempt
    // lost, none made twice, none beyond the 200.
    const byId = attemptsById(flaky.received);
    expect(new Set(byId.keys())).toEqual(new Set(keys));
    let expectedRequests = 0;
    for (const key of keys) {
      const k = deliveringAttempt(key);
      expectedRequests += k;
      expect(
        [...byId.get(key)!].sort((a, b) => a - b),
        key,
      ).toEqual(Array.from({ length: k }, (_, i) => i + 1));
    }
    expect(flaky.received.length).toBe(expectedRequests);
    expect(delivered().length).toBe(2_000);
    // Every redelivery is one retry the deliverer decided on (no ack_wait expiry, no stray nak).
    await until(async () => (await hub.consumerState("flaky")).ackPending === 0, 5_000, "flaky's consumer drained");
    expect(df.deliverer.stats).toMatchObject({ delivered: 2_000, dlq: 0, retried: failed, attempts: expectedRequests });
    expect(sumOfRedeliveries(delivered())).toBe(failed);
  });

  it("a stopped destination trips the breaker within seconds and, failing past pauseAfterMs, is paused (onStateChange says so); no requests while paused; after resume() the backlog arrives in full, none twice", async () => {
    const first = await Destination.start();
    const changes: DestinationStateChange[] = [];
    const breaker = { failuresToOpen: 5, halfOpenAfterMs: 300, maxHalfOpenAfterMs: 1_000, pauseAfterMs: 1_500 };
    const config = Hub.config({
      name: "down",
      url: first.url,
      maxInFlight: 8,
      timeoutMs,
      breaker,
      retry: { maxAttempts: 100, initialDelayMs: 50, maxDelayMs: 400 },
    });
    const { deliverer } = await hub.deliver(config, { onStateChange: (c) => changes.push(c) });

    await hub.publish(200, { prefix: "before" });
    await until(() => first.ids().size === 200, 20_000, "delivered while up");
    await until(async () => (await hub.consumerState("down")).ackPending === 0, 5_000, "all acked");
    const port = first.port;
    await first.close(); // nothing listens on its port now: connections are refused

    const stoppedAt = Date.now();
    const keys = await hub.publish(1_000, { prefix: "during" });
    await until(() => deliverer.breakerState !== "closed", 5_000, "the breaker opens");
    const openedMs = Date.now() - stoppedAt;
    expect(openedMs).toBeLessThan(3_000);
    expect(changes[0]).toMatchObject({ destination: "down", state: "open", automatic: true });
    expect(changes[0]!.reason).toMatch(/^5 attempts in a row got no answer \(last: .*ECONNREFUSED/);

    await until(() => deliverer.paused, breaker.pauseAfterMs + 5_000, "paused after pauseAfterMs");
    const paused = changes.find((c) => c.state === "paused")!;
    expect(paused).toMatchObject({ destination: "down", automatic: true });
    expect(paused.reason).toMatch(
      /^failing for 1\.5 s \(circuit (open|half-open); opened on: 5 attempts in a row got no answer/,
    );
    expect(Date.parse(paused.at) - Date.parse(changes[0]!.at)).toBeGreaterThanOrEqual(breaker.pauseAfterMs - 5);
    // In between, the breaker probed (half-open) and the probes failed (open again).
    expect(changes.slice(0, changes.indexOf(paused)).map((c) => c.state)).toContain("half_open");
    expect(deliverer.snapshot()).toMatchObject({ paused: true, pauses: 1, pausedReason: paused.reason });

    // Paused: no request at all (an open breaker alone would probe every 0.3-1.25 s), even with the
    // destination back; the backlog waits in the stream.
    const attempts = deliverer.stats.attempts;
    const second = await Destination.start(undefined, port);
    closers.push(() => second.close());
    await new Promise((r) => setTimeout(r, 2_000));
    expect(deliverer.stats.attempts).toBe(attempts);
    expect(second.received).toEqual([]);
    const state = await hub.consumerState("down");
    expect(state.pending + state.ackPending).toBe(1_000);
    // Unacknowledged: the events in hand (8 slots) and those nak'ed after a failed attempt.
    expect(state.ackPending).toBeLessThanOrEqual(8 + deliverer.stats.retried);
    expect(deliverer.stats.retried).toBeLessThan(40);

    expect(deliverer.resume("the destination is back")).toBe(true);
    expect(deliverer.resume()).toBe(false);
    await until(() => second.ids().size === 1_000, 20_000, "the backlog arrives after resume()");
    await until(async () => (await hub.consumerState("down")).ackPending === 0, 5_000, "all acked");
    expect(second.ids()).toEqual(new Set(keys));
    expect(second.received).toHaveLength(1_000); // every request reached it once: none twice
    // After the pause: perhaps a probe that was out failing (open), then resumed, one probe, closed.
    const after = changes.slice(changes.indexOf(paused) + 1).map((c) => c.state);
    expect(after.slice(-3)).toEqual(["resumed", "half_open", "closed"]);
    expect(after.slice(0, -3).every((s) => s === "open")).toBe(true);
    expect(changes.at(-3)).toMatchObject({ reason: "the destination is back", automatic: false });
    expect(deliverer.snapshot()).toMatchObject({ paused: false, pausedReason: "", breakerState: "closed", dlq: 0 });
    // Each redelivery is a retry after a refused connection: nothing was nak'ed for the pause.
    expect(sumOfRedeliveries(second.received)).toBe(deliverer.stats.retried);
  });

  it("pause() on a healthy destination: requests in flight finish, nothing more is pulled or sent, nothing is nak'ed; resume() delivers the rest once each", async () => {
    const dest = await Destination.start(() => ({ delayMs: 20 }));
    closers.push(() => dest.close());
    const changes: DestinationStateChange[] = [];
    const { deliverer } = await hub.deliver(Hub.config({ name: "ops", url: dest.url, maxInFlight: 4, timeoutMs }), {
      onStateChange: (c) => changes.push(c),
    });
    const keys = await hub.publish(400);
    await until(() => dest.received.length >= 50, 20_000, "deliveries under way");

    expect(deliverer.pause("operator: maintenance")).toBe(true);
    expect(deliverer.pause("again")).toBe(false);
    expect(deliverer.paused).toBe(true);
    expect(changes).toEqual([
      expect.objectContaining({
        destination: "ops",
        state: "paused",
        reason: "operator: maintenance",
        automatic: false,
      }),
    ]);
    await new Promise((r) => setTimeout(r, 300)); // the requests in flight end (20 ms each)
    const sent = dest.received.length;
    expect(deliverer.stats.delivered).toBe(sent);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(dest.received.length).toBe(sent);
    expect(sent).toBeLessThan(400);
    const state = await hub.consumerState("ops");
    expect(state.pending).toBeGreaterThan(0); // the backlog waits in the stream
    expect(deliverer.snapshot()).toMatchObject({ paused: true, pausedReason: "operator: maintenance" });

    expect(deliverer.resume()).toBe(true);
    await until(() => deliverer.stats.delivered === 400, 20_000, "the rest after resume()");
    expect(dest.ids()).toEqual(new Set(keys));
    expect(dest.received).toHaveLength(400);
    // Every event on its first delivery: the ones held in hand while paused were not nak'ed.
    expect(dest.received.every((r) => r.attempt === 1)).toBe(true);
    expect(deliverer.stats).toMatchObject({ delivered: 400, retried: 0, pauses: 1, paused: false });
    expect(changes.map((c) => c.state)).toEqual(["paused", "resumed"]);
  });

  it("paused before run() (as stored): nothing is pulled at all until resume()", async () => {
    const dest = await Destination.start();
    closers.push(() => dest.close());
    const keys = await hub.publish(50);
    const { deliverer } = await hub.deliver(Hub.config({ name: "stored", url: dest.url }), {}, (d) =>
      d.pause("paused by an operator"),
    );
    await new Promise((r) => setTimeout(r, 1_500));
    expect(dest.received).toEqual([]);
    expect(await hub.consumerState("stored")).toMatchObject({ pending: 50, ackPending: 0 });
    expect(deliverer.snapshot()).toMatchObject({ paused: true, pulled: 0, pausedReason: "paused by an operator" });
    deliverer.resume();
    await until(() => deliverer.stats.delivered === 50, 20_000, "delivered after resume()");
    expect(dest.ids()).toEqual(new Set(keys));
    expect(dest.received).toHaveLength(50);
  });
});
