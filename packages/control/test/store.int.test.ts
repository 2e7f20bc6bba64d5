import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsServer, type NatsServer } from "@tributary/testkit";
import { ControlStore, ControlStoreError, type RecordChange } from "../src/index.js";

interface SourceRecord {
  scheme: string;
  tolerance: number;
}

async function eventually(check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("control store - hub bucket and a region's mirror over a leafnode", () => {
  let dir: string;
  let hub: NatsServer;
  let region: NatsServer;
  const conns: NatsConnection[] = [];
  let hubStore: ControlStore;
  let regionStore: ControlStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "control-store-"));
    hub = await startNatsServer({
      name: "hub",
      domain: "hub",
      dir: join(dir, "hub"),
      leafnodeListener: true,
      extraConfig: "leafnodes { host: 127.0.0.1, port: -1 }",
    });
    region = await startNatsServer({
      name: "us",
      domain: "us",
      dir: join(dir, "us"),
      extraConfig: `leafnodes { remotes: [ { url: "nats://127.0.0.1:${hub.ports.leafnode}" } ] }`,
    });
    const hubConn = await connect({ servers: hub.url });
    const regionConn = await connect({ servers: region.url });
    conns.push(hubConn, regionConn);
    hubStore = await ControlStore.hub(jetstream(hubConn));
    regionStore = await ControlStore.regionMirror(jetstream(regionConn), "us");
  });
  afterAll(async () => {
    for (const nc of conns) await nc.close().catch(() => undefined);
    await region?.cleanup();
    await hub?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records - create, read, compare-and-set update and delete at the hub, with codes for conflicts", async () => {
    const revision = await hubStore.create<SourceRecord>("sources", "shop", { scheme: "hmac", tolerance: 300 });
    await expect(hubStore.create("sources", "shop", { scheme: "x", tolerance: 1 })).rejects.toMatchObject({
      code: "revision_conflict",
    });
    const next = await hubStore.update<SourceRecord>("sources", "shop", { scheme: "hmac", tolerance: 120 }, revision);
    await expect(
      hubStore.update("sources", "shop", { scheme: "stale", tolerance: 1 }, revision),
    ).rejects.toBeInstanceOf(ControlStoreError);
    expect(await hubStore.get<SourceRecord>("sources", "shop")).toEqual({
      kind: "sources",
      id: "shop",
      revision: next,
      value: { scheme: "hmac", tolerance: 120 },
    });
    await hubStore.create("sources", "billing", { scheme: "stripe", tolerance: 300 });
    expect((await hubStore.list("sources")).map((r) => r.id)).toEqual(["billing", "shop"]);
    await hubStore.delete("sources", "billing");
    expect(await hubStore.get("sources", "billing")).toBeUndefined();
    await expect(hubStore.delete("sources", "billing")).rejects.toMatchObject({ code: "not_found" });
    await expect(hubStore.get("sources", "Bad.Id")).rejects.toMatchObject({ code: "invalid_id" });
  });

  it("mirror - a region sees hub changes within seconds, refuses writes, and keeps its records while the hub is down", async () => {
    await hubStore.create<SourceRecord>("sources", "mirrored", { scheme: "github", tolerance: 0 });
    await eventually(async () => (await regionStore.get("sources", "mirrored")) !== undefined);
    await expect(regionStore.create("sources", "local", { scheme: "x", tolerance: 1 })).rejects.toMatchObject({
      code: "read_only",
    });

    await hub.stop();
    expect((await regionStore.get<SourceRecord>("sources", "mirrored"))?.value).toEqual({
      scheme: "github",
      tolerance: 0,
    });
    await hub.restart();
    const hubConn = await connect({ servers: hub.url });
    conns.push(hubConn);
    hubStore = await ControlStore.hub(jetstream(hubConn));
    await hubStore.create<SourceRecord>("sources", "after", { scheme: "shopify", tolerance: 0 });
    await eventually(async () => (await regionStore.get("sources", "after")) !== undefined, 30_000);
  });

  it("watch - the current records first, then each change and deletion, in the region too", async () => {
    const seen: RecordChange<SourceRecord>[] = [];
    const watcher = await regionStore.watch<SourceRecord>("sources", (change) => {
      seen.push(change);
    });
    await watcher.ready;
    const initial = seen.map((c) => c.id).sort();
    expect(initial).toEqual(expect.arrayContaining(["after", "mirrored", "shop"]));
    await hubStore.create<SourceRecord>("sources", "watched", { scheme: "hmac", tolerance: 60 });
    await eventually(() => seen.some((c) => c.id === "watched" && c.value?.tolerance === 60));
    await hubStore.delete("sources", "watched");
    await eventually(() => seen.some((c) => c.id === "watched" && c.value === undefined));
    watcher.stop();
  });
  it("breaker reports - written under health.<id> apart from the records, read one by one or all, refused in a region", async () => {
    const report = {
      state: "open" as const,
      reason: "5 in a row",
      since: "2026-12-07T10:00:00.000Z",
      reportedAt: "2026-12-07T10:00:05.000Z",
    };
    await hubStore.reportBreaker("crm", report);
    await hubStore.reportBreaker("slack", {
      state: "closed",
      since: "2026-12-07T09:00:00.000Z",
      reportedAt: "2026-12-07T10:00:05.000Z",
    });
    expect(await hubStore.breakerReport("crm")).toEqual(report);
    expect(await hubStore.breakerReport("absent")).toBeUndefined();
    expect([...(await hubStore.breakerReports()).keys()].sort()).toEqual(["crm", "slack"]);
    expect(await hubStore.list("subscriptions")).toEqual([]);
    await expect(regionStore.reportBreaker("crm", report)).rejects.toMatchObject({ code: "read_only" });
  });
});
