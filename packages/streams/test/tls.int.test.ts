import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  findNatsServer,
  startNatsServer,
  testCertificates,
  waitFor,
  type NatsServer,
  type TestCertificates,
} from "@tributary/testkit";
import {
  connectNats,
  ensureConsumer,
  ensureStream,
  eventSubject,
  hubSourceConsumerConfig,
  hubStreamConfig,
  publishEvent,
  regionalStreamConfig,
  regionalStreamName,
  renderHubServerConfig,
  renderRegionServerConfig,
  type HubServerOptions,
  type RegionServerOptions,
} from "../src/index.js";

const run = promisify(execFile);
const cred = (user: string) => ({ user, password: `${user}-pw` });

describe("TLS on every listener and link of the rendered servers", () => {
  let dir: string;
  let certs: TestCertificates;
  const servers: NatsServer[] = [];
  const conns: NatsConnection[] = [];

  const hubOptions = (ctx: { storeDir: string; port: number; leafnodePort: number }): HubServerOptions => {
    const tls = { certFile: certs.certFile, keyFile: certs.keyFile, caFile: certs.caFile };
    return {
      storeDir: ctx.storeDir,
      port: ctx.port,
      leafnodePort: ctx.leafnodePort,
      admin: cred("admin"),
      aggregator: cred("aggregator"),
      aggregatorDurable: "warehouse-loader",
      leafs: [{ region: "us", credential: cred("leaf-us") }],
      tls,
      leafnodeTls: tls,
    };
  };
  const regionOptions = (
    ctx: { storeDir: string; port: number },
    hubLeafnodeUrl: string,
    hubCa: string,
  ): RegionServerOptions => ({
    region: "us",
    storeDir: ctx.storeDir,
    port: ctx.port,
    hubLeafnodeUrl,
    admin: cred("admin"),
    gateway: cred("gateway-us"),
    leaf: cred("leaf-us"),
    tls: { certFile: certs.certFile, keyFile: certs.keyFile },
    hubTls: { caFile: hubCa },
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "streams-tls-"));
    certs = await testCertificates(dir);
  });
  afterAll(async () => {
    for (const nc of conns) await nc.close().catch(() => undefined);
    for (const s of servers.reverse()) await s.cleanup().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("H2 - nats-server -t accepts the hub and region configs rendered with TLS, a cluster node's mutual-TLS routes included", async () => {
    const region = renderRegionServerConfig({
      ...regionOptions({ storeDir: join(dir, "r"), port: 4222 }, "$HUB_LEAFNODE_URL", certs.caFile),
      host: "0.0.0.0",
      serverName: "tributary-us-1",
      cluster: {
        name: "tributary-us",
        port: 6222,
        routes: ["nats-route://127.0.0.1:6223"],
        credential: { user: "route", password: "route-pw" },
        tls: { certFile: certs.certFile, keyFile: certs.keyFile, caFile: certs.caFile, verify: true },
      },
    });
    const hub = renderHubServerConfig({
      ...hubOptions({ storeDir: join(dir, "h"), port: 4222, leafnodePort: 7422 }),
      host: "0.0.0.0",
    });
    for (const [name, text] of Object.entries({ region, hub })) {
      expect(text, name).toContain("tls {");
      const file = join(dir, `${name}.conf`);
      writeFileSync(file, text);
      const { stdout, stderr } = await run(findNatsServer(), ["-t", "-c", file], {
        env: { ...process.env, HUB_LEAFNODE_URL: "nats-leaf://leaf-us:leaf-us-pw@127.0.0.1:7422" },
      });
      expect(`${stdout}${stderr}`, name).toMatch(/is valid/);
    }
  });

  it("H2 - a hub and a region run from the rendered TLS configs: the leafnode link forms over TLS and an event crosses it; clients need the CA", async () => {
    const hub = await startNatsServer({
      name: "hub",
      dir: join(dir, "hub"),
      leafnodeListener: true,
      config: (ctx) => renderHubServerConfig(hubOptions(ctx)),
    });
    servers.push(hub);
    const region = await startNatsServer({
      name: "us",
      dir: join(dir, "us"),
      config: (ctx) =>
        renderRegionServerConfig(regionOptions(ctx, `nats-leaf://127.0.0.1:${hub.ports.leafnode}`, certs.caFile)),
    });
    servers.push(region);

    const tls = { caFile: certs.caFile };
    const connectAs = async (server: NatsServer, user: string) => {
      const nc = await connectNats({ servers: [server.url], name: "tls-test", user, pass: `${user}-pw`, tls });
      conns.push(nc);
      return nc;
    };
    const regionAdmin = await jetstreamManager(await connectAs(region, "admin"));
    await ensureStream(regionAdmin, regionalStreamConfig({ region: "us", maxBytes: 64 * 1024 ** 2 }));
    await ensureConsumer(regionAdmin, regionalStreamName("us"), hubSourceConsumerConfig("us"));
    const hubAdmin = await jetstreamManager(await connectAs(hub, "admin"));
    await ensureStream(hubAdmin, hubStreamConfig({ regions: ["us"], maxBytes: 64 * 1024 ** 2 }));

    const gateway = await connectAs(region, "gateway-us");
    const ack = await publishEvent(jetstream(gateway), {
      subject: eventSubject("us", "demo", "link.clicked"),
      body: new TextEncoder().encode("{}"),
      eventKey: "demo:tls-1",
      source: "demo",
      region: "us",
      eventType: "link.clicked",
      receivedAt: new Date(),
    });
    expect(ack.seq).toBe(1);
    await waitFor(
      "the event in the hub over the TLS leafnode link",
      async () => ((await hubAdmin.streams.info("EVENTS")).state.messages === 1 ? true : undefined),
      20_000,
      100,
    );
    // The hub's leafnode listener and both client ports require TLS.
    const varz = async (server: NatsServer) =>
      (await (await fetch(`http://127.0.0.1:${server.ports.monitoring}/varz`)).json()) as {
        tls_required?: boolean;
        leaf?: { tls_required?: boolean };
      };
    expect((await varz(hub)).leaf?.tls_required).toBe(true);
    expect((await varz(hub)).tls_required).toBe(true);
    expect((await varz(region)).tls_required).toBe(true);
    // A client that trusts another CA does not get in.
    await expect(
      connectNats({
        servers: [region.url],
        name: "stranger",
        user: "admin",
        pass: "admin-pw",
        tls: { caFile: certs.stranger.caFile },
      }),
    ).rejects.toThrow();
  }, 60_000);
});
