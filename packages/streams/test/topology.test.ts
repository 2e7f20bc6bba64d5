import { describe, expect, it } from "vitest";
import { DiscardPolicy } from "@nats-io/jetstream";
import { aggregatorPermissions, gatewayPermissions, hubSourceConsumerConfig, hubStreamConfig, leafPermissions, linkAccountName, linkExports, MIN_NATS_SERVER_VERSION, natsServerIsRecentEnough, regionalStreamConfig, renderHubServerConfig, renderRegionServerConfig } from "../src/index.js";

describe("topology as code", () => {
  it("hub - sources every region through its domain API and refuses rather than drops when full", () => {
    const config = hubStreamConfig({ regions: ["us", "eu-west"] });
    expect(config.name).toBe("EVENTS");
    expect(config.sources).toEqual([
      { name: "EVENTS_US", external: { api: "$JS.us.API", deliver: "deliver.us" }, consumer: { name: "hub-source", deliver_subject: "deliver.us.hub-source" } },
      { name: "EVENTS_EU_WEST", external: { api: "$JS.eu-west.API", deliver: "deliver.eu-west" }, consumer: { name: "hub-source", deliver_subject: "deliver.eu-west.hub-source" } },
    ]);
    expect(config.subjects).toEqual(["replay.>"]);
    expect(config.discard).toBe(DiscardPolicy.New);
    expect(config.duplicate_window).toBe(2 * 60 * 1000 * 1_000_000); // a real window: the hub is a dedupe depth
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
    expect(perms.publish).toEqual(["_R_.>", "deliver.us.>"]); // replies only through its own link account
    expect(perms.publish.some((s) => s.startsWith("$JSC"))).toBe(false);
    expect(perms.subscribe.every((s) => s.includes("EVENTS_US"))).toBe(true);
  });

  it("hub source consumer - the durable consumer nats-server requires for durable sourcing, delivering inside the region's prefix", () => {
    const config = hubSourceConsumerConfig("us");
    expect(config).toMatchObject({ durable_name: "hub-source", deliver_subject: "deliver.us.hub-source", ack_policy: "flow_control", flow_control: true, idle_heartbeat: 1_000_000_000 });
    expect(config.max_ack_pending).toBeGreaterThan(0);
  });

  it("hub config - each region's link logs in to its own account, which shares only that region's sourcing subjects", () => {
    const text = renderHubServerConfig({
      storeDir: "/d",
      admin: { user: "admin", password: "a" },
      aggregator: { user: "aggregator", password: "b" },
      aggregatorDurable: "loader",
      leafs: [{ region: "us", credential: { user: "leaf-us", password: "c" } }, { region: "eu", credential: { user: "leaf-eu", password: "d" } }],
    });
    expect(linkAccountName("eu")).toBe("LINK_EU");
    const linkUs = text.slice(text.indexOf("LINK_US: {"), text.indexOf("LINK_EU: {"));
    expect(linkUs).toContain('"leaf-us"');
    expect(linkUs).not.toContain("EU");
    expect(linkExports("us").services).toEqual(["$JS.us.API.CONSUMER.RESET.EVENTS_US.hub-source", "$JS.FC.EVENTS_US.>"]);
    expect(text).toContain('{ service: { account: "LINK_US", subject: "$JS.FC.EVENTS_US.>" } }');
    expect(text).toContain('{ stream: { account: "LINK_EU", subject: "deliver.eu.>" } }');
  });

  it("nats-server floor - 2.14 and newer run the topology; the testkit's floor is the same", async () => {
    const { MIN_NATS_SERVER_VERSION: testkitFloor } = await import("@tributary/testkit");
    expect(testkitFloor).toEqual(MIN_NATS_SERVER_VERSION);
    expect(["2.15.1", "v2.14.0", "3.0.0"].map(natsServerIsRecentEnough)).toEqual([true, true, true]);
    expect(["2.10.27", "v2.13.9", "1.99.0"].map(natsServerIsRecentEnough)).toEqual([false, false, false]);
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
