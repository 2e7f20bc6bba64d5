import { describe, expect, it } from "vitest";
import { deliveryConsumerConfig, deliveryConsumerName, deliveryFilterSubjects, deliveryPermissions } from "../src/index.js";

describe("delivery topology - names and filters", () => {
  it("filter subjects cover each source/type pair and the replays of each source", () => {
    expect(deliveryFilterSubjects(["demo"], ["link.clicked", "install.tracked"])).toEqual(["events.*.demo.link.clicked", "events.*.demo.install.tracked", "replay.demo"]);
    expect(deliveryFilterSubjects([], [])).toEqual(["events.*.*.>", "replay.*"]);
  });

  it("one filter uses filter_subject, several use filter_subjects", () => {
    expect(deliveryConsumerConfig({ destination: "crm", filterSubjects: ["a"], maxAckPending: 10, ackWaitMs: 1000 })).toMatchObject({ durable_name: "delivery-crm", filter_subject: "a" });
    expect(deliveryConsumerConfig({ destination: "crm", filterSubjects: ["a", "b"], maxAckPending: 10, ackWaitMs: 1000 })).toMatchObject({ filter_subjects: ["a", "b"] });
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
