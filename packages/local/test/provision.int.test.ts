import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsServer, type NatsServer } from "@tributary/processes";
import { connectNats, deliveryConsumerConfig, deliveryFilterSubjects, renderHubServerConfig } from "@tributary/streams";
import { deliveryScopeOf } from "../src/index.js";
import { provision } from "../src/provision.js";

const cred = (user: string) => ({ user, password: `${user}-pw` });

describe("provision - delivery consumers follow their destinations", () => {
  let dir: string;
  let hub: NatsServer;
  // crm took `other` events before; now it takes demo's link.clicked.
  const crm = { name: "crm", sources: ["demo"], types: ["link.clicked"] };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "local-provision-"));
    hub = await startNatsServer({
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
          leafs: [],
          delivery: { credential: cred("delivery"), destinations: [deliveryScopeOf(crm)] },
        }),
    });
  });
  afterAll(async () => {
    await hub?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivery filters - a destination whose sources or types changed gets its consumer moved to them, so its own user can update it again", async () => {
    const part = { nodes: [hub], cluster: undefined };
    await provision(part, new Map(), cred("admin"));
    const admin = await connectNats({ servers: [hub.url], name: "admin", user: "admin", pass: "admin-pw" });
    const delivery = await connectNats({ servers: [hub.url], name: "delivery", user: "delivery", pass: "delivery-pw" });
    try {
      const config = (sources: string[], types: string[]) =>
        deliveryConsumerConfig({
          destination: "crm",
          filterSubjects: deliveryFilterSubjects(sources, types),
          maxAckPending: 16,
          ackWaitMs: 30_000,
        });
      // The consumer as a previous run left it.
      await (await jetstreamManager(admin)).consumers.add("EVENTS_ENRICHED", config(["other"], []));
      const jsm = await jetstreamManager(delivery, { timeout: 2_000 });
      // The process's first step at start (an update sent with the consumer's current filter): refused.
      await expect(jsm.consumers.update("EVENTS_ENRICHED", "delivery-crm", { max_ack_pending: 32 })).rejects.toThrow(
        /Permissions Violation/,
      );
      await provision(part, new Map(), cred("admin"), [crm]);
      const updated = await jsm.consumers.update("EVENTS_ENRICHED", "delivery-crm", { max_ack_pending: 32 });
      expect(updated.config.filter_subject).toBe("events.*.demo.link.clicked");
      expect(updated.config.max_ack_pending).toBe(32);
    } finally {
      await delivery.close();
      await admin.close();
    }
  });
});
