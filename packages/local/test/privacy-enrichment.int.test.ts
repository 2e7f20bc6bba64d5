import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNats, DELIVERY_DLQ_STREAM } from "@tributary/streams";
import { freePorts } from "@tributary/processes";
import { DEFAULT_TOPOLOGY, signWebhookHmacSha256, startTopology, type Topology } from "../src/index.js";

const IPS = { US: "8.8.8.8", AU: "1.1.1.1", GB: "81.2.69.142" } as const;
const UAS = {
  human:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  bot: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
} as const;
const RAW_VALUES = [...Object.values(IPS), ...Object.values(UAS)];

interface Received {
  path: string;
  id: string;
  body: Record<string, any>;
  text: string;
}

async function within(ms: number, check: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Privacy by default and one set of verdicts for the warehouse and every destination, on the local
 * multi-region system: events with client addresses and user agents go through both regions'
 * gateways; the aggregator's enrich stage enriches each once, and the warehouse rows, the API and
 * every destination (and its DLQ) see the same reduced body and the same verdicts.
 */
describe("privacy and enriched events on the local multi-region system", () => {
  let topology: Topology;
  let stateDir: string;
  let endpoint: Server;
  let base: string;
  const received: Received[] = [];
  /** event key -> what was sent */
  const sent = new Map<string, { source: string; country: keyof typeof IPS; agent: keyof typeof UAS }>();

  const api = async (method: string, path: string, payload?: unknown) => {
    const res = await fetch(`${topology.aggregatorUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${topology.apiToken}`,
        ...(payload === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    });
    return { status: res.status, body: (res.status === 204 ? undefined : await res.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), "tributary-privacy-"));
    const [us, eu, aggregatorPort] = await freePorts(3);
    topology = await startTopology({
      ...DEFAULT_TOPOLOGY,
      stateDir,
      hubPort: -1,
      hubLeafnodePort: -1,
      regionPorts: -1,
      gatewayPorts: [us!, eu!],
      aggregatorPort: aggregatorPort!,
      logLevel: "warn",
      // `crm` opts in to raw payloads; every other source gets the default.
      aggregatorOverrides: { enrich: { sources: { crm: { payload: "raw" } } } },
    });
    endpoint = createServer((req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString()));
      req.on("end", () => {
        received.push({ path: req.url ?? "", id: String(req.headers["webhook-id"]), body: JSON.parse(text), text });
        res.writeHead(req.url === "/down" ? 500 : 204).end();
      });
    });
    await new Promise<void>((r) => endpoint.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    endpoint?.close();
    await topology?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("default settings keep no raw IP or full user agent anywhere; destinations filter on the enrichment, get it on request, and agree with the rows on every verdict", async () => {
    const secrets: Record<string, string> = {};
    for (const id of ["shop", "crm"]) {
      const created = await api("POST", "/v1/sources", { id, scheme: { type: "webhook-hmac-sha256" } });
      expect(created.status).toBe(201);
      secrets[id] = created.body.secrets[0].value as string;
    }
    const subscribe = async (id: string, settings: Record<string, unknown>) =>
      expect(
        (await api("POST", "/v1/subscriptions", { id, sources: ["shop", "crm"], start: "all", ...settings })).status,
      ).toBe(201);
    await subscribe("us-humans", {
      url: `${base}/us-humans`,
      filter: 'enrichment.is_bot = false and enrichment.geo_country = "US"',
    });
    await subscribe("enriched", { url: `${base}/enriched`, enriched: true });
    await subscribe("flagged", { url: `${base}/flagged`, types: ["click.flagged"] });
    await subscribe("down", { url: `${base}/down`, retry: { maxAttempts: 1 }, sources: ["shop"] });

    // 12 clicks per source through both regions: every country with a person and a bot.
    const gateways = [...topology.regions.values()].map((r) => r.gatewayUrl);
    const send = async (source: string, country: keyof typeof IPS, agent: keyof typeof UAS, n: number) => {
      const eventId = randomUUID();
      const body = JSON.stringify({
        event_id: eventId,
        type: "link.clicked",
        occurred_at: new Date().toISOString(),
        data: { link_id: `l${n % 3}`, ip: IPS[country], user_agent: UAS[agent], campaign: "spring" },
      });
      const res = await fetch(`${gateways[n % 2]}/v1/sources/${source}/events`, {
        method: "POST",
        headers: signWebhookHmacSha256({ secret: secrets[source]!, body }),
        body,
      });
      return { status: res.status, key: `${source}:${eventId}` };
    };
    await within(15_000, async () => (await send("shop", "GB", "human", 0)).status === 202 && true);
    received.length = 0;
    let n = 0;
    for (const source of ["shop", "crm"])
      for (const country of Object.keys(IPS) as Array<keyof typeof IPS>)
        for (const agent of Object.keys(UAS) as Array<keyof typeof UAS>)
          for (let i = 0; i < 2; i++) {
            const { status, key } = await send(source, country, agent, n++);
            expect(status).toBe(202);
            sent.set(key, { source, country, agent });
          }
    const keys = [...sent.keys()];
    const bots = keys.filter((k) => sent.get(k)!.agent === "bot");
    const usHumans = keys.filter((k) => sent.get(k)!.country === "US" && sent.get(k)!.agent === "human");
    const at = (path: string) =>
      received.filter((r) => r.path === `/${path}` && sent.has(r.body.data?.event_key ?? r.id));
    await within(60_000, async () => {
      const rows = (await api("GET", "/v1/events?limit=1000&include_payload=true")).body.data as any[];
      return (
        keys.every((k) => rows.some((r) => r.event_key === k)) &&
        new Set(at("enriched").map((r) => r.id)).size === keys.length &&
        new Set(at("us-humans").map((r) => r.id)).size === usHumans.length &&
        new Set(at("flagged").map((r) => r.body.data.event_key)).size === bots.length
      );
    });
    const rows = ((await api("GET", "/v1/events?limit=1000&include_payload=true")).body.data as any[]).filter((r) =>
      sent.has(r.event_key),
    );

    // The warehouse and the API: the default source's rows hold no raw value in any column or the
    // payload; the opted-in source's payload keeps them (its columns are reduced all the same).
    for (const row of rows) {
      const { payload, ...columns } = row;
      for (const raw of RAW_VALUES) expect(JSON.stringify(columns)).not.toContain(raw);
      if (row.source === "crm") expect(RAW_VALUES.some((raw) => JSON.stringify(payload).includes(raw))).toBe(true);
      else for (const raw of RAW_VALUES) expect(JSON.stringify(payload)).not.toContain(raw);
    }
    // A filter on the enrichment: exactly the people in the US.
    expect(new Set(at("us-humans").map((r) => r.id))).toEqual(new Set(usHumans));
    // The enriched form: each event's enrichment equals its row's columns, verdict for verdict.
    for (const delivery of at("enriched")) {
      const row = rows.find((r) => r.event_key === delivery.id)!;
      for (const column of ["geo_country", "device_type", "is_bot", "is_unique", "is_suspicious", "suspicious_reason"])
        expect(delivery.body.enrichment[column], `${delivery.id} ${column}`).toEqual(row[column]);
      expect(delivery.body.enrichment.ip_anon).toBe(row.ip_anon);
    }
    // Derived events: a click.flagged for each click judged suspicious (the bots), with the row's reason.
    const flagged = at("flagged");
    expect(new Set(flagged.map((r) => r.body.data.event_key))).toEqual(new Set(bots));
    for (const f of flagged) {
      expect(f.body.type).toBe("click.flagged");
      expect(f.body.data.reason).toBe(rows.find((r) => r.event_key === f.body.data.event_key)!.suspicious_reason);
    }
    // Every body a destination got from the default source, and every entry of a destination's
    // DLQ, holds no raw value; the opted-in source's bodies keep them.
    for (const r of received.filter((x) => sent.has(x.id) || sent.has(x.body.data?.event_key))) {
      const source = sent.get(r.id)?.source ?? sent.get(r.body.data.event_key)!.source;
      if (source === "crm") continue;
      for (const raw of RAW_VALUES) expect(r.text).not.toContain(raw);
    }
    expect(
      received.some((r) => r.path === "/enriched" && sent.get(r.id)?.source === "crm" && r.text.includes(IPS.US)),
    ).toBe(true);
    const admin = topology.credentials.admin;
    const nc = await connectNats({
      servers: [topology.hub.url],
      name: "probe",
      user: admin.user,
      pass: admin.password,
    });
    try {
      const jsm = await jetstreamManager(nc);
      let dead = 0;
      await within(30_000, async () => (await jsm.streams.info(DELIVERY_DLQ_STREAM)).state.messages >= 12);
      const info = await jsm.streams.info(DELIVERY_DLQ_STREAM);
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(DELIVERY_DLQ_STREAM, { seq }).catch(() => undefined);
        if (!m) continue;
        dead++;
        const text = new TextDecoder().decode(m.data);
        for (const raw of RAW_VALUES) expect(text).not.toContain(raw);
      }
      expect(dead).toBeGreaterThanOrEqual(12);
    } finally {
      await nc.close();
    }
  });
});
