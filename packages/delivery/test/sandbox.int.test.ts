import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listDeliveryDlq } from "@tributary/streams";
import { Destination, Hub, until } from "./harness.js";

let hub: Hub;
let dest: Destination;
beforeEach(async () => {
  hub = await Hub.start();
  dest = await Destination.start();
});
afterEach(async () => {
  await hub.close();
  await dest.close();
});

describe("delivery - filters and transformations", () => {
  it("only events matching the filter are delivered, transformed; a transform that throws or loops sends the event to the DLQ with the reason", async () => {
    const transform = `function transform(e) {
      if (e.body.data.mode === "throw") throw new Error("cannot map " + e.key);
      if (e.body.data.mode === "loop") { for (;;) {} }
      return { id: e.key, link: e.body.data.link_id, country: e.body.data.country };
    }`;
    const { deliverer } = await hub.deliver(
      Hub.config({
        name: "slack",
        url: dest.url,
        filter: 'body.data.country = "US"',
        transform,
        sandbox: { timeoutMs: 100 },
      }), // only the loop reaches it, even on a loaded machine
    );
    const modes = ["ok", "ok", "ok", "throw", "loop"];
    await hub.publish(100, {
      body: (i) => ({
        event: "link.clicked",
        data: { link_id: `lnk_${i}`, country: i % 2 === 0 ? "US" : "FR", mode: modes[i % 5] },
      }),
    });

    // 50 US events: of those, i % 5 === 3 throw (10) and i % 5 === 4 loop (10); 30 are delivered.
    await until(() => deliverer.stats.delivered + deliverer.stats.dlq === 50, 20_000, "every US event settled");
    await until(async () => (await hub.consumerState("slack")).ackPending === 0, 5_000, "acks");
    expect(deliverer.stats).toMatchObject({ delivered: 30, dlq: 20, filtered: 50, transformFailures: 20 });
    for (const r of dest.received) {
      const body = JSON.parse(r.body) as { id: string; link: string; country: string };
      expect(body).toEqual({ id: r.id, link: `lnk_${Number(r.id.split("-").pop())}`, country: "US" });
    }
    const entries = await listDeliveryDlq(hub.jsm, "slack", { limit: 100 });
    expect(
      entries.filter((e) => e.reason.startsWith("transform_failed:") && e.reason.includes("cannot map")),
    ).toHaveLength(10);
    expect(entries.filter((e) => e.reason.startsWith("transform_timeout:"))).toHaveLength(10);
    expect(entries.every((e) => e.status === 0)).toBe(true);
  });

  it("a body that is not JSON goes to the DLQ when the destination needs JSON", async () => {
    const { deliverer } = await hub.deliver(Hub.config({ name: "strict", url: dest.url, filter: "true" }));
    await hub.publish(3, { raw: (i) => (i === 1 ? "not json {" : undefined) });
    await until(() => deliverer.stats.delivered + deliverer.stats.dlq === 3, 10_000, "every event settled");
    expect(deliverer.stats).toMatchObject({ delivered: 2, dlq: 1 });
    const [entry] = await listDeliveryDlq(hub.jsm, "strict");
    expect(entry).toMatchObject({ eventKey: "demo:e-1", reason: expect.stringMatching(/^invalid_json:/) });
    expect(dest.ids()).toEqual(new Set(["demo:e-0", "demo:e-2"]));
  });
});
