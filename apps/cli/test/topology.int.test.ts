import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleEvent, waitFor } from "@tributary/testkit";
import { readSecret } from "@tributary/local";
import { curlExample, sendSamples } from "../src/index.js";
import { startTestTopology } from "./harness.js";

const run = promisify(execFile);

describe("tributary up (the README's start command): a hub, two regions, the aggregator", () => {
  let topology: Awaited<ReturnType<typeof startTestTopology>>;
  beforeAll(async () => {
    topology = await startTestTopology();
  }, 90_000);
  afterAll(async () => {
    await topology?.cleanup();
  });

  async function rows(): Promise<Array<{ event_key: string; region: string }>> {
    const res = await fetch(`${topology.aggregatorUrl}/v1/events?limit=1000`);
    return ((await res.json()) as { data: Array<{ event_key: string; region: string }> }).data;
  }

  it("local - the printed curl command, pasted into a shell, gets a 202 and lands as a row via the hub", async () => {
    const us = topology.regions.get("us")!;
    const { stdout } = await run("bash", ["-c", curlExample(us.gatewayUrl, "demo", topology.secretFile)]);
    const answer = JSON.parse(stdout) as { status: string; event_key: string };
    expect(answer.status).toBe("accepted");
    await waitFor(
      "the curl event in DuckDB",
      async () =>
        (await rows()).some((r) => r.event_key === answer.event_key && r.region === "us") ? true : undefined,
      30_000,
    );
  });

  it("local - `tributary send` to each region: every event lands with its region", async () => {
    const secret = readSecret(topology.secretFile);
    const keys = new Map<string, string>();
    for (const region of ["us", "eu"]) {
      const results = await sendSamples({
        url: topology.regions.get(region)!.gatewayUrl,
        source: "demo",
        secret,
        type: "install.tracked",
        count: 3,
      });
      expect(results.map((r) => r.status)).toEqual([202, 202, 202]);
      for (const r of results) keys.set((r.body as { event_key: string }).event_key, region);
    }
    await waitFor(
      "6 rows",
      async () => {
        const stored = new Map((await rows()).map((r) => [r.event_key, r.region]));
        return [...keys].every(([k, region]) => stored.get(k) === region) ? true : undefined;
      },
      30_000,
    );
  });

  it("least privilege - a gateway's NATS user cannot publish into another region or read the hub", async () => {
    const { connectNats, eventSubject, publishEvent } = await import("@tributary/streams");
    const { jetstream, jetstreamManager } = await import("@nats-io/jetstream");
    const creds = topology.credentials.gateways.us!;
    const nc = await connectNats({
      servers: [topology.regions.get("us")!.nats.url],
      name: "probe",
      user: creds.user,
      pass: creds.password,
    });
    try {
      const js = jetstream(nc);
      const msg = {
        body: new TextEncoder().encode(sampleEvent()),
        eventKey: "demo:probe",
        source: "demo",
        region: "eu",
        eventType: "link.clicked",
        receivedAt: new Date(),
      };
      // Senders see fixed text; NATS's refusal is the error's cause.
      await expect(
        publishEvent(js, { ...msg, subject: eventSubject("eu", "demo", "link.clicked") }, 1000),
      ).rejects.toMatchObject({
        code: "buffer_unavailable",
        cause: { message: expect.stringMatching(/Permissions Violation/) },
      });
      const jsm = await jetstreamManager(nc, { checkAPI: false });
      await expect(jsm.streams.delete("EVENTS_US")).rejects.toThrow(/Permissions Violation/);
    } finally {
      await nc.close();
    }
  });

  it("least privilege - a leafnode link's credentials cannot be used by a client", async () => {
    const { connectNats, NatsCredentialsError } = await import("@tributary/streams");
    const leaf = topology.credentials.leafs.us!;
    await expect(
      connectNats({ servers: [topology.hub.url], name: "probe", user: leaf.user, pass: leaf.password }),
    ).rejects.toBeInstanceOf(NatsCredentialsError);
  });

  it("least privilege - a region's leafnode link reaches only its own region's sourcing: another region's replies, requests and deliveries are refused", async () => {
    const { connectNats } = await import("@tributary/streams");
    const { startNatsServer } = await import("@tributary/testkit");
    // A rogue server holding region eu's link credentials (a compromised region).
    const leaf = topology.credentials.leafs.eu!;
    const rogue = await startNatsServer({
      name: "rogue-eu",
      jetstream: false,
      extraConfig: `leafnodes { remotes: [ { url: ${JSON.stringify(`nats-leaf://${leaf.user}:${encodeURIComponent(leaf.password)}@127.0.0.1:${topology.hub.ports.leafnode}`)} } ] }`,
    });
    const admin = topology.credentials.admin;
    const hub = await connectNats({
      servers: [topology.hub.url],
      name: "probe-hub",
      user: admin.user,
      pass: admin.password,
    });
    const attacker = await connectNats({ servers: [rogue.url], name: "probe-rogue" });
    try {
      // What the hub's account sees: a pending source-consumer reply and both regions' deliveries.
      // The real regions' links carry their hub-source consumers' idle heartbeats there too, so
      // only what the rogue sent (its payloads) counts.
      const seen: string[] = [];
      for (const subject of ["$JSC.R.probe", "_R_.>", "deliver.us.>", "deliver.eu.>"])
        hub.subscribe(subject, {
          callback: (_err, msg) => {
            if (msg.string().startsWith("rogue:")) seen.push(`${msg.subject} ${msg.string()}`);
          },
        });
      await hub.flush();
      // Region eu's own deliveries do reach the hub (the positive control: the rogue link is up).
      await waitFor(
        "the rogue link carries eu's own deliveries",
        async () => {
          attacker.publish("deliver.eu.hub-source", "rogue:own");
          await attacker.flush();
          return seen.includes("deliver.eu.hub-source rogue:own") ? true : undefined;
        },
        15_000,
        200,
      );
      // Another region's reply subject and deliveries never do.
      for (let i = 0; i < 5; i++) {
        attacker.publish("$JSC.R.probe", "rogue:{}");
        attacker.publish("deliver.us.hub-source", "rogue:forged");
        attacker.publish("_R_.probe.x", "rogue:{}");
      }
      await attacker.flush();
      await new Promise((r) => setTimeout(r, 500));
      expect(seen.filter((s) => s !== "deliver.eu.hub-source rogue:own")).toEqual([]);
    } finally {
      await attacker.close();
      await hub.close();
      await rogue.cleanup();
    }
  });

  it("least privilege - wrong credentials fail at connect with a clear error", async () => {
    const { connectNats, NatsCredentialsError } = await import("@tributary/streams");
    const attempt = connectNats({
      servers: [topology.hub.url],
      name: "probe",
      user: "aggregator",
      pass: "wrong",
      waitOnFirstConnect: true,
    });
    await expect(attempt).rejects.toBeInstanceOf(NatsCredentialsError);
    await expect(attempt).rejects.toThrow(/refused user "aggregator"/);
  });
});
