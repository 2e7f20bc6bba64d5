import { afterEach, describe, expect, it } from "vitest";
import { sampleEvent, sleep, waitFor } from "@tributary/testkit";
import { hubState, Ledger, loadedKeys, send, startTestTopology } from "./harness.js";

type TestTopology = Awaited<ReturnType<typeof startTestTopology>>;

/** Sends `count` new events to each region, in parallel batches; every one must be accepted. */
async function sendNew(topology: TestTopology, ledger: Ledger, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 25) {
    await Promise.all(
      ["us", "eu"].flatMap((region) =>
        Array.from({ length: Math.min(25, count - i) }, (_, j) => {
          const id = `${prefix}-${region}-${i + j}`;
          return send(topology, ledger, region, sampleEvent({ seed: id }), `demo:${id}`);
        }),
      ),
    );
  }
}

/** Milliseconds until the hub holds `expected` messages (the sources have caught up), polled every 50 ms. */
async function timeToCatchUp(topology: TestTopology, expected: number, from: number): Promise<number> {
  await waitFor(
    `hub stream at ${expected} messages`,
    async () => {
      const state = await hubState(topology).catch(() => undefined);
      return state && state.messages >= expected ? true : undefined;
    },
    60_000,
    50,
  );
  return Date.now() - from;
}

describe("sourcing on nats-server >= 2.14 (the hub is a dedupe depth; sources resume in seconds)", () => {
  let topology: TestTopology | undefined;
  afterEach(async () => {
    await topology?.cleanup();
    topology = undefined;
  });

  it("hub dedupe - the same events accepted in both regions are stored once at the hub, and neither source stalls", async () => {
    topology = await startTestTopology();
    const ledger = new Ledger();
    const events = Array.from({ length: 50 }, (_, i) => ({
      key: `demo:twice-${i}`,
      body: sampleEvent({ seed: `twice-${i}` }),
    }));
    // Each event lands in both regions: two regional copies, the hub's window keeps one.
    await Promise.all(
      events.flatMap(({ key, body }) => ["us", "eu"].map((region) => send(topology!, ledger, region, body, key))),
    );
    expect(ledger.statuses()).toEqual(new Map([["202", 100]]));
    // Then fresh events in both regions: a stalled source would hold them back.
    await sendNew(topology, ledger, "after", 50);
    const sentAt = Date.now();
    const caughtUp = await timeToCatchUp(topology, 50 + 100, sentAt);
    await sleep(500); // a late copy would show as an extra message
    const hub = await hubState(topology);
    console.log(
      `hub dedupe: 100 regional copies of 50 events + 100 fresh events -> ${hub.messages} hub messages; lag 0 after ${caughtUp} ms`,
    );
    expect(hub.messages).toBe(150); // 50 cross-region copies dropped at the hub depth
    expect([...hub.lag.values()]).toEqual([0, 0]);
    expect(caughtUp).toBeLessThan(1_000); // never stalled by the duplicates
    const keys = await loadedKeys(topology, 150);
    expect(keys).toHaveLength(new Set(keys).size);
    expect(new Set(keys)).toEqual(ledger.acknowledged);
  });

  it("link cut - events buffered in a region while its link is cut reach the hub within 5 s of the link's return", async () => {
    topology = await startTestTopology({ cuttableLinks: true });
    const ledger = new Ledger();
    await sendNew(topology, ledger, "before", 20);
    await timeToCatchUp(topology, 40, Date.now());
    const link = topology.regions.get("us")!.link!;
    link.cut();
    await sendNew(topology, ledger, "during", 50);
    await sleep(2_000);
    expect((await hubState(topology)).messages).toBeLessThan(140); // the cut is real: us's events wait in the region
    link.restore();
    const resumed = await timeToCatchUp(topology, 140, Date.now());
    console.log(`link cut: sourcing resumed and caught up ${resumed} ms after the link returned`);
    expect(resumed).toBeLessThan(5_000);
    const keys = await loadedKeys(topology, 140);
    expect(keys).toHaveLength(new Set(keys).size);
    expect(new Set(keys)).toEqual(ledger.acknowledged);
  });

  // The hub asks each region to reset its durable source consumer as soon as it starts, before the
  // regions' leafnode links are back; that request is lost, and nats-server waits 5 s for it before
  // watching the consumer's deliver subject and resuming at its next heartbeat (1 s). Measured here
  // ~5.4 s (with ephemeral sourcing it was ~40 s: a 30 s wait and a 10 s back-off).
  it("hub restart - events buffered in the regions while the hub is down reach it within seconds of its restart (durable sourcing)", async () => {
    topology = await startTestTopology();
    const ledger = new Ledger();
    await sendNew(topology, ledger, "before", 20);
    await timeToCatchUp(topology, 40, Date.now());
    await topology.hub.stop();
    await sendNew(topology, ledger, "during", 50);
    const restartedAt = Date.now();
    await topology.hub.restart();
    const resumed = await timeToCatchUp(topology, 140, restartedAt);
    console.log(`hub restart: sourcing resumed and caught up ${resumed} ms after the restart began`);
    expect(resumed).toBeLessThan(10_000);
    const keys = await loadedKeys(topology, 140);
    expect(keys).toHaveLength(new Set(keys).size);
    expect(new Set(keys)).toEqual(ledger.acknowledged);
  });
});
