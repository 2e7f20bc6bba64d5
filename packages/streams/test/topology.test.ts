import { describe, expect, it } from "vitest";
import { DiscardPolicy } from "@nats-io/jetstream";
import {
  aggregatorPermissions,
  gatewayPermissions,
  hubSourceConsumerConfig,
  hubStreamConfig,
  leafPermissions,
  linkAccountName,
  linkExports,
  MIN_NATS_SERVER_VERSION,
  natsServerIsRecentEnough,
  regionalStreamConfig,
  renderHubServerConfig,
  renderRegionServerConfig,
} from "../src/index.js";

describe("topology as code", () => {
  it("hub - sources every region through its domain API and refuses rather than drops when full", () => {
    const config = hubStreamConfig({ regions: ["us", "eu-west"] });
    expect(config.name).toBe("EVENTS");
    expect(config.sources).toEqual([
      {
        name: "EVENTS_US",
        external: { api: "$JS.us.API", deliver: "deliver.us" },
        consumer: { name: "hub-source", deliver_subject: "deliver.us.hub-source" },
      },
      {
        name: "EVENTS_EU_WEST",
        external: { api: "$JS.eu-west.API", deliver: "deliver.eu-west" },
        consumer: { name: "hub-source", deliver_subject: "deliver.eu-west.hub-source" },
      },
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
    expect(
      perms.publish
        .filter((s) => s.includes("CONSUMER"))
        .every((s) => s.includes("EVENTS.loader") || s.includes("DELIVERIES.deliveries-loader")),
    ).toBe(true);
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
    expect(config).toMatchObject({
      durable_name: "hub-source",
      deliver_subject: "deliver.us.hub-source",
      ack_policy: "flow_control",
      flow_control: true,
      idle_heartbeat: 1_000_000_000,
    });
    expect(config.max_ack_pending).toBeGreaterThan(0);
  });

  it("hub config - each region's link logs in to its own account, which shares only that region's sourcing subjects", () => {
    const text = renderHubServerConfig({
      storeDir: "/d",
      admin: { user: "admin", password: "a" },
      aggregator: { user: "aggregator", password: "b" },
      aggregatorDurable: "loader",
      leafs: [
        { region: "us", credential: { user: "leaf-us", password: "c" } },
        { region: "eu", credential: { user: "leaf-eu", password: "d" } },
      ],
    });
    expect(linkAccountName("eu")).toBe("LINK_EU");
    const linkUs = text.slice(text.indexOf("LINK_US: {"), text.indexOf("LINK_EU: {"));
    expect(linkUs).toContain('"leaf-us"');
    expect(linkUs).not.toContain("EU");
    expect(linkExports("us").services).toEqual([
      "$JS.us.API.CONSUMER.RESET.EVENTS_US.hub-source",
      "$JS.FC.EVENTS_US.>",
    ]);
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

  const regionNode = (node: number, extra: Partial<Parameters<typeof renderRegionServerConfig>[0]> = {}) =>
    renderRegionServerConfig({
      region: "us",
      storeDir: `/d/${node}`,
      port: 4230 + node,
      hubLeafnodeUrl: "nats-leaf://127.0.0.1:7422",
      admin: { user: "admin", password: "a" },
      gateway: { user: "gateway-us", password: "b" },
      leaf: { user: "leaf-us", password: "c" },
      serverName: `tributary-us-${node}`,
      cluster: {
        name: "tributary-us",
        port: 6220 + node,
        routes: [1, 2, 3].map((n) => `nats-route://127.0.0.1:${6220 + n}`),
        credential: { user: "route", password: "p@ss" },
      },
      ...extra,
    });

  it("cluster - each region node renders its own cluster block: listen port, the routes, route authorization in the listener and in every route URL", () => {
    const text = regionNode(2);
    expect(text).toContain('server_name: "tributary-us-2"');
    const block = text.slice(text.indexOf("cluster {"));
    expect(block).toBe(
      [
        "cluster {",
        '  name: "tributary-us"',
        '  listen: "127.0.0.1:6222"',
        "  authorization {",
        '    user: "route"',
        '    password: "p@ss"',
        "  }",
        "  routes: [",
        '    "nats-route://route:p%40ss@127.0.0.1:6221"',
        '    "nats-route://route:p%40ss@127.0.0.1:6222"',
        '    "nats-route://route:p%40ss@127.0.0.1:6223"',
        "  ]",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("cluster - every node of a region has the same leafnode remote to the hub; nodes differ only in name, ports and store", () => {
    const [one, two] = [regionNode(1), regionNode(2)];
    const remote = (text: string) => text.slice(text.indexOf("leafnodes {"), text.indexOf("cluster {"));
    expect(remote(one)).toBe(remote(two));
    expect(remote(one)).toContain('{ url: "nats-leaf://leaf-us:c@127.0.0.1:7422", account: TRIBUTARY }');
    const differing = one.split("\n").filter((line, i) => line !== two.split("\n")[i]);
    expect(differing).toEqual([
      'server_name: "tributary-us-1"',
      "port: 4231",
      '  store_dir: "/d/1"',
      '  listen: "127.0.0.1:6221"',
    ]);
    // A clustered hub: the link may connect to any of its nodes.
    expect(regionNode(1, { hubLeafnodeUrl: ["nats-leaf://127.0.0.1:7422", "nats-leaf://127.0.0.1:7423"] })).toContain(
      '{ urls: ["nats-leaf://leaf-us:c@127.0.0.1:7422", "nats-leaf://leaf-us:c@127.0.0.1:7423"], account: TRIBUTARY }',
    );
  });

  it("cluster - without a credential the routes are plain; a node without its own server name or with a $VAR route password is refused", () => {
    const plain = regionNode(1, {
      cluster: { name: "tributary-us", port: 6221, routes: ["nats-route://127.0.0.1:6222"] },
    });
    expect(plain).not.toContain("authorization");
    expect(plain).toContain('    "nats-route://127.0.0.1:6222"');
    expect(() => regionNode(1, { serverName: undefined })).toThrow(/own serverName/);
    expect(() =>
      regionNode(1, {
        cluster: {
          name: "tributary-us",
          port: 6221,
          routes: [],
          credential: { user: "route", password: "$ROUTE_PASS" },
        },
      }),
    ).toThrow(/literal/);
  });

  it("cluster - hub nodes render the cluster block after their leafnode listener; without `cluster` a server renders none", () => {
    const hub = (cluster?: Parameters<typeof renderHubServerConfig>[0]["cluster"]) =>
      renderHubServerConfig({
        storeDir: "/d",
        admin: { user: "admin", password: "a" },
        aggregator: { user: "aggregator", password: "b" },
        aggregatorDurable: "loader",
        leafs: [{ region: "us", credential: { user: "leaf-us", password: "c" } }],
        ...(cluster ? { cluster, serverName: "tributary-hub-3" } : {}),
      });
    const single = hub();
    expect(single).not.toContain("cluster {");
    const node = hub({
      name: "tributary-hub",
      port: 6233,
      routes: ["nats-route://127.0.0.1:6231"],
      credential: { user: "route", password: "r" },
    });
    expect(node.startsWith('server_name: "tributary-hub-3"\n')).toBe(true);
    expect(node.slice(node.indexOf("leafnodes {"))).toContain(
      'leafnodes {\n  host: "127.0.0.1"\n  port: 7422\n}\ncluster {\n  name: "tributary-hub"\n  listen: "127.0.0.1:6233"',
    );
    expect(node).toContain('"nats-route://route:r@127.0.0.1:6231"');
  });
});
