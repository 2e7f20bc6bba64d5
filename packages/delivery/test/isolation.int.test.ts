import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listDeliveryDlq } from "@tributary/streams";
import type { AttemptRecord } from "../src/index.js";
import { Destination, Hub, until } from "./harness.js";

let hub: Hub;
const destinations: Destination[] = [];
beforeEach(async () => {
  hub = await Hub.start();
});
afterEach(async () => {
  await hub.close();
  for (const d of destinations.splice(0)) await d.close();
});

/**
 * Destination B takes plain events one by one while destination A, in the same process, chews on
 * its own: B's delivery latencies (publish to receipt) and the event loop's longest delay meanwhile.
 */
async function plainDeliveriesBeside(heavy: () => Promise<unknown>): Promise<{ p99Ms: number; loopMaxMs: number }> {
  const b = await Destination.start();
  destinations.push(b);
  await hub.deliver(Hub.config({ name: "plain", url: b.url, sources: ["demo"] }));
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  await heavy();
  const sentAt = new Map<string, number>();
  for (let i = 0; i < 40; i++) {
    const [key] = await hub.publish(1, { prefix: `b${i}` });
    sentAt.set(key!, Date.now());
    await new Promise((r) => setTimeout(r, 50));
  }
  await until(() => b.ids().size === 40, 30_000, "B's 40 deliveries");
  loop.disable();
  const latencies = b.received.map((r) => r.at - sentAt.get(r.id)!).sort((x, y) => x - y);
  return { p99Ms: latencies[Math.floor(latencies.length * 0.99)]!, loopMaxMs: loop.max / 1e6 };
}

describe("delivery - one destination's sandbox cannot stall another", () => {
  it("M11 - a pathological filter (one built-in step of seconds, and of gigabytes) on A: B's deliveries keep their pace, the event loop stays free; A's runs are stopped", async () => {
    const a = await Destination.start();
    destinations.push(a);
    const heavy = await hub.deliver(
      Hub.config({
        name: "heavy",
        url: a.url,
        sources: ["heavy"],
        filter: "$count($sort([1..20000])) > 0", // ~1.5 s of CPU in a single step
        sandbox: { filterTimeoutMs: 100 },
        retry: { maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 100 },
      }),
    );
    const { p99Ms, loopMaxMs } = await plainDeliveriesBeside(() => hub.publish(3, { source: "heavy", prefix: "h" }));
    expect(loopMaxMs).toBeLessThan(500); // a blocking run would hold it for its whole second
    expect(p99Ms).toBeLessThan(1_000);
    await until(() => heavy.deliverer.stats.dlq === 3, 30_000, "A's three events dead-lettered");
    expect(a.received).toHaveLength(0);
    // Each run ended its worker: past the CPU budget (the watchdog), or past the heap limit first.
    expect(heavy.deliverer.stats.sandboxRestarts).toBeGreaterThanOrEqual(3);
    const entries = await listDeliveryDlq(hub.jsm, "heavy");
    for (const entry of entries)
      expect(entry.reason).toMatch(
        /^filter_(timeout: .*\(3 deliveries\)|failed: the filter ran out of the sandbox's memory)/,
      );
  });

  it("M11 - a filter past its CPU time is retried with backoff, not dead-lettered at once: filter_timeout only on the third delivery", async () => {
    const a = await Destination.start();
    destinations.push(a);
    const records: AttemptRecord[] = [];
    const slow = await hub.deliver(
      Hub.config({
        name: "slow",
        url: a.url,
        filter: "$reduce([1..100000], function($a, $b) { $a + $b }) > 0", // many steps: the filter's own check
        sandbox: { filterTimeoutMs: 20 },
        retry: { maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 100 },
      }),
      { onAttempt: (record) => records.push(record) },
    );
    const [key] = await hub.publish(1, { prefix: "slow" });
    await until(() => slow.deliverer.stats.dlq === 1, 20_000, "the event dead-lettered");
    expect(slow.deliverer.stats).toMatchObject({ sandboxTimeouts: 2, filterFailures: 1, sandboxRestarts: 0 });
    expect(records.map((r) => [r.event_key, r.attempt, r.outcome])).toEqual([
      [key, 1, "retry"],
      [key, 2, "retry"],
      [key, 3, "dlq"],
    ]);
    const [entry] = await listDeliveryDlq(hub.jsm, "slow");
    expect(entry!.reason).toBe("filter_timeout: the filter used more than 20 ms of CPU time (3 deliveries)");
  });

  it("L4 - a looping transform on A: B's deliveries keep their pace, the event loop stays free", async () => {
    const a = await Destination.start();
    destinations.push(a);
    const looping = await hub.deliver(
      Hub.config({
        name: "looping",
        url: a.url,
        sources: ["heavy"],
        transform: "function transform(e) { for (;;) {} }",
        sandbox: { timeoutMs: 1_000 },
        retry: { maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 100 },
      }),
    );
    const { p99Ms, loopMaxMs } = await plainDeliveriesBeside(() => hub.publish(4, { source: "heavy", prefix: "t" }));
    expect(loopMaxMs).toBeLessThan(500); // a blocking run would hold it for its whole second
    expect(p99Ms).toBeLessThan(1_000);
    // The loop is ended by its CPU budget (a second of CPU time, which a busy machine stretches in wall-clock time).
    await until(() => looping.deliverer.stats.sandboxTimeouts > 0, 20_000, "the looping transform timed out");
  });

  it("M11 - a filter that would exhaust memory ends its sandbox worker, not the process; the event is dead-lettered and B carries on", async () => {
    const a = await Destination.start();
    destinations.push(a);
    const hog = await hub.deliver(
      Hub.config({
        name: "hog",
        url: a.url,
        sources: ["heavy"],
        filter: "$count($sort([1..100000])) > 0", // left alone, gigabytes
        sandbox: { filterTimeoutMs: 5_000 },
        retry: { maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 100 },
      }),
    );
    await hub.publish(1, { source: "heavy", prefix: "m" });
    await until(() => hog.deliverer.stats.dlq === 1, 60_000, "the event dead-lettered");
    const [entry] = await listDeliveryDlq(hub.jsm, "hog");
    expect(entry!.reason).toMatch(/^filter_(failed: the filter ran out of the sandbox's memory|timeout: )/);
    const b = await Destination.start();
    destinations.push(b);
    await hub.deliver(Hub.config({ name: "after", url: b.url, sources: ["demo"] }));
    const keys = await hub.publish(5, { prefix: "after" });
    await until(() => b.ids().size === 5, 20_000, "B's deliveries");
    expect(b.ids()).toEqual(new Set(keys));
  });
});

describe("delivery - what the DLQ and the log keep of an event's body", () => {
  it("L5 - a transform error quoting the body and a destination echoing it keep only a short snippet in the DLQ and the delivery log", async () => {
    const secret = "jane.private.person@example.com";
    const records: AttemptRecord[] = [];
    const dest = await Destination.start((req) => ({
      status: 400,
      body: `{"error":"bad request","echo":${req.body}}`,
    }));
    destinations.push(dest);
    await hub.deliver(
      Hub.config({
        name: "quoting",
        url: dest.url,
        sources: ["demo"],
        transform: `function transform(e) {
          if (e.body.data.mode === "throw") throw new Error("cannot map " + JSON.stringify(e.body));
          return e.body;
        }`,
      }),
      { onAttempt: (record) => records.push(record) },
    );
    await hub.publish(2, {
      body: (i) => ({
        event: "link.clicked",
        data: { email: secret, mode: i === 0 ? "throw" : "send", pad: "p".repeat(300) },
      }),
    });
    await until(async () => (await hub.streamCount("DELIVERY_DLQ")) === 2, 20_000, "two DLQ entries");
    const entries = await listDeliveryDlq(hub.jsm, "quoting");
    const thrown = entries.find((e) => e.reason.startsWith("transform_failed:"))!;
    const echoed = entries.find((e) => e.reason.startsWith("rejected:"))!;
    expect(thrown.reason).toMatch(/^transform_failed: Error: cannot map \{"event":"link\.c…/);
    expect(echoed.response).toMatch(/^\{"error":"bad request","echo":\{"event":"link\.c…/);
    for (const text of [thrown.reason, echoed.response, ...records.map((r) => r.error)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain("p".repeat(40));
    }
  });
});
