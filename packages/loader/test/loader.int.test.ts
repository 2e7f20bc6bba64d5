import { afterEach, describe, expect, it } from "vitest";
import { readDlqEntry, replayDlqEntry } from "@tributary/streams";
import { waitFor } from "@tributary/testkit";
import { LoaderBench } from "./harness.js";

describe("loader", () => {
  let bench: LoaderBench | undefined;
  afterEach(async () => {
    await bench?.close();
    bench = undefined;
  });

  it("poison - one bad event among 10,000 good ones: 10,000 rows, one DLQ entry with its reason; replayed after the fix it loads once", async () => {
    bench = await LoaderBench.start();
    const b = bench;
    const good = await b.publish(10_000, { prefix: "good" });
    const [poisonKey] = await b.publish(1, {
      prefix: "poison",
      body: () => '{"event":"link.clicked","data":{"link_id":42}}',
    });
    const { loader, close } = await b.loader();
    await waitFor(
      "10,000 rows and one DLQ entry",
      async () => ((await b.sink.countEvents()) === 10_000 && (await b.dlqCount()) === 1 ? true : undefined),
      60_000,
    );
    expect(new Set(await b.sink.eventKeys())).toEqual(new Set(good));
    expect(loader.counters.poison).toBe(1);

    const entry = await readDlqEntry(b.jsm, 1);
    expect(entry.reason).toMatch(/^schema_violation: data\.link_id must be string/);
    expect(entry.eventKey).toBe(poisonKey);
    expect(entry.origin).toMatch(/^EVENTS:\d+$/);

    // The fix: the producer's bug is corrected, and the entry is replayed with the corrected body.
    const fixed = new TextEncoder().encode('{"event":"link.clicked","data":{"link_id":"42"}}');
    await replayDlqEntry(b.js, entry, fixed);
    await waitFor(
      "the replayed event",
      async () => ((await b.sink.countEvents()) === 10_001 ? true : undefined),
      30_000,
    );
    // Replaying it again changes nothing.
    await replayDlqEntry(b.js, entry, fixed);
    await new Promise((r) => setTimeout(r, 500));
    expect(await b.sink.countEvents()).toBe(10_001);
    expect((await b.sink.eventKeys()).filter((k) => k === poisonKey)).toHaveLength(1);
    expect(await b.dlqCount()).toBe(1);
    await close();
  });

  it("L10 - a poison event's log line and span carry its reason's code, never text quoted from its body", async () => {
    bench = await LoaderBench.start();
    const b = bench;
    await b.publish(1, { prefix: "leak", body: () => "{not json, card 4111111111111111" });
    const lines: unknown[] = [];
    const capture = (obj: unknown, message: string) => lines.push({ obj, message });
    const { close } = await b.loader({ log: { info: capture, warn: capture, error: capture } });
    await waitFor("the DLQ entry", async () => ((await b.dlqCount()) === 1 ? true : undefined), 30_000);
    await close();
    const logged = JSON.stringify(lines);
    expect(logged).toContain('"reason":"invalid_json"');
    expect(logged).not.toContain("4111");
    expect((await readDlqEntry(b.jsm, 1)).reason).toMatch(/^invalid_json: /); // the detail stays in the DLQ
  });

  it("M9 - events whose headers disagree with their subject go to the DLQ (header_mismatch), the genuine ones load", async () => {
    bench = await LoaderBench.start();
    const b = bench;
    const good = await b.publish(100, { prefix: "good" });
    // A compromised region-us gateway: stamped as region eu, and as another source's key.
    await b.publish(1, { prefix: "as-eu", headers: { "Tributary-Region": "eu" } });
    await b.publish(1, { headers: { "Nats-Msg-Id": "stripe:evt_1", "Tributary-Source": "stripe" } });
    const { loader, close } = await b.loader();
    await waitFor(
      "100 rows and two DLQ entries",
      async () => ((await b.sink.countEvents()) === 100 && (await b.dlqCount()) === 2 ? true : undefined),
      30_000,
    );
    expect(new Set(await b.sink.eventKeys())).toEqual(new Set(good));
    expect(loader.counters.poison).toBe(2);
    const reasons = [(await readDlqEntry(b.jsm, 1)).reason, (await readDlqEntry(b.jsm, 2)).reason].sort();
    expect(reasons[0]).toMatch(/^header_mismatch: Tributary-Region "eu" on events\.us\.demo\.link\.clicked/);
    expect(reasons[1]).toMatch(/^header_mismatch: Tributary-Source "stripe" on events\.us\.demo\.link\.clicked/);
    await close();
  });

  it("replicas - two loaders on one durable consumer share the work with no duplicate rows", async () => {
    bench = await LoaderBench.start();
    const b = bench;
    const first = await b.loader({ policy: { maxEvents: 200, maxBytes: 8 * 1024 * 1024, maxAgeMs: 20 } });
    const second = await b.loader({ policy: { maxEvents: 200, maxBytes: 8 * 1024 * 1024, maxAgeMs: 20 } });
    const keys = await b.publish(6_000, { prefix: "shared" });
    await waitFor("6,000 rows", async () => ((await b.sink.countEvents()) >= 6_000 ? true : undefined), 60_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(new Set(await b.sink.eventKeys())).toEqual(new Set(keys));
    expect(await b.sink.countEvents()).toBe(6_000);
    const byReplica = [first.loader.counters.loaded, second.loader.counters.loaded];
    expect(byReplica[0]! + byReplica[1]!).toBe(6_000);
    expect(Math.min(...byReplica)).toBeGreaterThan(0);
    await first.close();
    await second.close();
  });

  it("backlog - a 100,000-event backlog drains with the loader's heap bounded, not growing with the backlog", async () => {
    bench = await LoaderBench.start();
    const b = bench;
    await b.publish(100_000, { prefix: "backlog" });
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc).toBeTypeOf("function");
    gc!();
    const gcBase = process.memoryUsage().heapUsed;
    const { close } = await b.loader();
    let peak = 0;
    await waitFor(
      "the backlog loaded",
      async () => {
        gc!();
        peak = Math.max(peak, process.memoryUsage().heapUsed - gcBase);
        return (await b.sink.countEvents()) >= 100_000 ? true : undefined;
      },
      120_000,
      250,
    );
    await close();
    expect(await b.sink.countEvents()).toBe(100_000);
    // ~150-byte events: holding the whole backlog would be well over 100 MB of JS objects; the
    // loader holds at most the consumer buffer (2,000) plus the batches in flight.
    if (process.env.TRIBUTARY_TEST_VERBOSE)
      console.info(`backlog: peak retained heap growth ${(peak / 1024 / 1024).toFixed(1)} MiB`);
    expect(peak).toBeLessThan(24 * 1024 * 1024); // measured here: ~4 MiB
  }, 180_000);
});
