import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { startNatsServer, waitFor, type NatsServer } from "@tributary/testkit";
import {
  connectNats,
  ensureConsumer,
  ensureStream,
  hubSourceConsumerConfig,
  hubStreamConfig,
  regionalStreamConfig,
  regionalStreamName,
  renderHubServerConfig,
  renderRegionServerConfig,
} from "../src/index.js";

const cred = (user: string) => ({ user, password: `${user}-pw` });

describe("what a region can bring into the hub", () => {
  let dir: string;
  const servers: NatsServer[] = [];
  const conns: NatsConnection[] = [];
  let hubAdmin: JetStreamManager;

  const adminOf = async (server: NatsServer) => {
    const nc = await connectNats({ servers: [server.url], name: "sourcing-test", user: "admin", pass: "admin-pw" });
    conns.push(nc);
    return nc;
  };

  async function startRegion(region: string, hub: NatsServer): Promise<NatsServer> {
    const server = await startNatsServer({
      name: region,
      dir: join(dir, region),
      config: (ctx) =>
        renderRegionServerConfig({
          insecurePlaintext: true,
          region,
          storeDir: ctx.storeDir,
          port: ctx.port,
          hubLeafnodeUrl: `nats-leaf://127.0.0.1:${hub.ports.leafnode}`,
          admin: cred("admin"),
          gateway: cred(`gateway-${region}`),
          leaf: cred(`leaf-${region}`),
        }),
    });
    servers.push(server);
    return server;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "streams-sourcing-"));
    const hub = await startNatsServer({
      name: "hub",
      dir: join(dir, "hub"),
      leafnodeListener: true,
      config: (ctx) =>
        renderHubServerConfig({
          insecurePlaintext: true,
          storeDir: ctx.storeDir,
          port: ctx.port,
          leafnodePort: ctx.leafnodePort,
          admin: cred("admin"),
          aggregator: cred("aggregator"),
          aggregatorDurable: "warehouse-loader",
          leafs: ["us", "ap"].map((region) => ({ region, credential: cred(`leaf-${region}`) })),
        }),
    });
    servers.push(hub);
    const us = await startRegion("us", hub);
    const ap = await startRegion("ap", hub);

    // us is provisioned as packages/streams says, but its stream also holds eu's subjects (a
    // mistaken or hostile edit in the region). ap's admin is hostile: its stream holds us's
    // subjects and its hub-source consumer has no filter.
    const usNc = await adminOf(us);
    const usJsm = await jetstreamManager(usNc);
    await ensureStream(usJsm, {
      ...regionalStreamConfig({ region: "us", maxBytes: 64 * 1024 ** 2 }),
      subjects: ["events.us.>", "events.eu.>"],
    });
    await ensureConsumer(usJsm, regionalStreamName("us"), hubSourceConsumerConfig("us"));
    const apNc = await adminOf(ap);
    const apJsm = await jetstreamManager(apNc);
    await ensureStream(apJsm, {
      ...regionalStreamConfig({ region: "ap", maxBytes: 64 * 1024 ** 2 }),
      subjects: ["events.ap.>", "events.us.>"],
    });
    const { filter_subject: _filter, ...unfiltered } = hubSourceConsumerConfig("ap");
    await ensureConsumer(apJsm, regionalStreamName("ap"), unfiltered);

    hubAdmin = await jetstreamManager(await adminOf(hub));
    await ensureStream(hubAdmin, hubStreamConfig({ regions: ["us", "ap"], maxBytes: 64 * 1024 ** 2 }));

    const publish = (nc: NatsConnection, subject: string) => jetstream(nc).publish(subject, `{"at":"${subject}"}`);
    await publish(usNc, "events.us.demo.one");
    await publish(usNc, "events.eu.demo.forged");
    await publish(usNc, "events.us.demo.two");
    await publish(apNc, "events.us.stripe.forged");
    await publish(apNc, "events.ap.demo.own");
  }, 60_000);
  afterAll(async () => {
    for (const nc of conns) await nc.close().catch(() => undefined);
    for (const s of servers.reverse()) await s.cleanup().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("M9 - a forged other-region subject does not enter the hub: a region brings only events of its own region", async () => {
    const stored = async () => {
      const info = await hubAdmin.streams.info("EVENTS");
      const subjects: string[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const m = await hubAdmin.streams.getMessage("EVENTS", { seq });
        if (m) subjects.push(`${m.subject} <- ${m.json<{ at: string }>().at}`);
      }
      return subjects.sort();
    };
    // Every source has caught up with its region (3 messages in us's stream, 2 in ap's).
    await waitFor(
      "both regions sourced to their end",
      async () => {
        const sources = (await hubAdmin.streams.info("EVENTS")).sources ?? [];
        return sources.length === 2 && sources.every((s) => s.lag === 0 && s.active >= 0) ? true : undefined;
      },
      20_000,
      100,
    );
    await waitFor(
      "the hub holds what the regions may bring",
      async () => ((await stored()).length >= 3 ? true : undefined),
      20_000,
      100,
    );
    await new Promise((r) => setTimeout(r, 1_500)); // anything still on its way
    expect(await stored()).toEqual([
      // ap's copy of a us subject is stored as ap's: it cannot pass for region us.
      "events.ap.demo.own <- events.ap.demo.own",
      "events.ap.stripe.forged <- events.us.stripe.forged",
      "events.us.demo.one <- events.us.demo.one",
      "events.us.demo.two <- events.us.demo.two",
    ]);
  });
});
