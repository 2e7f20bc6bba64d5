import { describe, expect, it } from "vitest";
import { DiscardPolicy } from "@nats-io/jetstream";
import { aggregatorPermissions, gatewayPermissions, hubStreamConfig, leafPermissions, regionalStreamConfig, renderRegionServerConfig } from "../src/index.js";

describe("topology as code", () => {
  it("hub - sources every region through its domain API and refuses rather than drops when full", () => {
    const config = hubStreamConfig({ regions: ["us", "eu-west"] });
    expect(config.name).toBe("EVENTS");
    expect(config.sources).toEqual([
      { name: "EVENTS_US", external: { api: "$JS.us.API", deliver: "deliver.us" } },
      { name: "EVENTS_EU_WEST", external: { api: "$JS.eu-west.API", deliver: "deliver.eu-west" } },
    ]);
    expect(config.subjects).toEqual(["replay.>"]);
    expect(config.discard).toBe(DiscardPolicy.New);
    expect(config.duplicate_window).toBe(100 * 1_000_000);
  });

  it("region - a full regional stream refuses new events instead of dropping old ones", () => {
    const config = regionalStreamConfig({ region: "us" });
    expect(config).toMatchObject({ name: "EVENTS_US", subjects: ["events.us.>"], discard: DiscardPolicy.New });
  });

  it("permissions - a gateway may publish only its own region's events", () => {
    expect(gatewayPermissions("eu").publish).toEqual(["events.eu.>", "$JS.API.STREAM.INFO.EVENTS_EU"]);
  });

  it("permissions - the aggregator may use only its own durables (hub stream, delivery log) and the DLQ", () => {
    const perms = aggregatorPermissions("loader");
    expect(perms.publish.filter((s) => s.includes("CONSUMER")).every((s) => s.includes("EVENTS.loader") || s.includes("DELIVERIES.deliveries-loader"))).toBe(true);
    expect(perms.publish.some((s) => s.includes("STREAM.CREATE") || s.includes("DELETE"))).toBe(false);
  });

  it("permissions - a region's leaf link carries only its own sourcing traffic", () => {
    const perms = leafPermissions("us");
    expect(perms.publish).toEqual(["$JSC.R.*", "deliver.us.>"]);
    expect(perms.subscribe.every((s) => s.includes("EVENTS_US"))).toBe(true);
  });

  it("server config - credentials in the leafnode URL are escaped", () => {
    const text = renderRegionServerConfig({
      region: "us",
      storeDir: "/d",
      hubLeafnodeUrl: "nats-leaf://127.0.0.1:7422",
      admin: { user: "admin", password: "a" },
      gateway: { user: "gateway-us", password: "b" },
      leaf: { user: "leaf-us", password: "p@ss/word" },
    });
    expect(text).toContain('url: "nats-leaf://leaf-us:p%40ss%2Fword@127.0.0.1:7422"');
  });
});
