import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "@tributary/processes";
import { DEFAULT_TOPOLOGY, signWebhookHmacSha256, startTopology, type Topology } from "../src/index.js";

/** What a gateway answered a signed event of `source` (signed with `secret`). */
async function send(gatewayUrl: string, source: string, secret: string): Promise<{ status: number; code?: string }> {
  const body = JSON.stringify({
    event_id: randomUUID(),
    type: "link.clicked",
    occurred_at: new Date().toISOString(),
    data: { link_id: "l1" },
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

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${topology.aggregatorUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (res.status === 204 ? undefined : await res.json()) as Record<string, any> };
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
    token = readFileSync(join(stateDir, "secrets", "api-token"), "utf8").trim();
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
});
