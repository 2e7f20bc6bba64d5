import { afterEach, describe, expect, it } from "vitest";
import { sampleEvent, sleep, waitFor } from "@tributary/testkit";
import { hubState, Ledger, loadedKeys, send, startTestTopology, steadyTraffic } from "./harness.js";

type TestTopology = Awaited<ReturnType<typeof startTestTopology>>;

/**
 * The warehouse holds every acknowledged event once, and nothing that was never sent. Events that
 * got a 503 may or may not be stored (a PubAck can be lost after the store), so they are allowed,
 * but only as keys that were really attempted.
 */
function expectExactlyAcknowledged(ledger: Ledger, keys: string[]): void {
  const loaded = new Set(keys);
  expect(keys.length).toBe(loaded.size); // none doubled
  const missing = [...ledger.acknowledged].filter((k) => !loaded.has(k));
  expect(missing).toEqual([]); // none lost
  const unexpected = keys.filter((k) => !ledger.attempted.has(k));
  expect(unexpected).toEqual([]); // nothing invented
}

describe("multi-region faults (each counts every event: sent, acknowledged, loaded)", () => {
  let topology: TestTopology | undefined;
  afterEach(async () => {
    await topology?.cleanup();
    topology = undefined;
  });

  it("hub down - both gateways keep answering 202 while the hub is stopped; afterwards exactly the acknowledged events load", async () => {
    topology = await startTestTopology();
    const ledger = new Ledger();
    const traffic = steadyTraffic(topology, ledger, ["us", "eu"]);
    await sleep(1_000);
    await topology.hub.stop();
    const outageStart = ledger.answers.length;
    await sleep(3_000);
    const duringOutage = ledger.answers.slice(outageStart);
    await topology.hub.restart();
    await sleep(1_000);
    await traffic.stop();

    expect(duringOutage.length).toBeGreaterThan(50);
    expect(ledger.statuses((a) => duringOutage.includes(a))).toEqual(new Map([["202", duringOutage.length]]));
    expect(ledger.statuses()).toEqual(new Map([["202", ledger.answers.length]]));
    const keys = await loadedKeys(topology, ledger.acknowledged.size);
    expectExactlyAcknowledged(ledger, keys);
    expect(keys.length).toBe(ledger.acknowledged.size);
  });

  it("link cut - both leafnode links cut and restored: gateways keep answering 202, and exactly the acknowledged events load", async () => {
    topology = await startTestTopology({ cuttableLinks: true });
    const ledger = new Ledger();
    const traffic = steadyTraffic(topology, ledger, ["us", "eu"]);
    await sleep(1_000);
    const link = topology.regions.get("us")!.link!;
    link.cut();
    const cutStart = ledger.answers.length;
    await sleep(500);
    const hubBefore = (await hubState(topology)).messages;
    await sleep(2_500);
    // The cut is real: nothing reaches the hub while the link is down.
    expect((await hubState(topology)).messages).toBe(hubBefore);
    const duringCut = ledger.answers.slice(cutStart);
    link.restore();
    await sleep(1_000);
    await traffic.stop();

    expect(duringCut.length).toBeGreaterThan(50);
    expect(ledger.statuses()).toEqual(new Map([["202", ledger.answers.length]]));
    const keys = await loadedKeys(topology, ledger.acknowledged.size);
    expectExactlyAcknowledged(ledger, keys);
    expect(keys.length).toBe(ledger.acknowledged.size);
  });

  it("region killed - SIGKILL of a regional nats-server: its gateway answers 503 with Retry-After (never 202, never a hang), recovers by itself, and every event acknowledged before the kill loads", async () => {
    topology = await startTestTopology();
    const us = topology.regions.get("us")!;
    const ledger = new Ledger();
    const traffic = steadyTraffic(topology, ledger, ["us", "eu"]);
    await sleep(1_000);
    const ackedBeforeKill = new Set(ledger.acknowledged);
    await us.nats.kill();
    const killedAt = ledger.answers.length;
    await sleep(3_000);
    const whileDown = ledger.answers.slice(killedAt).filter((a) => a.region === "us");
    await us.nats.restart();
    await waitFor(
      "region us accepting again",
      () => (ledger.answers.slice(-20).some((a) => a.region === "us" && a.status === 202) ? true : undefined),
      30_000,
    );
    await sleep(500);
    await traffic.stop();

    // The first answers after the kill may still be 202s whose PubAck came just before it.
    const settled = whileDown.slice(whileDown.findIndex((a) => a.status !== 202));
    expect(settled.length).toBeGreaterThan(5);
    for (const answer of settled) {
      expect(answer.status).toBe(503);
      expect(["buffer_unavailable"]).toContain(answer.code);
      expect(Number(answer.retryAfter)).toBeGreaterThan(0);
      expect(answer.ms).toBeLessThan(7_000); // publishTimeoutMs is 5 s: no hang
    }
    expect(ledger.statuses((a) => a.region === "eu").get("202")).toBe(
      ledger.answers.filter((a) => a.region === "eu").length,
    );

    // By key: the warehouse may also hold 503'd events whose publish was stored before the kill.
    const keys = await loadedKeys(topology, ledger.acknowledged);
    const loaded = new Set(keys);
    expect([...ackedBeforeKill].filter((k) => !loaded.has(k))).toEqual([]);
    expectExactlyAcknowledged(ledger, keys);
  });

  it("cross-region duplicates - the same events sent to both regions, many times each, are one row each", async () => {
    topology = await startTestTopology();
    const ledger = new Ledger();
    const bodies = Array.from({ length: 20 }, (_, i) => ({
      key: `demo:both-${i}`,
      body: sampleEvent({ seed: `both-${i}` }),
    }));
    const sends: Array<Promise<unknown>> = [];
    for (let round = 0; round < 5; round++) {
      for (const { key, body } of bodies) {
        for (const region of ["us", "eu"]) sends.push(send(topology, ledger, region, body, key));
      }
      await Promise.all(sends.splice(0));
      await sleep(300); // later rounds arrive after earlier ones reached the hub and the warehouse
    }
    expect(ledger.answers).toHaveLength(200);
    expect(ledger.statuses()).toEqual(
      new Map([
        ["202", 40],
        ["200", 160],
      ]),
    );
    const keys = await loadedKeys(topology, 20);
    expect(keys.sort()).toEqual(bodies.map((b) => b.key).sort());
  });
});
