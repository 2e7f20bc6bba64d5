import { execFile } from "node:child_process";
import { Webhook } from "standardwebhooks";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import {
  findNatsServer,
  freePorts,
  startNatsServer,
  startService,
  testCertificates,
  waitFor,
  type NatsServer,
  type Service,
  type TestCertificates,
} from "@tributary/testkit";
import {
  connectNats,
  deliveryConsumerConfig,
  deliveryFilterSubjects,
  hubSourceConsumerConfig,
  loaderConsumerConfig,
} from "@tributary/streams";
import { renderChart, type ChartName, type K8sObject } from "../src/index.js";
import { loadControl } from "./control.js";

const run = promisify(execFile);
const GATEWAY_APP = fileURLToPath(new URL("../../../apps/gateway/", import.meta.url));

/** What the Secrets would hold in a cluster; here the env of nats-server and the provisioning script. */
const SOURCE_SECRET = "a-signing-secret-for-the-helm-test";
const ENV = {
  ADMIN_PASSWORD: "admin-pw",
  GATEWAY_PASSWORD: "gateway-pw",
  AGGREGATOR_PASSWORD: "aggregator-pw",
  DELIVERY_PASSWORD: "delivery-pw",
  LEAF_US_PASSWORD: "leaf-us-pw",
};
/** A destination's signing secret as its Secret key would hold it (whsec_ + base64 of 24 bytes). */
/** Where the chart mounts the signing Secret (tributary-hub.delivery.secretsDir). */
const SECRETS_DIR = "/var/run/tributary/destinations";
const DESTINATION_SECRET = `whsec_${Buffer.alloc(24, "crm").toString("base64")}`;
/** The aggregator's operator token (its Secret's `token`): /v1/stats, reconciliation and the delivery log need it. */
const OPERATOR_TOKEN = "an-operator-token-for-the-helm-test";
const asOperator = { authorization: `Bearer ${OPERATOR_TOKEN}` };

/** Values that make a chart's NATS config run on this machine: loopback, free ports, temp dirs, one server. */
function testValues(dir: string, port: number, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    "nats.config.nats.port": port,
    "nats.config.monitor.enabled": false, // the testkit adds its own monitoring listener
    "nats.config.cluster.enabled": false,
    "nats.config.jetstream.fileStore.dir": join(dir, "jetstream"),
    "nats.config.jetstream.fileStore.pvc.size": "2Gi",
    "nats.config.patch": [
      { op: "add", path: "/host", value: "127.0.0.1" },
      { op: "replace", path: "/pid_file", value: join(dir, "nats.pid") },
    ],
    ...extra,
  };
}

function dataOf(objects: K8sObject[], nameSuffix: string): Record<string, string> {
  const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.endsWith(nameSuffix));
  if (!cm) throw new Error(`no ConfigMap *${nameSuffix}`);
  return cm.data as Record<string, string>;
}

/** nats-server resolves `$VAR` from its environment; the testkit's server gets the values inlined (values and list items). */
function inlineEnv(conf: string, env: Record<string, string>): string {
  return conf.replace(/(: |^\s*)\$([A-Z_][A-Z0-9_]*)/gm, (all, head: string, name: string) =>
    name in env ? `${head}${JSON.stringify(env[name])}` : all,
  );
}

/** The TLS the charts' servers read from their Secrets (here the test's files), and what clients trust. */
let certs: TestCertificates;
/** A `tls://` URL of a test server (the apps and the Job reach NATS so in the charts). */
const tlsUrl = (server: NatsServer) => `tls://127.0.0.1:${server.ports.client}`;
/** A client of a chart's server as the apps connect: TLS with the CA, the user's own inbox. */
const connectAs = (server: NatsServer, user: string, pass: string) =>
  connectNats({ servers: [tlsUrl(server)], name: `test-${user}`, user, pass, tls: { caFile: certs.caFile } });

/** The NATS chart writes one `{ … }` object; the testkit appends lines, so take its body. */
function body(conf: string): string {
  const t = conf.trim();
  return t.slice(t.indexOf("{") + 1, t.lastIndexOf("}"));
}

async function provision(objects: K8sObject[], dir: string, natsUrl: string): Promise<string> {
  const streamsDir = join(dir, "streams");
  mkdirSync(streamsDir, { recursive: true });
  for (const [name, text] of Object.entries(dataOf(objects, "-streams"))) writeFileSync(join(streamsDir, name), text);
  // The chart's own provisioning script, as the hook Job runs it, against the real servers.
  const { stdout } = await run(process.execPath, [join(streamsDir, "provision.mjs")], {
    env: {
      ...process.env,
      APP_DIR: GATEWAY_APP,
      STREAMS_DIR: streamsDir,
      NATS_URL: natsUrl,
      ADMIN_PASSWORD: ENV.ADMIN_PASSWORD,
      NODE_EXTRA_CA_CERTS: certs.caFile,
      PROVISION_TIMEOUT_MS: "20000",
    },
  });
  return stdout;
}

describe("charts' NATS configs - checked and run as the region + hub leafnode topology", () => {
  let dir: string;
  const servers: NatsServer[] = [];
  const conns: NatsConnection[] = [];
  let hub: NatsServer;
  let region: NatsServer;
  let hubObjects: K8sObject[];
  let regionObjects: K8sObject[];
  let hubConf: string;
  let regionConf: string;
  const services: Service[] = [];
  let destination: Server;
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "helm-topology-"));
    const [hubPort, leafPort, regionPort, destinationPort] = await freePorts(4);
    // The delivery process's destination: a loopback HTTP receiver that answers 204.
    destination = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => destination.listen(destinationPort, "127.0.0.1", resolve));
    // The client ports and the hub's leafnode listener run TLS, as in production: a test CA, a
    // certificate for 127.0.0.1, laid out as the TLS Secrets hold them (tls.crt, tls.key, ca.crt).
    mkdirSync(join(dir, "tls"));
    certs = await testCertificates(join(dir, "tls"));
    copyFileSync(certs.certFile, join(dir, "tls", "tls.crt"));
    copyFileSync(certs.keyFile, join(dir, "tls", "tls.key"));
    copyFileSync(certs.caFile, join(dir, "tls", "ca.crt"));
    const render = (chart: ChartName, sub: string, port: number, extra: Record<string, unknown>) =>
      renderChart(chart, {
        setJson: testValues(join(dir, sub), port, { "nats.config.nats.tls.dir": join(dir, "tls"), ...extra }),
      });
    hubObjects = await render("tributary-hub", "hub", hubPort!, {
      "global.tributary.regions": ["us"],
      "nats.config.leafnodes.port": leafPort,
      "nats.config.leafnodes.tls.dir": join(dir, "tls"),
      "hubStream.replicas": 1,
      "operator.existingSecret": "tributary-operator",
      "hubStream.maxBytes": 256 * 1024 ** 2,
      "dlqStream.replicas": 1,
      "dlqStream.maxBytes": 64 * 1024 ** 2,
      deliveryStreams: {
        dlq: { maxBytes: 64 * 1024 ** 2 },
        replay: { maxBytes: 64 * 1024 ** 2 },
        log: { maxBytes: 64 * 1024 ** 2 },
        replicas: 1,
      },
      // Two destinations: crm takes the test event (signed, the secret file where the signing
      // Secret's volume mounts it; the test points that path at its temp dir); bi takes another
      // type, so it never calls out.
      "delivery.signingSecrets.existingSecret": "tributary-delivery-signing",
      "global.tributary.delivery": {
        enabled: true,
        destinations: [
          {
            name: "crm",
            url: `http://127.0.0.1:${destinationPort}/hook`,
            // A receiver on this machine: private addresses are refused unless listed.
            allowPrivate: ["127.0.0.1/32"],
            sources: ["demo"],
            types: ["link.clicked"],
            start: "all",
            signing: { secrets: [{ id: "1", file: `${SECRETS_DIR}/crm` }] },
          },
          { name: "bi", url: "https://bi.example.com/in", types: ["install.tracked"], signing: { type: "none" } },
        ],
      },
    });
    mkdirSync(join(dir, "destinations"));
    writeFileSync(join(dir, "destinations", "crm"), `${DESTINATION_SECRET}\n`);
    regionObjects = await render("tributary-gateway", "us", regionPort!, {
      "global.tributary.region": "us",
      "stream.maxBytes": 256 * 1024 ** 2,
      "nats.tlsCA": { enabled: true, secretName: "tributary-hub-ca", dir: join(dir, "tls"), key: "ca.crt" },
      // The source secret as the chart mounts it, here a file in the temp dir.
      "sources.demo.secrets": [{ id: "2026-11", file: join(dir, "sources", "demo") }],
      // The helm test sends a real event here (a test system); off by default.
      "helmTest.sendEvent": true,
    });
    mkdirSync(join(dir, "sources"));
    writeFileSync(join(dir, "sources", "demo"), `${SOURCE_SECRET}\n`);
    hubConf = dataOf(hubObjects, "-nats-config")["nats.conf"]!;
    regionConf = dataOf(regionObjects, "-nats-config")["nats.conf"]!;
  }, 60_000);

  afterAll(async () => {
    for (const svc of services) await svc.stop().catch(() => undefined);
    for (const nc of conns) await nc.close().catch(() => undefined);
    for (const s of servers.reverse()) await s.cleanup().catch(() => undefined);
    await new Promise((resolve) => destination?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("nats-server -t - the real server accepts the configs the charts render", async () => {
    const env = {
      ...process.env,
      ...ENV,
      SERVER_NAME: "test",
      HUB_LEAFNODE_URL: "nats-leaf://leaf-us:leaf-us-pw@127.0.0.1:7422",
    };
    for (const [name, conf] of [
      ["hub", hubConf],
      ["region", regionConf],
    ] as const) {
      const file = join(dir, `${name}.conf`);
      writeFileSync(file, conf);
      const { stdout, stderr } = await run(findNatsServer(), ["-t", "-c", file], { env });
      expect(`${stdout}${stderr}`, name).toMatch(/is valid/);
    }
  });

  it("tls - the hub's leafnode listener and the region's remote use TLS with the CA from values", () => {
    expect(hubConf).toContain(`"cert_file": ${JSON.stringify(join(dir, "tls", "tls.crt"))}`);
    expect(regionConf).toContain(`"ca_file": ${JSON.stringify(join(dir, "tls", "ca.crt"))}`);
  });

  it("run - a region and the hub started from the rendered configs form the leafnode topology over TLS; an event published in the region lands in the hub stream", async () => {
    hub = await startNatsServer({
      name: "hub",
      dir: join(dir, "hub"),
      leafnodeListener: true,
      config: () => body(inlineEnv(hubConf, { ...ENV, SERVER_NAME: "hub-0" })),
    });
    servers.push(hub);
    const leafUrl = `nats-leaf://leaf-us:${ENV.LEAF_US_PASSWORD}@127.0.0.1:${hub.ports.leafnode}`;
    region = await startNatsServer({
      name: "us",
      dir: join(dir, "us"),
      config: () => body(inlineEnv(regionConf, { ...ENV, SERVER_NAME: "us-0", HUB_LEAFNODE_URL: leafUrl })),
    });
    servers.push(region);

    // The chart's provisioning Job, run here as a script: the streams appear, as packages/streams
    // defines them, and in the region, after its stream, the durable consumer the hub sources through.
    expect(await provision(regionObjects, join(dir, "us"), tlsUrl(region))).toMatch(
      /created stream EVENTS_US\n.*created consumer hub-source on EVENTS_US/s,
    );
    const hubOut = await provision(hubObjects, join(dir, "hub"), tlsUrl(hub));
    expect(hubOut).toContain("created stream EVENTS");
    expect(hubOut).toContain("created stream EVENTS_DLQ");
    for (const stream of ["DELIVERIES", "DELIVERY_DLQ", "DELIVERY_REPLAY"])
      expect(hubOut).toContain(`created stream ${stream}`);
    // Run again (helm upgrade): it updates in place.
    expect(await provision(regionObjects, join(dir, "us"), tlsUrl(region))).toMatch(
      /updated stream EVENTS_US\n.*updated consumer hub-source on EVENTS_US/s,
    );

    // The regional server fsyncs every write (sync_interval: always from the chart).
    const varz = (await (await fetch(`http://127.0.0.1:${region.ports.monitoring}/varz`)).json()) as {
      jetstream?: { config?: { sync_always?: boolean } };
    };
    expect(varz.jetstream?.config?.sync_always).toBe(true);

    // The hub requires TLS of its leafnodes, so the link below runs over TLS.
    const hubVarz = (await (await fetch(`http://127.0.0.1:${hub.ports.monitoring}/varz`)).json()) as {
      leaf?: { tls_required?: boolean };
    };
    expect(hubVarz.leaf?.tls_required).toBe(true);

    // Publish in the region as the gateway's user from the chart, as the gateway does.
    const gw = await connectAs(region, "gateway-us", ENV.GATEWAY_PASSWORD);
    conns.push(gw);
    const h = headers();
    h.set("Nats-Msg-Id", "demo:helm-1");
    h.set("Tributary-Source", "demo");
    const ack = await jetstream(gw).publish(
      "events.us.demo.link.clicked",
      JSON.stringify({ event: "link.clicked", event_id: "helm-1" }),
      { headers: h },
    );
    expect(ack.stream).toBe("EVENTS_US");
    expect(ack.seq).toBe(1);

    // … and the hub stream sources it over the leafnode link, with its headers.
    const admin = await connectAs(hub, "admin", ENV.ADMIN_PASSWORD);
    conns.push(admin);
    const jsm = await jetstreamManager(admin);
    await waitFor(
      "the event in the hub stream EVENTS",
      async () => ((await jsm.streams.info("EVENTS")).state.messages === 1 ? true : undefined),
      45_000,
      200,
    );
    const msg = await jsm.streams.getMessage("EVENTS", { seq: 1 });
    expect(msg!.subject).toBe("events.us.demo.link.clicked");
    expect(msg!.header.get("Nats-Msg-Id")).toBe("demo:helm-1");
    expect(msg!.json<{ event_id: string }>().event_id).toBe("helm-1");

    // It came through the region's durable consumer hub-source (durable sourcing), the only consumer
    // on the regional stream (an ephemeral source consumer would show here too), exactly as
    // packages/streams configures it, and bound to the hub's source.
    const regionAdmin = await connectAs(region, "admin", ENV.ADMIN_PASSWORD);
    conns.push(regionAdmin);
    const consumers = await (await jetstreamManager(regionAdmin)).consumers.list("EVENTS_US").next();
    expect(consumers.map((c) => c.name)).toEqual(["hub-source"]);
    expect(consumers[0]!.config).toMatchObject(hubSourceConsumerConfig("us"));
    expect(consumers[0]!.delivered.stream_seq).toBe(1);
    expect(consumers[0]!.push_bound).toBe(true);
  }, 90_000);

  // The hub asks the region to reset hub-source as soon as it starts, before the region's leafnode
  // link is back; that request is lost, and nats-server waits 5 s for it before watching the deliver
  // subject and resuming at the consumer's next heartbeat (1 s): ~5 s in all.
  it("hub restart - an event buffered in the region while the hub is down reaches it within seconds of its restart (durable sourcing through the rendered configs)", async () => {
    const gw = await connectAs(region, "gateway-us", ENV.GATEWAY_PASSWORD);
    conns.push(gw);
    await hub.stop();
    // A type no destination takes, so the delivery process started later posts only the helm test's event.
    const h = headers();
    h.set("Nats-Msg-Id", "demo:helm-2");
    h.set("Tributary-Source", "demo");
    const ack = await jetstream(gw).publish(
      "events.us.demo.page.viewed",
      JSON.stringify({ event: "page.viewed", event_id: "helm-2" }),
      { headers: h },
    );
    expect(ack.seq).toBe(2);

    const restartedAt = Date.now();
    await hub.restart();
    const admin = await connectAs(hub, "admin", ENV.ADMIN_PASSWORD);
    conns.push(admin);
    const jsm = await jetstreamManager(admin);
    await waitFor(
      "the buffered event in the hub stream EVENTS",
      async () => ((await jsm.streams.info("EVENTS")).state.messages === 2 ? true : undefined),
      30_000,
      100,
    );
    const resumed = Date.now() - restartedAt;
    console.log(`hub restart: the buffered event reached EVENTS ${resumed} ms after the restart began`);
    expect(resumed).toBeLessThan(10_000);
    expect((await jsm.streams.getMessage("EVENTS", { seq: 2 }))!.header.get("Nats-Msg-Id")).toBe("demo:helm-2");
    // The hub reset the region's hub-source to where it stopped rather than creating a consumer.
    const regionAdmin = await connectAs(region, "admin", ENV.ADMIN_PASSWORD);
    conns.push(regionAdmin);
    const consumers = await (await jetstreamManager(regionAdmin)).consumers.list("EVENTS_US").next();
    expect(consumers.map((c) => [c.name, c.delivered.stream_seq])).toEqual([["hub-source", 2]]);
  }, 60_000);

  it("least privilege - the chart's gateway user cannot publish another region's events or manage streams", async () => {
    const gw = await connectAs(region, "gateway-us", ENV.GATEWAY_PASSWORD);
    conns.push(gw);
    await expect(jetstream(gw, { timeout: 2000 }).publish("events.eu.demo.link.clicked", "{}")).rejects.toThrow();
    await expect(gw.request("$JS.API.STREAM.DELETE.EVENTS_US", undefined, { timeout: 2000 })).rejects.toThrow(
      /Permissions Violation/,
    );
  }, 30_000);

  it("least privilege - the chart's delivery user takes its destinations' consumers and subjects, not another destination's, nor the aggregator's, nor stream management", async () => {
    const nc = await connectAs(hub, "delivery", ENV.DELIVERY_PASSWORD);
    conns.push(nc);
    const jsm = await jetstreamManager(nc, { timeout: 2000 });
    // bi's consumer exactly as the delivery process creates it (so the process, started later, finds it as it would).
    const bi = deliveryConsumerConfig({
      destination: "bi",
      filterSubjects: deliveryFilterSubjects([], ["install.tracked"]),
      maxAckPending: 64,
      ackWaitMs: 60_000,
      deliverPolicy: "new",
    });
    expect((await jsm.consumers.add("EVENTS_ENRICHED", bi)).name).toBe("delivery-bi");
    const dlqAck = await jetstream(nc, { timeout: 2000 }).publish("delivery-dlq.bi", "{}");
    expect(dlqAck.stream).toBe("DELIVERY_DLQ");

    const partner = deliveryConsumerConfig({
      destination: "partner",
      filterSubjects: ["events.>"],
      maxAckPending: 64,
      ackWaitMs: 60_000,
    });
    await expect(
      nc.request(
        `$JS.API.CONSUMER.CREATE.EVENTS_ENRICHED.delivery-partner`,
        JSON.stringify({ stream_name: "EVENTS_ENRICHED", config: partner }),
        { timeout: 2000 },
      ),
    ).rejects.toThrow(/Permissions Violation/);
    const loader = loaderConsumerConfig({ durable: "warehouse-loader", maxAckPending: 10, ackWaitMs: 60_000 });
    await expect(
      nc.request(
        `$JS.API.CONSUMER.CREATE.EVENTS_ENRICHED.warehouse-loader`,
        JSON.stringify({ stream_name: "EVENTS_ENRICHED", config: loader }),
        { timeout: 2000 },
      ),
    ).rejects.toThrow(/Permissions Violation/);
    await expect(jetstream(nc, { timeout: 2000 }).publish("delivery-dlq.partner", "{}")).rejects.toThrow();
    await expect(nc.request("$JS.API.STREAM.DELETE.DELIVERY_DLQ", undefined, { timeout: 2000 })).rejects.toThrow(
      /Permissions Violation/,
    );
  }, 30_000);

  it("helm test - the gateway, the aggregator and the delivery process, started from the charts' rendered config files, pass the charts' own test hooks; the test event reaches the warehouse and the destination", async () => {
    const [gatewayPort, aggregatorPort, deliveryPort] = await freePorts(3);
    // Each app starts from the config file its chart rendered; what differs from the cluster comes
    // by env, as the apps' config loaders allow: loopback, free ports, the test servers.
    async function startFromChart(
      app: "gateway" | "aggregator" | "delivery",
      entry: string,
      config: string,
      port: number,
      env: Record<string, string>,
      readyPath: string,
    ) {
      const configFile = join(dir, `${app}.json`);
      writeFileSync(configFile, config);
      const service = await startService({
        name: app,
        entry: fileURLToPath(import.meta.resolve(entry)),
        env: { TRIBUTARY_CONFIG: configFile, TRIBUTARY_HOST: "127.0.0.1", TRIBUTARY_PORT: String(port), ...env },
        readyUrl: `http://127.0.0.1:${port}${readyPath}`,
      });
      services.push(service);
    }
    await startFromChart(
      "gateway",
      "@tributary/gateway/main",
      dataOf(regionObjects, "-gateway")["gateway.json"]!,
      gatewayPort!,
      {
        TRIBUTARY_NATS_URL: tlsUrl(region),
        TRIBUTARY_NATS_PASS: ENV.GATEWAY_PASSWORD,
        NODE_EXTRA_CA_CERTS: certs.caFile,
        // The chart's operations port, here on loopback and any free port.
        TRIBUTARY_OPS_HOST: "127.0.0.1",
        TRIBUTARY_OPS_PORT: "0",
      },
      "/readyz",
    );
    await startFromChart(
      "aggregator",
      "@tributary/aggregator/main",
      dataOf(hubObjects, "-aggregator")["aggregator.json"]!,
      aggregatorPort!,
      {
        TRIBUTARY_NATS_URL: tlsUrl(hub),
        TRIBUTARY_NATS_PASS: ENV.AGGREGATOR_PASSWORD,
        TRIBUTARY_OPERATOR_TOKEN: OPERATOR_TOKEN,
        NODE_EXTRA_CA_CERTS: certs.caFile,
        TRIBUTARY_WAREHOUSE_URL: `duckdb://${join(dir, "events.duckdb")}`,
      },
      "/healthz",
    );
    // Ready once both destinations' consumers exist and their deliverers run, as the chart's user;
    // the signing secret's path points at the test's copy of the Secret's volume.
    const deliveryConfig = dataOf(hubObjects, "-delivery")["delivery.json"]!.replaceAll(
      `${SECRETS_DIR}/`,
      `${join(dir, "destinations")}/`,
    );
    await startFromChart(
      "delivery",
      "@tributary/delivery-app/main",
      deliveryConfig,
      deliveryPort!,
      {
        TRIBUTARY_NATS_URL: tlsUrl(hub),
        TRIBUTARY_NATS_PASS: ENV.DELIVERY_PASSWORD,
        NODE_EXTRA_CA_CERTS: certs.caFile,
        TRIBUTARY_DELIVERY_ADMIN_TOKEN: "a-delivery-admin-token",
      },
      "/readyz",
    );

    // The gateway chart's test hook: one signed event, answered 202 after the PubAck.
    const sendScript = join(dir, "helm-test.mjs");
    writeFileSync(sendScript, dataOf(regionObjects, "-gateway-test")["helm-test.mjs"]!);
    const sent = await run(process.execPath, [sendScript], {
      env: {
        ...process.env,
        GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
        SOURCE: "demo",
        SIGNING_KEY_FILE: join(dir, "sources", "demo"),
        TEST_TIMEOUT_MS: "20000",
      },
    });
    expect(sent.stdout).toMatch(/^receipt: 202 .*"status":"accepted"/);
    const eventKey = (JSON.parse(sent.stdout.slice(sent.stdout.indexOf("{"))) as { event_key: string }).event_key;

    // The hub chart's test hook (the script in its test Pod's args): the aggregator is ready and reads the warehouse.
    const pod = hubObjects.find((o) => o.kind === "Pod" && o.metadata.name.endsWith("-aggregator-test"))!;
    const args = (pod.spec as { containers: Array<{ args: string[] }> }).containers[0]!.args;
    const checked = await run(process.execPath, args, {
      env: {
        ...process.env,
        AGGREGATOR_URL: `http://127.0.0.1:${aggregatorPort}`,
        TRIBUTARY_OPERATOR_TOKEN: OPERATOR_TOKEN,
      },
    });
    expect(checked.stdout).toContain("warehouse stats: 200");

    // The event crossed the leafnode link and was loaded: a row with its key. (The chart turns
    // anonymous loopback reads of the query API off, so the operator's key lookup is asked.)
    await waitFor(
      "the helm test event in the warehouse",
      async () => {
        const res = await fetch(`http://127.0.0.1:${aggregatorPort}/v1/reconcile/keys`, {
          method: "POST",
          headers: { "content-type": "application/json", ...asOperator },
          body: JSON.stringify({ keys: [eventKey] }),
        });
        return ((await res.json()) as { present: string[] }).present.includes(eventKey) ? true : undefined;
      },
      45_000,
      250,
    );
    const refused = await fetch(`http://127.0.0.1:${aggregatorPort}/v1/events?limit=1`);
    expect(refused.status).toBe(401);

    // The delivery process (the chart's config and NATS user) posted the event to crm, signed with
    // the mounted secret; its attempt went through DELIVERIES into the aggregator's warehouse.
    await waitFor(
      "the event at the crm destination",
      async () => (received.length > 0 ? true : undefined),
      45_000,
      200,
    );
    expect(received).toHaveLength(1);
    expect(received[0]!.headers["webhook-id"]).toBe(eventKey);
    // Signed with the secret the chart mounted, as the reference library verifies it.
    const headers = Object.fromEntries(Object.entries(received[0]!.headers).map(([k, v]) => [k, String(v)]));
    expect(() => new Webhook(DESTINATION_SECRET).verify(received[0]!.body, headers)).not.toThrow();
    await waitFor(
      "crm's delivered attempt in the warehouse's delivery log",
      async () => {
        const res = await fetch(`http://127.0.0.1:${aggregatorPort}/v1/deliveries?destination=crm&outcome=delivered`, {
          headers: asOperator,
        });
        const log = (await res.json()) as { data: Array<{ event_key: string }> };
        return log.data.some((d) => d.event_key === eventKey) ? true : undefined;
      },
      45_000,
      250,
    );
  }, 120_000);
  it("H2 - the charts' client ports require TLS: a client that does not trust the NATS CA is refused", async () => {
    for (const server of [hub, region]) {
      const varz = (await (await fetch(`http://127.0.0.1:${server.ports.monitoring}/varz`)).json()) as {
        tls_required?: boolean;
      };
      expect(varz.tls_required).toBe(true);
      await expect(
        connectNats({
          servers: [tlsUrl(server)],
          name: "stranger",
          user: "admin",
          pass: ENV.ADMIN_PASSWORD,
          tls: { caFile: certs.stranger.caFile },
        }),
      ).rejects.toThrow();
    }
  });

  it("M9 - through the charts' configs, an other-region subject in the region's stream (an admin's edit) never reaches the hub", async () => {
    const regionAdmin = await connectAs(region, "admin", ENV.ADMIN_PASSWORD);
    conns.push(regionAdmin);
    const jsm = await jetstreamManager(regionAdmin);
    const stream = (await jsm.streams.info("EVENTS_US")).config;
    await jsm.streams.update("EVENTS_US", { ...stream, subjects: ["events.us.>", "events.eu.>"] });
    const js = jetstream(regionAdmin);
    await js.publish("events.eu.demo.link.clicked", JSON.stringify({ forged: true }));
    const own = await js.publish("events.us.demo.page.viewed", JSON.stringify({ own: true }));
    const admin = await connectAs(hub, "admin", ENV.ADMIN_PASSWORD);
    conns.push(admin);
    const hubJsm = await jetstreamManager(admin);
    await waitFor(
      "the region's own event at the hub",
      async () => {
        const last = await hubJsm.streams.getMessage("EVENTS", { last_by_subj: "events.us.demo.page.viewed" });
        return last?.header.get("Nats-Stream-Source").includes(` ${own.seq} `) ? true : undefined;
      },
      20_000,
      100,
    );
    const info = await hubJsm.streams.info("EVENTS", { subjects_filter: ">" });
    expect(Object.keys(info.state.subjects ?? {}).filter((s) => !s.startsWith("events.us."))).toEqual([]);
  }, 30_000);
});

describe("charts' NATS cluster routes - run from the hub chart's config", () => {
  let dir: string;
  const servers: NatsServer[] = [];
  const ROUTE_PASSWORD = "0123456789abcdef0123456789abcdef";
  let clusterPorts: number[];
  let nodes: NatsServer[];

  /** The servers a node has routes to, by name (nats-server pools several connections per peer). */
  async function routedTo(server: NatsServer): Promise<string[]> {
    const routez = (await (await fetch(`http://127.0.0.1:${server.ports.monitoring}/routez`)).json()) as {
      routes?: Array<{ remote_name?: string }>;
    };
    return [...new Set((routez.routes ?? []).map((r) => r.remote_name ?? "?"))].sort();
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "helm-routes-"));
    mkdirSync(join(dir, "tls"));
    certs = await testCertificates(join(dir, "tls"));
    copyFileSync(certs.certFile, join(dir, "tls", "tls.crt"));
    copyFileSync(certs.keyFile, join(dir, "tls", "tls.key"));
    copyFileSync(certs.caFile, join(dir, "tls", "ca.crt"));
    const ports = await freePorts(6);
    clusterPorts = [ports[1]!, ports[4]!];
    // What Kubernetes composes from the Secret for every node (tributary.natsRouteEnv), here on loopback.
    const env = {
      ...ENV,
      ROUTE_PASSWORD,
      ROUTE_URL_0: `tls://route:${ROUTE_PASSWORD}@127.0.0.1:${clusterPorts[0]}`,
      ROUTE_URL_1: `tls://route:${ROUTE_PASSWORD}@127.0.0.1:${clusterPorts[1]}`,
    };
    nodes = [];
    for (const i of [0, 1]) {
      const [client, cluster, leaf] = ports.slice(i * 3, i * 3 + 3);
      const objects = await renderChart("tributary-hub", {
        setJson: testValues(join(dir, `hub-${i}`), client!, {
          "global.tributary.regions": ["us"],
          "nats.config.nats.tls.dir": join(dir, "tls"),
          "nats.config.leafnodes.port": leaf,
          "nats.config.leafnodes.tls.dir": join(dir, "tls"),
          "nats.config.cluster.enabled": true,
          "nats.config.cluster.replicas": 2,
          "nats.config.cluster.port": cluster,
          "nats.config.cluster.tls.dir": join(dir, "tls"),
        }),
      });
      const conf = dataOf(objects, "-nats-config")["nats.conf"]!;
      const node = await startNatsServer({
        name: `hub-${i}`,
        dir: join(dir, `hub-${i}`),
        leafnodeListener: true,
        config: () => body(inlineEnv(conf, { ...env, SERVER_NAME: `hub-${i}` })),
      });
      servers.push(node);
      nodes.push(node);
    }
  }, 60_000);
  afterAll(async () => {
    for (const s of servers.reverse()) await s.cleanup().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("H1 - the chart's servers route to each other with the route password over mutual TLS; a server without the password, or with a certificate of another CA, cannot join", async () => {
    await waitFor(
      "the two hub servers routed to each other",
      async () =>
        (await routedTo(nodes[0]!)).join() === "hub-1" && (await routedTo(nodes[1]!)).join() === "hub-0"
          ? true
          : undefined,
      20_000,
      100,
    );
    const cluster = (tls: string, url: string) =>
      `cluster {\n  name: "tributary-nats"\n  listen: "127.0.0.1:-1"\n  ${tls}\n  routes: [${JSON.stringify(url)}]\n}`;
    const target = `127.0.0.1:${clusterPorts[0]}`;
    const rogues = {
      // Any pod of the cluster, as the finding had it: plaintext, no credentials.
      plaintext: cluster("", `nats-route://${target}`),
      // The password (leaked), but not a certificate of the cluster's CA.
      "stranger certificate": cluster(
        `tls { cert_file: ${JSON.stringify(certs.stranger.certFile)}, key_file: ${JSON.stringify(certs.stranger.keyFile)}, ca_file: ${JSON.stringify(certs.caFile)} }`,
        `tls://route:${ROUTE_PASSWORD}@${target}`,
      ),
      // A certificate of the cluster's CA (a stolen one), but not the password.
      "wrong password": cluster(
        `tls { cert_file: ${JSON.stringify(certs.certFile)}, key_file: ${JSON.stringify(certs.keyFile)}, ca_file: ${JSON.stringify(certs.caFile)} }`,
        `tls://route:wrong@${target}`,
      ),
    };
    for (const [what, extraConfig] of Object.entries(rogues)) {
      const rogue = await startNatsServer({ name: `rogue`, jetstream: false, extraConfig });
      servers.push(rogue);
      await new Promise((r) => setTimeout(r, 2_500)); // route attempts go out at once and every second
      expect(await routedTo(rogue), what).toEqual([]);
      expect(await routedTo(nodes[0]!), what).toEqual(["hub-1"]);
      await rogue.cleanup();
    }
  }, 60_000);
});

describe("control plane through the charts - the bucket, the audit stream and a region's mirror as the charts provision them; sources and subscriptions changed at runtime", () => {
  let dir: string;
  const servers: NatsServer[] = [];
  const conns: NatsConnection[] = [];
  const services: Service[] = [];
  let hub: NatsServer;
  let region: NatsServer;
  let hubObjects: K8sObject[];
  let regionObjects: K8sObject[];
  let receiver: Server;
  let receiverPort: number;
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const CONTROL_ENV = { ...ENV, CONTROL_PASSWORD: "control-pw" };
  /** The sealing keys' Secret, as the hub's and the region's releases both read it. */
  const SEALING_KEYS = `k1:${Buffer.alloc(32, 7).toString("base64")}`;
  const ADMIN_TOKEN = "an-admin-api-token-for-the-helm-test";
  const READ_TOKEN = "a-read-api-token-for-the-helm-test";
  let aggregatorUrl: string;
  let gatewayUrl: string;

  const api = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${aggregatorUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (res.status === 204 ? {} : await res.json()) as Record<string, any> };
  };

  /** One app started from the config file its chart rendered; what differs from the cluster comes by env. */
  async function startFromChart(
    app: string,
    entry: string,
    config: string,
    port: number,
    env: Record<string, string>,
    readyPath: string,
  ) {
    const configFile = join(dir, `${app}.json`);
    writeFileSync(configFile, config);
    services.push(
      await startService({
        name: `control-${app}`,
        entry: fileURLToPath(import.meta.resolve(entry)),
        env: {
          TRIBUTARY_CONFIG: configFile,
          TRIBUTARY_HOST: "127.0.0.1",
          TRIBUTARY_PORT: String(port),
          NODE_EXTRA_CA_CERTS: certs.caFile,
          ...env,
        },
        readyUrl: `http://127.0.0.1:${port}${readyPath}`,
      }),
    );
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "helm-control-"));
    const [hubPort, leafPort, regionPort, port] = await freePorts(4);
    receiverPort = port!;
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(receiverPort, "127.0.0.1", resolve));
    mkdirSync(join(dir, "tls"));
    certs = await testCertificates(join(dir, "tls"));
    copyFileSync(certs.certFile, join(dir, "tls", "tls.crt"));
    copyFileSync(certs.keyFile, join(dir, "tls", "tls.key"));
    copyFileSync(certs.caFile, join(dir, "tls", "ca.crt"));
    const control = {
      "global.tributary.control.enabled": true,
      "control.sealingKeys.existingSecret": "tributary-control-sealing",
    };
    const render = (chart: ChartName, sub: string, port: number, extra: Record<string, unknown>) =>
      renderChart(chart, {
        setJson: testValues(join(dir, sub), port, {
          "nats.config.nats.tls.dir": join(dir, "tls"),
          ...control,
          ...extra,
        }),
      });
    hubObjects = await render("tributary-hub", "hub", hubPort!, {
      "global.tributary.regions": ["us"],
      "nats.config.leafnodes.port": leafPort,
      "nats.config.leafnodes.tls.dir": join(dir, "tls"),
      "hubStream.replicas": 1,
      "hubStream.maxBytes": 256 * 1024 ** 2,
      "dlqStream.replicas": 1,
      "dlqStream.maxBytes": 64 * 1024 ** 2,
      deliveryStreams: {
        dlq: { maxBytes: 64 * 1024 ** 2 },
        replay: { maxBytes: 64 * 1024 ** 2 },
        log: { maxBytes: 64 * 1024 ** 2 },
        replicas: 1,
      },
      "control.replicas": 1,
      // The subscription's receiver is on this machine: a private address, listed.
      "control.allowPrivate": ["127.0.0.1/32"],
      // Every subscription comes from the management API: no destination here.
      "global.tributary.delivery": { enabled: true, destinations: [] },
      queryApi: {
        existingSecret: "tributary-api-tokens",
        tokens: [
          { id: "ops", sources: ["*"], scope: "admin" },
          { id: "viewer", sources: ["*"] },
        ],
      },
    });
    regionObjects = await render("tributary-gateway", "us", regionPort!, {
      "global.tributary.region": "us",
      "stream.maxBytes": 256 * 1024 ** 2,
      "nats.tlsCA": { enabled: true, secretName: "tributary-hub-ca", dir: join(dir, "tls"), key: "ca.crt" },
      // No source of its own: each comes from the control bucket's mirror.
      sources: { demo: null },
    });
  }, 60_000);

  afterAll(async () => {
    for (const svc of services) await svc.stop().catch(() => undefined);
    for (const nc of conns) await nc.close().catch(() => undefined);
    for (const s of servers.reverse()) await s.cleanup().catch(() => undefined);
    await new Promise((resolve) => receiver?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("nats-server -t - the real server accepts the configs the charts render with control on", async () => {
    const env = {
      ...process.env,
      ...CONTROL_ENV,
      SERVER_NAME: "test",
      HUB_LEAFNODE_URL: "nats-leaf://leaf-us:leaf-us-pw@127.0.0.1:7422",
    };
    for (const [name, objects] of [
      ["hub", hubObjects],
      ["region", regionObjects],
    ] as const) {
      const file = join(dir, `${name}.conf`);
      writeFileSync(file, dataOf(objects, "-nats-config")["nats.conf"]!);
      const { stdout, stderr } = await run(findNatsServer(), ["-t", "-c", file], { env });
      expect(`${stdout}${stderr}`, name).toMatch(/is valid/);
    }
  });

  it("provisioning - the charts' Jobs create the bucket and CONTROL_AUDIT at the hub and the region's mirror, and update them in place on a second run (helm upgrade); the servers keep what the ConfigMaps say", async () => {
    hub = await startNatsServer({
      name: "hub",
      dir: join(dir, "hub"),
      leafnodeListener: true,
      config: () =>
        body(inlineEnv(dataOf(hubObjects, "-nats-config")["nats.conf"]!, { ...CONTROL_ENV, SERVER_NAME: "hub-0" })),
    });
    servers.push(hub);
    const leafUrl = `nats-leaf://leaf-us:${ENV.LEAF_US_PASSWORD}@127.0.0.1:${hub.ports.leafnode}`;
    region = await startNatsServer({
      name: "us",
      dir: join(dir, "us"),
      config: () =>
        body(
          inlineEnv(dataOf(regionObjects, "-nats-config")["nats.conf"]!, {
            ...ENV,
            SERVER_NAME: "us-0",
            HUB_LEAFNODE_URL: leafUrl,
          }),
        ),
    });
    servers.push(region);

    const hubOut = await provision(hubObjects, join(dir, "hub"), tlsUrl(hub));
    expect(hubOut).toContain("created stream CONTROL_AUDIT");
    expect(hubOut).toContain("created stream KV_tributary_control");
    expect(await provision(regionObjects, join(dir, "us"), tlsUrl(region))).toMatch(
      /created stream EVENTS_US\n.*created stream KV_tributary_control\n.*created consumer hub-source on EVENTS_US/s,
    );
    expect(await provision(hubObjects, join(dir, "hub"), tlsUrl(hub))).toContain("updated stream KV_tributary_control");
    expect(await provision(regionObjects, join(dir, "us"), tlsUrl(region))).toContain(
      "updated stream KV_tributary_control",
    );

    const infoOf = async (server: NatsServer, stream: string) => {
      const nc = await connectAs(server, "admin", ENV.ADMIN_PASSWORD);
      conns.push(nc);
      return (await (await jetstreamManager(nc)).streams.info(stream)).config;
    };
    const json = (objects: K8sObject[], file: string) =>
      JSON.parse(dataOf(objects, "-streams")[file]!) as Record<string, unknown>;
    expect(await infoOf(hub, "KV_tributary_control")).toMatchObject(json(hubObjects, "KV_tributary_control.json"));
    expect(await infoOf(hub, "CONTROL_AUDIT")).toMatchObject(json(hubObjects, "CONTROL_AUDIT.json"));
    expect(await infoOf(region, "KV_tributary_control")).toMatchObject(
      json(regionObjects, "KV_tributary_control.json"),
    );
  }, 60_000);

  it("sources - one created through the aggregator's management API (an admin token; a read token is refused) reaches the region's mirror over the leafnode link, and the gateway started from its chart accepts its events without a restart", async () => {
    const [aggregatorPort, gatewayPort] = await freePorts(2);
    aggregatorUrl = `http://127.0.0.1:${aggregatorPort}`;
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    await startFromChart(
      "aggregator",
      "@tributary/aggregator/main",
      dataOf(hubObjects, "-aggregator")["aggregator.json"]!,
      aggregatorPort!,
      {
        TRIBUTARY_NATS_URL: tlsUrl(hub),
        TRIBUTARY_NATS_PASS: ENV.AGGREGATOR_PASSWORD,
        TRIBUTARY_CONTROL_NATS_PASS: CONTROL_ENV.CONTROL_PASSWORD,
        TRIBUTARY_SEALING_KEYS: SEALING_KEYS,
        TRIBUTARY_API_TOKEN_OPS: ADMIN_TOKEN,
        TRIBUTARY_API_TOKEN_VIEWER: READ_TOKEN,
        TRIBUTARY_WAREHOUSE_URL: `duckdb://${join(dir, "events.duckdb")}`,
      },
      "/healthz",
    );
    await startFromChart(
      "gateway",
      "@tributary/gateway/main",
      dataOf(regionObjects, "-gateway")["gateway.json"]!,
      gatewayPort!,
      {
        TRIBUTARY_NATS_URL: tlsUrl(region),
        TRIBUTARY_NATS_PASS: ENV.GATEWAY_PASSWORD,
        TRIBUTARY_SEALING_KEYS: SEALING_KEYS,
        TRIBUTARY_OPS_HOST: "127.0.0.1",
        TRIBUTARY_OPS_PORT: "0",
      },
      "/readyz",
    );

    const source = { id: "acme", scheme: { type: "webhook-hmac-sha256" } };
    await waitFor(
      "the management API connected as the chart's control user",
      async () => ((await api(READ_TOKEN, "GET", "/v1/sources")).status === 200 ? true : undefined),
      20_000,
      200,
    );
    expect((await api(READ_TOKEN, "POST", "/v1/sources", source)).status).toBe(403);
    const created = await api(ADMIN_TOKEN, "POST", "/v1/sources", source);
    expect(created.status).toBe(201);
    const secret = created.body.secrets[0].value as string;

    // In the region's mirror, as the chart's gateway user reads it.
    const { ControlStore } = await loadControl();
    const gw = await connectAs(region, "gateway-us", ENV.GATEWAY_PASSWORD);
    conns.push(gw);
    const mirror = await ControlStore.open(jetstream(gw), { writable: false });
    await waitFor(
      "the source in the region's mirror",
      async () => ((await mirror.list("sources")).some((r) => r.id === "acme") ? true : undefined),
      20_000,
      200,
    );

    // The chart's gateway test hook, against the source that exists only in the bucket: 202.
    const keyFile = join(dir, "acme-secret");
    writeFileSync(keyFile, `${secret}\n`);
    const sendScript = join(dir, "helm-test.mjs");
    writeFileSync(sendScript, dataOf(regionObjects, "-gateway-test")["helm-test.mjs"]!);
    const sent = await run(process.execPath, [sendScript], {
      env: {
        ...process.env,
        GATEWAY_URL: gatewayUrl,
        SOURCE: "acme",
        SIGNING_KEY_FILE: keyFile,
        TEST_TIMEOUT_MS: "20000",
      },
    });
    expect(sent.stdout).toMatch(/^receipt: 202 /);
  }, 90_000);

  it("subscriptions - one created through the management API is delivered by the delivery process started from the chart (managed permissions), signed with the secret the API gave once", async () => {
    const [deliveryPort] = await freePorts(1);
    await startFromChart(
      "delivery",
      "@tributary/delivery-app/main",
      dataOf(hubObjects, "-delivery")["delivery.json"]!,
      deliveryPort!,
      {
        TRIBUTARY_NATS_URL: tlsUrl(hub),
        TRIBUTARY_NATS_PASS: ENV.DELIVERY_PASSWORD,
        TRIBUTARY_SEALING_KEYS: SEALING_KEYS,
        TRIBUTARY_DELIVERY_ADMIN_TOKEN: "a-delivery-admin-token",
      },
      "/readyz",
    );
    const created = await api(ADMIN_TOKEN, "POST", "/v1/subscriptions", {
      id: "hooks",
      url: `http://127.0.0.1:${receiverPort}/hooks`,
      sources: ["acme"],
    });
    expect(created.status).toBe(201);
    const signing = new Webhook(created.body.signingSecret as string);
    const admin = await connectAs(hub, "admin", ENV.ADMIN_PASSWORD);
    conns.push(admin);
    const jsm = await jetstreamManager(admin);
    await waitFor(
      "the subscription's consumer, made by the delivery process",
      async () =>
        (await jsm.consumers.info("EVENTS_ENRICHED", "delivery-hooks").catch(() => undefined)) ? true : undefined,
      20_000,
      200,
    );

    const keyFile = join(dir, "acme-secret");
    const sent = await run(process.execPath, [join(dir, "helm-test.mjs")], {
      env: {
        ...process.env,
        GATEWAY_URL: gatewayUrl,
        SOURCE: "acme",
        SIGNING_KEY_FILE: keyFile,
        TEST_TIMEOUT_MS: "20000",
      },
    });
    const eventKey = (JSON.parse(sent.stdout.slice(sent.stdout.indexOf("{"))) as { event_key: string }).event_key;
    await waitFor(
      "the event at the subscription's receiver",
      async () => (received.some((r) => r.headers["webhook-id"] === eventKey) ? true : undefined),
      45_000,
      200,
    );
    const delivered = received.find((r) => r.headers["webhook-id"] === eventKey)!;
    const headers = Object.fromEntries(Object.entries(delivered.headers).map(([k, v]) => [k, String(v)]));
    expect(() => signing.verify(delivered.body, headers)).not.toThrow();
  }, 90_000);

  it("least privilege - the managed delivery user cannot touch the aggregator's consumer or a source's record; the control user cannot consume EVENTS or manage streams", async () => {
    const delivery = await connectAs(hub, "delivery", ENV.DELIVERY_PASSWORD);
    conns.push(delivery);
    const loader = loaderConsumerConfig({ durable: "warehouse-loader", maxAckPending: 10, ackWaitMs: 60_000 });
    await expect(
      delivery.request(
        "$JS.API.CONSUMER.CREATE.EVENTS_ENRICHED.warehouse-loader",
        JSON.stringify({ stream_name: "EVENTS_ENRICHED", config: loader }),
        { timeout: 2000 },
      ),
    ).rejects.toThrow(/Permissions Violation/);
    await expect(
      delivery.request("$JS.API.CONSUMER.DELETE.EVENTS_ENRICHED.warehouse-loader", undefined, { timeout: 2000 }),
    ).rejects.toThrow(/Permissions Violation/);
    await expect(
      jetstream(delivery, { timeout: 2000 }).publish("$KV.tributary_control.sources.acme", "{}"),
    ).rejects.toThrow();

    const control = await connectAs(hub, "control", CONTROL_ENV.CONTROL_PASSWORD);
    conns.push(control);
    await expect(
      control.request(
        "$JS.API.CONSUMER.CREATE.EVENTS_ENRICHED.warehouse-loader",
        JSON.stringify({ stream_name: "EVENTS_ENRICHED", config: loader }),
        { timeout: 2000 },
      ),
    ).rejects.toThrow(/Permissions Violation/);
    await expect(control.request("$JS.API.STREAM.DELETE.CONTROL_AUDIT", undefined, { timeout: 2000 })).rejects.toThrow(
      /Permissions Violation/,
    );
    // Erasure reads the event streams through its one consumer name; no other name, and no
    // nameless create (whose body could name any consumer).
    for (const subject of ["$JS.API.CONSUMER.CREATE.EVENTS.enricher", "$JS.API.CONSUMER.CREATE.EVENTS"])
      await expect(
        control.request(subject, JSON.stringify({ stream_name: "EVENTS", config: { name: "enricher" } }), {
          timeout: 2000,
        }),
      ).rejects.toThrow(/Permissions Violation/);
  }, 30_000);
});
