import { describe, expect, it } from "vitest";
import { deliveryConsumerConfig, deliveryConsumerName, deliveryFilterSubject, deliveryPermissions } from "../src/index.js";

describe("delivery topology - names and filters", () => {
  it("one filter subject, the narrowest covering the sources and types", () => {
    expect(deliveryFilterSubject(["demo"], ["link.clicked"])).toBe("events.*.demo.link.clicked");
    expect(deliveryFilterSubject(["demo"], ["link.clicked", "install.tracked"])).toBe("events.*.demo.>");
    expect(deliveryFilterSubject(["demo", "other"], ["link.clicked"])).toBe("events.*.*.link.clicked");
    expect(deliveryFilterSubject([], [])).toBe("events.>");
    expect(deliveryConsumerConfig({ destination: "crm", filterSubject: "events.>", maxAckPending: 10, ackWaitMs: 1000 })).toMatchObject({ durable_name: "delivery-crm", filter_subject: "events.>" });
  });

  it("refuses destination names that are not safe subject tokens", () => {
    expect(() => deliveryConsumerName("Bad.Name")).toThrow(/destination "Bad.Name" must match/);
  });

  it("a delivery user may use only its destinations' consumers and subjects", () => {
    const p = deliveryPermissions(["crm"]);
    expect(p.publish).toContain("$JS.API.CONSUMER.MSG.NEXT.EVENTS.delivery-crm");
    expect(p.publish).toContain("delivery-dlq.crm");
    expect(p.publish.some((s) => s.includes("warehouse-loader"))).toBe(false);
    expect(p.publish.some((s) => s.startsWith("$JS.API.STREAM.CREATE"))).toBe(false);
  });
});
