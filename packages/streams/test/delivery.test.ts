import { describe, expect, it } from "vitest";
import {
  deliveryConsumerConfig,
  deliveryConsumerName,
  deliveryFilterSubjects,
  deliveryPermissions,
} from "../src/index.js";

describe("delivery topology - names and filters", () => {
  it("filter subjects - exactly the sources × types, with wildcards for all", () => {
    expect(deliveryFilterSubjects(["demo"], ["link.clicked"])).toEqual(["events.*.demo.link.clicked"]);
    expect(deliveryFilterSubjects(["demo"], ["link.clicked", "install.tracked"])).toEqual([
      "events.*.demo.link.clicked",
      "events.*.demo.install.tracked",
    ]);
    expect(deliveryFilterSubjects(["demo", "other"], ["link.clicked"])).toEqual([
      "events.*.demo.link.clicked",
      "events.*.other.link.clicked",
    ]);
    expect(deliveryFilterSubjects(["demo"], [])).toEqual(["events.*.demo.>"]);
    expect(deliveryFilterSubjects([], [])).toEqual(["events.*.*.>"]);
    expect(
      deliveryConsumerConfig({
        destination: "crm",
        filterSubjects: ["events.*.*.>"],
        maxAckPending: 10,
        ackWaitMs: 1000,
      }),
    ).toMatchObject({ durable_name: "delivery-crm", filter_subject: "events.*.*.>" });
    const two = deliveryConsumerConfig({
      destination: "crm",
      filterSubjects: ["events.*.a.x", "events.*.b.x"],
      maxAckPending: 10,
      ackWaitMs: 1000,
    });
    expect(two.filter_subjects).toEqual(["events.*.a.x", "events.*.b.x"]);
    expect(two.filter_subject).toBeUndefined();
  });

  it("refuses destination names that are not safe subject tokens", () => {
    expect(() => deliveryConsumerName("Bad.Name")).toThrow(/config destination: "Bad.Name" must match/);
  });

  it("a delivery user may use only its destinations' consumers and subjects", () => {
    const p = deliveryPermissions(["crm"]);
    expect(p.publish).toContain("$JS.API.CONSUMER.MSG.NEXT.EVENTS_ENRICHED.delivery-crm");
    // The enriched stream only: the hub stream's raw bodies are the enrich stage's to read.
    expect(p.publish.some((s) => /\.EVENTS\./.test(s))).toBe(false);
    expect(p.publish).toContain("delivery-dlq.crm");
    expect(p.publish.some((s) => s.includes("warehouse-loader"))).toBe(false);
    expect(p.publish.some((s) => s.startsWith("$JS.API.STREAM.CREATE"))).toBe(false);
  });
});
