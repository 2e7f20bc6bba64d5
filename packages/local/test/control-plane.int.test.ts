import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNats } from "@tributary/streams";
import { freePorts } from "@tributary/processes";
import { DEFAULT_TOPOLOGY, signWebhookHmacSha256, startTopology, type Topology } from "../src/index.js";

/** What a gateway answered a signed event of `source` (signed with `secret`). */
async function send(
  gatewayUrl: string,
  source: string,
  secret: string,
  linkId = "l1",
): Promise<{ status: number; code?: string }> {
  const body = JSON.stringify({
    event_id: randomUUID(),
    type: "link.clicked",
    occurred_at: new Date().toISOString(),
    data: { link_id: linkId },
  });
  const res = await fetch(`${gatewayUrl}/v1/sources/${source}/events`, {
    method: "POST",
    headers: signWebhookHmacSha256({ secret, body }),
    body,
  });
  const json = (await res.json()) as { error?: { code?: string } };
  return { status: res.status, ...(json.error?.code ? { code: json.error.code } : {}) };
}

/** Polls until `check` holds (true), failing after `ms`; returns how long it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

describe("control plane on the local multi-region system - sources changed at runtime, in every region, without a restart", () => {
  let topology: Topology;
  let stateDir: string;
  let token: string;
  const gateways = () => [...topology.regions.values()].map((r) => r.gatewayUrl);
  const pids = () => [...topology.regions.values()].map((r) => r.gateway.process.pid);
  let startPids: Array<number | undefined>;
  const madeSecrets: string[] = [];

  const api = async (method: string, path: string, payload?: unknown) => {
    const res = await fetch(`${topology.aggregatorUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(payload === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    });
    const body = (res.status === 204 ? undefined : await res.json()) as Record<string, any>;
    // Every secret value the API hands out, to look for in the processes' logs at the end.
    for (const value of [body?.signingSecret, body?.value, ...((body?.secrets as any[]) ?? []).map((x) => x?.value)])
      if (typeof value === "string") madeSecrets.push(value);
    return { status: res.status, body };
  };
  const everywhere = async (source: string, secret: string, status: number) =>
    (await Promise.all(gateways().map((url) => send(url, source, secret)))).every((a) => a.status === status);

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), "tributary-control-plane-"));
    const [us, eu, aggregatorPort] = await freePorts(3);
    topology = await startTopology({
      ...DEFAULT_TOPOLOGY,
      stateDir,
      hubPort: -1,
      hubLeafnodePort: -1,
      regionPorts: -1,
      gatewayPorts: [us!, eu!],
      aggregatorPort: aggregatorPort!,
      cuttableLinks: true,
      logLevel: "warn",
    });
    token = topology.apiToken;
    startPids = pids();
  });
  afterAll(async () => {
    await topology?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("create, rotate, retire and delete a source through the API: both regions follow within seconds", async () => {
    expect(await everywhere("acme", "x".repeat(32), 404)).toBe(true);
    const created = await api("POST", "/v1/sources", { id: "acme", scheme: { type: "webhook-hmac-sha256" } });
    expect(created.status).toBe(201);
    const s1 = created.body.secrets[0].value as string;
    const took = await within(10_000, () => everywhere("acme", s1, 202));
    expect(took).toBeLessThan(10_000);

    // Rotation: during the overlap both secrets verify in both regions; once retired, the old one is refused.
    const added = await api("POST", "/v1/sources/acme/secrets", { id: "s2" });
    const s2 = added.body.value as string;
    await within(10_000, () => everywhere("acme", s2, 202));
    expect(await everywhere("acme", s1, 202)).toBe(true);
    // Each secret's last use reaches the API from the events the hub receives: how an operator
    // sees that the old one is no longer sent before retiring it.
    const sentAfter = new Date(Date.now() - 60_000).toISOString();
    await within(20_000, async () => {
      const secrets = (await api("GET", "/v1/sources/acme")).body.secrets as any[];
      return secrets.length === 2 && secrets.every((s) => typeof s.lastUsedAt === "string" && s.lastUsedAt > sentAfter);
    });
    const listed = (await api("GET", "/v1/sources")).body.data.find((s: any) => s.id === "acme");
    expect(listed.secrets.map((s: any) => typeof s.lastUsedAt)).toEqual(["string", "string"]);
    expect((await api("DELETE", "/v1/sources/acme/secrets/s1")).status).toBe(200);
    await within(10_000, () => everywhere("acme", s1, 401));
    expect(await everywhere("acme", s2, 202)).toBe(true);

    expect((await api("DELETE", "/v1/sources/acme")).status).toBe(204);
    await within(10_000, async () =>
      (await Promise.all(gateways().map((url) => send(url, "acme", s2)))).every(
        (a) => a.status === 404 && a.code === "unknown_source",
      ),
    );
    expect(pids()).toEqual(startPids); // no process was restarted
  });

  it("with the hub out of reach the regions verify with what they have; a change made meanwhile arrives when the link returns", async () => {
    const created = await api("POST", "/v1/sources", { id: "steady", scheme: { type: "webhook-hmac-sha256" } });
    const steady = created.body.secrets[0].value as string;
    await within(10_000, () => everywhere("steady", steady, 202));

    const link = [...topology.regions.values()][0]!.link!;
    link.cut();
    try {
      // The regional streams take the events while the hub is away: 202 from the config each region kept.
      expect(await everywhere("steady", steady, 202)).toBe(true);
      const late = await api("POST", "/v1/sources", { id: "late", scheme: { type: "webhook-hmac-sha256" } });
      expect(late.status).toBe(201);
      const lateSecret = late.body.secrets[0].value as string;
      await new Promise((r) => setTimeout(r, 2000));
      expect(await everywhere("late", lateSecret, 404)).toBe(true);
      link.restore();
      const took = await within(30_000, () => everywhere("late", lateSecret, 202));
      expect(took).toBeLessThan(30_000);
    } finally {
      link.restore();
    }
    expect(pids()).toEqual(startPids);
  });

  it("subscriptions: created, paused with the backlog kept, resumed, resent one and in bulk, refiltered and deleted, all at runtime", async () => {
    const received: Array<{ id: string; body: string; headers: Record<string, string> }> = [];
    const endpoint: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push({ id: String(req.headers["webhook-id"]), body, headers: req.headers as Record<string, string> });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => endpoint.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/hooks`;
    const admin = topology.credentials.admin;
    const nc = await connectNats({
      servers: [topology.hub.url],
      name: "probe",
      user: admin.user,
      pass: admin.password,
    });
    const jsm = await jetstreamManager(nc);
    const consumer = () => jsm.consumers.info("EVENTS_ENRICHED", "delivery-hooks");
    const stats = async () =>
      ((await (await fetch(`${topology.delivery.url}/v1/stats`)).json()) as { destinations: Record<string, any> })
        .destinations.hooks as { paused: boolean; filtered: number } | undefined;
    const ids = (from = 0) => received.slice(from).map((r) => r.id);
    try {
      const source = await api("POST", "/v1/sources", { id: "shop", scheme: { type: "webhook-hmac-sha256" } });
      const secret = source.body.secrets[0].value as string;
      await within(10_000, () => everywhere("shop", secret, 202));
      const created = await api("POST", "/v1/subscriptions", { id: "hooks", url, sources: ["shop"] });
      expect(created.status).toBe(201);
      const signing = new Webhook(created.body.signingSecret as string);
      await within(10_000, async () => (await consumer().catch(() => undefined)) !== undefined);
      const from = new Date();

      // Ten events, five through each region: each delivered once, signed with the secret from the create.
      for (let i = 0; i < 10; i++) expect((await send(gateways()[i % 2]!, "shop", secret)).status).toBe(202);
      await within(20_000, async () => received.length >= 10);
      for (const r of received) expect(signing.verify(r.body, r.headers)).toMatchObject({ type: "link.clicked" });

      // Pause: nothing goes out, the backlog waits in the stream and is counted; resume delivers it all, once each.
      expect((await api("POST", "/v1/subscriptions/hooks/pause", { reason: "maintenance" })).body.paused).toBe(true);
      await within(10_000, async () => (await stats())?.paused === true);
      for (let i = 0; i < 6; i++) await send(gateways()[i % 2]!, "shop", secret);
      // The backlog: waiting in the stream, or taken by a pull that was out when the pause came and held unacked.
      await within(20_000, async () => {
        const info = await consumer();
        return info.num_pending + info.num_ack_pending === 6;
      });
      await new Promise((r) => setTimeout(r, 1000));
      expect(received).toHaveLength(10);
      expect((await api("POST", "/v1/subscriptions/hooks/resume")).body.paused).toBe(false);
      await within(20_000, async () => received.length >= 16);
      await new Promise((r) => setTimeout(r, 1000));
      expect(new Set(ids()).size).toBe(16);
      expect(received).toHaveLength(16);
      const firstSixteen = ids();

      // Resend one event by key, then every event of the time range: the same webhook-id again.
      const key = firstSixteen[3]!;
      await within(30_000, async () => (await api("GET", `/v1/events/${encodeURIComponent(key)}`)).status === 200);
      expect((await api("POST", "/v1/subscriptions/hooks/resend", { key })).status).toBe(202);
      await within(10_000, async () => received.length >= 17);
      expect(received[16]!.id).toBe(key);
      const range = { from: from.toISOString(), to: new Date().toISOString() };
      const dry = await api("POST", "/v1/subscriptions/hooks/resend-bulk", range);
      expect(dry.body).toMatchObject({ dryRun: true, matched: 16, resent: 0 });
      expect(received).toHaveLength(17);
      const bulk = await api("POST", "/v1/subscriptions/hooks/resend-bulk", { ...range, dryRun: false });
      expect(bulk.body).toMatchObject({ dryRun: false, matched: 16, resent: 16 });
      await within(20_000, async () => received.length >= 33);
      expect(ids(17).sort()).toEqual([...firstSixteen].sort());

      // A new filter: once it runs, only the events it picks are delivered.
      const before = (await stats())!.filtered;
      await api("PATCH", "/v1/subscriptions/hooks", { filter: "body.data.link_id = 'keep'" });
      await within(20_000, async () => {
        await send(gateways()[0]!, "shop", secret, "drop");
        await new Promise((r) => setTimeout(r, 300));
        return ((await stats())?.filtered ?? 0) > before;
      });
      const mark = received.length;
      for (let i = 0; i < 4; i++) {
        await send(gateways()[i % 2]!, "shop", secret, "keep");
        await send(gateways()[i % 2]!, "shop", secret, "drop");
      }
      await within(20_000, async () => received.length >= mark + 4);
      await new Promise((r) => setTimeout(r, 1000));
      expect(received.slice(mark).map((r) => JSON.parse(r.body).data.link_id)).toEqual([
        "keep",
        "keep",
        "keep",
        "keep",
      ]);

      // Deleted: its consumer is gone.
      expect((await api("DELETE", "/v1/subscriptions/hooks")).status).toBe(204);
      await within(10_000, async () => (await consumer().catch(() => undefined)) === undefined);
      expect(pids()).toEqual(startPids);
    } catch (err) {
      console.error(`received ${received.length}; the delivery process said:`, topology.delivery.service.output());
      throw err;
    } finally {
      await nc.close();
      endpoint.close();
    }
  });

  it("a subscription whose endpoint is down trips its breaker within seconds and, after its pauseAfterMs, is paused in its record, audited and announced", async () => {
    // An operator's endpoint subscribed to the pause event.
    const announced: Array<{ body: string; headers: Record<string, string> }> = [];
    const ops: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        announced.push({ body, headers: req.headers as Record<string, string> });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => ops.listen(0, "127.0.0.1", r));
    const watcher = await api("POST", "/v1/subscriptions", {
      id: "ops",
      url: `http://127.0.0.1:${(ops.address() as AddressInfo).port}/alerts`,
      types: ["tributary.subscription.paused"],
    });
    expect(watcher.status).toBe(201);
    const source = await api("POST", "/v1/sources", { id: "down", scheme: { type: "webhook-hmac-sha256" } });
    const secret = source.body.secrets[0].value as string;
    await within(10_000, () => everywhere("down", secret, 202));
    const [closedPort] = await freePorts(1); // nothing listens there
    const created = await api("POST", "/v1/subscriptions", {
      id: "gone",
      url: `http://127.0.0.1:${closedPort}/hooks`,
      sources: ["down"],
      retry: { initialDelayMs: 100, maxDelayMs: 500 },
      breaker: { halfOpenAfterMs: 500, maxHalfOpenAfterMs: 1000, pauseAfterMs: 3000 },
    });
    expect(created.status).toBe(201);
    const stats = async () =>
      ((await (await fetch(`${topology.delivery.url}/v1/stats`)).json()) as { destinations: Record<string, any> })
        .destinations.gone as { breakerState: string; paused: boolean } | undefined;
    await within(10_000, async () => (await stats()) !== undefined);
    for (let i = 0; i < 5; i++) await send(gateways()[i % 2]!, "down", secret);
    const opened = await within(10_000, async () => (await stats())?.breakerState !== "closed");
    expect(opened).toBeLessThan(10_000);
    // The API shows it too: the breaker as the delivery process reported it (apps/delivery health.ts),
    // and the failed attempts of the last hour from the delivery log in the warehouse.
    const health = async () => (await api("GET", "/v1/subscriptions/gone")).body.health as Record<string, unknown>;
    await within(10_000, async () => ["open", "half-open"].includes((await health()).breaker as string));
    await within(20_000, async () => ((await health()).attempts as number) > 0);
    expect(await health()).toMatchObject({ successRate: 0, backlog: { pending: expect.any(Number) } });
    await within(20_000, async () => (await api("GET", "/v1/subscriptions/gone")).body.paused === true);
    const record = (await api("GET", "/v1/subscriptions/gone")).body;
    expect(record.pausedReason).toMatch(/^automatic: /);
    const audit = (await api("GET", "/v1/audit?kind=subscriptions&id=gone")).body.data as Array<{
      action: string;
      actor: string;
    }>;
    expect(audit.map((a) => `${a.actor}:${a.action}`)).toContain("delivery:auto_pause");
    expect((await stats())?.paused).toBe(true);
    await within(10_000, async () => announced.length >= 1);
    const event = new Webhook(watcher.body.signingSecret as string).verify(announced[0]!.body, announced[0]!.headers);
    expect(event).toMatchObject({ type: "tributary.subscription.paused", data: { subscription: "gone" } });
    ops.close();
  });

  it("no secret value made by the API appears in any process's log", () => {
    const logs = [
      topology.aggregator.output(),
      topology.delivery.service.output(),
      ...[...topology.regions.values()].map((r) => r.gateway.output()),
    ].join("\n");
    expect(madeSecrets.length).toBeGreaterThan(5);
    for (const secret of madeSecrets) expect(logs).not.toContain(secret.replace(/^whsec_/, ""));
  });
});
