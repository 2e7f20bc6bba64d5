import { describe, expect, it } from "vitest";
import { DiscardPolicy } from "@nats-io/jetstream";
import {
  aggregatorPermissions,
  controlReadPermissions,
  deliveryPermissions,
  DEFAULT_REGION_MAX_MSG_SIZE,
  gatewayPermissions,
  inboxPrefix,
  MAX_PAYLOAD_BYTES,
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
  type HubServerOptions,
  type RegionServerOptions,
} from "../src/index.js";

const TLS = { certFile: "/tls/tls.crt", keyFile: "/tls/tls.key", caFile: "/tls/ca.crt" };

/** What the production renderer is given: every listener on all interfaces, TLS files for each. */
const productionRegion = (extra: Partial<RegionServerOptions> = {}): RegionServerOptions => ({
  region: "us",
  storeDir: "/data",
  host: "0.0.0.0",
  hubLeafnodeUrl: "$HUB_LEAFNODE_URL",
  admin: { user: "admin", password: "$ADMIN_PASSWORD" },
  gateway: { user: "gateway-us", password: "$GATEWAY_US_PASSWORD" },
  leaf: { user: "leaf-us", password: "$LEAF_US_PASSWORD" },
  tls: TLS,
  hubTls: { caFile: "/hub/ca.crt" },
  ...extra,
});
const productionHub = (extra: Partial<HubServerOptions> = {}): HubServerOptions => ({
  storeDir: "/data",
  host: "0.0.0.0",
  admin: { user: "admin", password: "$ADMIN_PASSWORD" },
  aggregator: { user: "aggregator", password: "$AGGREGATOR_PASSWORD" },
  aggregatorDurable: "warehouse-loader",
  leafs: [{ region: "us", credential: { user: "leaf-us", password: "$LEAF_US_PASSWORD" } }],
  tls: TLS,
  leafnodeTls: TLS,
  ...extra,
});

describe("topology as code", () => {
  it("hub - sources every region through its domain API and refuses rather than drops when full", () => {
    const config = hubStreamConfig({ regions: ["us", "eu-west"] });
    expect(config.name).toBe("EVENTS");
    expect(config.sources).toEqual([
      {
        name: "EVENTS_US",
        external: { api: "$JS.us.API", deliver: "deliver.us" },
        consumer: { name: "hub-source", deliver_subject: "deliver.us.hub-source" },
        subject_transforms: [{ src: "events.*.>", dest: "events.us.>" }],
      },
      {
        name: "EVENTS_EU_WEST",
        external: { api: "$JS.eu-west.API", deliver: "deliver.eu-west" },
        consumer: { name: "hub-source", deliver_subject: "deliver.eu-west.hub-source" },
        subject_transforms: [{ src: "events.*.>", dest: "events.eu-west.>" }],
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
    const publish = gatewayPermissions("eu").publish;
    expect(publish.slice(0, 2)).toEqual(["events.eu.>", "$JS.API.STREAM.INFO.EVENTS_EU"]);
    // The rest is reading its region's mirror of the control bucket: no other stream, no writes.
    expect(publish.slice(2)).toEqual(controlReadPermissions());
    expect(publish.slice(2).every((s) => s.includes("KV_tributary_control") || s === "$JS.API.STREAM.NAMES")).toBe(
      true,
    );
    expect(publish.some((s) => s.startsWith("$KV."))).toBe(false);
  });

  it("permissions - the aggregator may use only its own durables (the stage's on the hub stream, the loader's on the enriched stream, the delivery log's) and the DLQ", () => {
    const perms = aggregatorPermissions("loader");
    expect(
      perms.publish
        .filter((s) => s.includes("CONSUMER"))
        .every(
          (s) =>
            s.includes("EVENTS.enricher") ||
            s.includes("EVENTS_ENRICHED.loader") ||
            s.includes("DELIVERIES.deliveries-loader"),
        ),
    ).toBe(true);
    // It publishes what the stage makes: events, replays and derived events, nothing of the regions'.
    expect(perms.publish).toEqual(expect.arrayContaining(["enriched.>", "dlq.>"]));
    expect(perms.publish.some((s) => s.startsWith("events."))).toBe(false);
    expect(perms.publish.some((s) => /STREAM\.(CREATE|DELETE|PURGE)/.test(s))).toBe(false);
    // It deletes only its two cumulatively acked durables (to replace one made with another ack policy).
    expect(perms.publish.filter((s) => s.includes("DELETE"))).toEqual([
      "$JS.API.CONSUMER.DELETE.EVENTS.enricher",
      "$JS.API.CONSUMER.DELETE.EVENTS_ENRICHED.loader",
    ]);
  });

  it("permissions - a region's leaf link carries only its own sourcing traffic", () => {
    const perms = leafPermissions("us");
    // Replies only through its own link account; and its mirror of the control bucket: the create
    // request and flow-control replies of that one stream.
    expect(perms.publish).toEqual([
      "_R_.>",
      "deliver.us.>",
      "$JS.hub.API.CONSUMER.CREATE.KV_tributary_control",
      "$JS.FC.KV_tributary_control.>",
    ]);
    expect(perms.publish.some((s) => s.startsWith("$JSC"))).toBe(false);
    expect(perms.subscribe).toEqual([
      "$JS.us.API.CONSUMER.RESET.EVENTS_US.hub-source",
      "$JS.FC.EVENTS_US.>",
      "deliver.control.us.>",
      "$JSC.R.>",
    ]);
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
      insecurePlaintext: true,
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
      insecurePlaintext: true,
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
      insecurePlaintext: true,
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
        insecurePlaintext: true,
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

  it("H2 - the production renderer puts TLS on the client port, the leafnode listener and the leafnode link", () => {
    const hub = renderHubServerConfig(productionHub());
    expect(hub).toContain(
      'port: 4222\nmax_payload: 2097152\ntls {\n  cert_file: "/tls/tls.crt"\n  key_file: "/tls/tls.key"\n  ca_file: "/tls/ca.crt"\n}',
    );
    expect(hub.slice(hub.indexOf("leafnodes {"))).toContain(
      '  port: 7422\n  tls {\n    cert_file: "/tls/tls.crt"\n    key_file: "/tls/tls.key"\n    ca_file: "/tls/ca.crt"\n  }\n}',
    );
    const region = renderRegionServerConfig(productionRegion());
    expect(region).toContain('tls {\n  cert_file: "/tls/tls.crt"');
    expect(region).toContain(
      '    {\n      url: $HUB_LEAFNODE_URL\n      account: TRIBUTARY\n      tls {\n        ca_file: "/hub/ca.crt"\n      }\n    }',
    );
  });

  it("H2 - a server without TLS is refused unless it is plaintext on loopback, said so", () => {
    expect(() => renderHubServerConfig(productionHub({ tls: undefined }))).toThrow(/config tls: is required/);
    expect(() => renderHubServerConfig(productionHub({ leafnodeTls: undefined }))).toThrow(
      /config leafnodeTls: is required/,
    );
    expect(() => renderRegionServerConfig(productionRegion({ hubTls: undefined }))).toThrow(
      /config hubTls: is required/,
    );
    // Plaintext is asked for, but the server would listen on every interface or dial an unknown hub.
    const plain = { tls: undefined, hubTls: undefined, leafnodeTls: undefined, insecurePlaintext: true };
    expect(() => renderHubServerConfig(productionHub(plain))).toThrow(/loopback only.*0\.0\.0\.0/);
    expect(() => renderRegionServerConfig(productionRegion({ ...plain, host: "127.0.0.1" }))).toThrow(
      /loopback only.*\$HUB_LEAFNODE_URL/,
    );
    expect(() =>
      renderRegionServerConfig(
        productionRegion({ ...plain, host: "127.0.0.1", hubLeafnodeUrl: "nats-leaf://hub.example:7422" }),
      ),
    ).toThrow(/hub\.example/);
    const local = renderRegionServerConfig(
      productionRegion({ ...plain, host: "127.0.0.1", hubLeafnodeUrl: "nats-leaf://127.0.0.1:7422" }),
    );
    expect(local).not.toContain("tls {");
    // A cluster's routes need TLS too.
    const cluster = { name: "tributary-us", port: 6222, routes: ["nats-route://us-1:6222"] };
    expect(() => renderRegionServerConfig(productionRegion({ serverName: "us-0", cluster }))).toThrow(
      /config cluster\.tls: is required/,
    );
    const routed = renderRegionServerConfig(
      productionRegion({ serverName: "us-0", cluster: { ...cluster, tls: { ...TLS, verify: true } } }),
    );
    expect(routed.slice(routed.indexOf("cluster {"))).toContain(
      '  tls {\n    cert_file: "/tls/tls.crt"\n    key_file: "/tls/tls.key"\n    ca_file: "/tls/ca.crt"\n    verify: true\n  }',
    );
  });

  it("M12 - every rendered server takes messages of MAX_PAYLOAD_BYTES, room for the largest body, its headers and a DLQ entry", () => {
    expect(MAX_PAYLOAD_BYTES).toBeGreaterThanOrEqual(DEFAULT_REGION_MAX_MSG_SIZE + 64 * 1024);
    for (const text of [renderHubServerConfig(productionHub()), renderRegionServerConfig(productionRegion())])
      expect(text).toContain(`\nmax_payload: ${MAX_PAYLOAD_BYTES}\n`);
    expect(regionalStreamConfig({ region: "us" }).max_msg_size).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });

  it("M9 - each region's events leave only under its own subjects, and the hub pins what a region's source brings to that region", () => {
    expect(hubSourceConsumerConfig("eu").filter_subject).toBe("events.eu.>");
    const sources = hubStreamConfig({ regions: ["us", "eu"] }).sources!;
    expect(sources.map((s) => s.subject_transforms)).toEqual([
      [{ src: "events.*.>", dest: "events.us.>" }],
      [{ src: "events.*.>", dest: "events.eu.>" }],
    ]);
  });

  it("M8 - every client user may subscribe to its own inbox only, never the shared _INBOX.>", () => {
    expect(gatewayPermissions("us").subscribe).toEqual(["_INBOX_gateway-us.>"]);
    expect(aggregatorPermissions("warehouse-loader").subscribe).toEqual(["_INBOX_aggregator.>"]);
    expect(deliveryPermissions(["crm"]).subscribe).toEqual(["_INBOX_delivery.>"]);
    expect(inboxPrefix("gateway-eu")).toBe("_INBOX_gateway-eu");
    expect(() => inboxPrefix("a.b")).toThrow(/config nats\.user: "a\.b" cannot name an inbox/);
  });

  it("M8 - consumers are created on their exact subjects only: no wildcard after the durable, a single filter pinned in the subject", () => {
    const agg = aggregatorPermissions("warehouse-loader").publish.filter((s) => s.includes("CREATE"));
    expect(agg).toEqual([
      "$JS.API.CONSUMER.CREATE.EVENTS.enricher",
      // Two filters (events and replays): the create subject that can carry them.
      "$JS.API.CONSUMER.DURABLE.CREATE.EVENTS_ENRICHED.warehouse-loader",
      "$JS.API.CONSUMER.CREATE.DELIVERIES.deliveries-loader",
    ]);
    const one = deliveryPermissions([{ name: "crm", sources: ["demo"], types: ["link.clicked"] }]).publish;
    expect(one.filter((s) => s.includes("CREATE"))).toEqual([
      "$JS.API.CONSUMER.CREATE.EVENTS_ENRICHED.delivery-crm.events.*.demo.link.clicked",
      "$JS.API.CONSUMER.CREATE.DELIVERY_REPLAY.delivery-crm-replay.redeliver.crm",
      "$JS.API.CONSUMER.CREATE.EVENTS_ENRICHED.delivery-crm-scan.events.*.demo.link.clicked",
    ]);
    // Several filter subjects: the one create subject that can carry them.
    const two = deliveryPermissions([{ name: "bi", sources: ["a", "b"] }]).publish;
    expect(two).toContain("$JS.API.CONSUMER.DURABLE.CREATE.EVENTS_ENRICHED.delivery-bi");
    expect(two.some((s) => s.endsWith(".>") && s.includes("CONSUMER.CREATE"))).toBe(false);
    // A bare name is a destination of every source and type.
    expect(deliveryPermissions(["x"]).publish).toContain(
      "$JS.API.CONSUMER.CREATE.EVENTS_ENRICHED.delivery-x.events.*.*.>",
    );
  });

  it("M8 - the delivery user cannot read the hub stream by sequence, only through its destinations' own consumers", () => {
    const publish = deliveryPermissions(["crm"]).publish;
    expect(publish.filter((s) => s.includes(".GET."))).toEqual(["$JS.API.STREAM.MSG.GET.DELIVERY_DLQ"]);
  });
});
