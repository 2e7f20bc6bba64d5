import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhookHmacSha256 } from "@tributary/local";
import {
  connectNats,
  DELIVERY_DLQ_STREAM,
  ENRICHED_STREAM,
  eventKeyOf,
  HUB_STREAM,
  readStreamRange,
  regionalStreamName,
} from "@tributary/streams";
import { ManagementApi } from "../src/ops/api.js";
import { readContext, type OperatorContext } from "../src/ops/context.js";
import { erase } from "../src/ops/erase.js";
import { reconcile } from "../src/ops/reconcile.js";
import { collectStatus } from "../src/ops/status.js";
import { eraseText } from "../src/render/management.js";
import { startTestTopology } from "./harness.js";

const VISITOR = {
  ip: "8.8.8.8",
  ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
};
const OTHER = { ip: "1.1.1.1", ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0.0.0" };

async function within(ms: number, check: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Keys of the messages of a stream (headers only), per key how many copies. */
async function keysIn(jsm: JetStreamManager, nc: Parameters<typeof readStreamRange>[0], stream: string) {
  const info = await jsm.streams.info(stream);
  const keys = new Map<string, number>();
  if (info.state.messages === 0) return keys;
  await readStreamRange(
    nc,
    { stream, fromSeq: info.state.first_seq, toSeq: info.state.last_seq, headersOnly: true },
    (m) => {
      const key = eventKeyOf(m.headers);
      if (key) keys.set(key, (keys.get(key) ?? 0) + 1);
    },
  );
  return keys;
}

/**
 * The data lifecycle on the local multi-region system: one visitor's erasure counted in every
 * place an event is kept (rows, delivery log, the hub's and the regions' streams, a destination's
 * DLQ), reconciliation still clean; then a tiny events retention that deletes the rows while the
 * rollups keep their counts, visible in `status`.
 */
describe("erasure and retention on the local system", () => {
  let topology: Awaited<ReturnType<typeof startTestTopology>>;
  let context: OperatorContext;
  let endpoint: Server;
  let base: string;
  const received: string[] = [];

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
    topology = await startTestTopology();
    context = readContext(join(topology.stateDir, "context.json"));
    endpoint = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        received.push(String(req.headers["webhook-id"]));
        res.writeHead(req.url === "/down" ? 500 : 204).end();
      });
    });
    await new Promise<void>((r) => endpoint.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    endpoint?.close();
    await topology?.cleanup();
  });

  it("erases one visitor everywhere, counted before and after; reconcile reports it as erased; retention then deletes the rows and keeps the rollups", async () => {
    const created = await api("POST", "/v1/sources", { id: "shop", scheme: { type: "webhook-hmac-sha256" } });
    expect(created.status).toBe(201);
    const secret = created.body.secrets[0].value as string;
    for (const [id, path] of [
      ["ok", "/ok"],
      ["down", "/down"],
    ])
      expect(
        (
          await api("POST", "/v1/subscriptions", {
            id,
            url: `${base}${path}`,
            sources: ["shop"],
            start: "all",
            retry: { maxAttempts: 1 },
          })
        ).status,
      ).toBe(201);

    // Four clicks of the visitor and four of another, through both regions.
    const gateways = [...topology.regions.values()].map((r) => r.gatewayUrl);
    const send = async (who: typeof VISITOR, n: number) => {
      const eventId = randomUUID();
      const body = JSON.stringify({
        event_id: eventId,
        type: "link.clicked",
        occurred_at: new Date().toISOString(),
        data: { link_id: "l1", ip: who.ip, user_agent: who.ua },
      });
      const res = await fetch(`${gateways[n % 2]}/v1/sources/shop/events`, {
        method: "POST",
        headers: signWebhookHmacSha256({ secret, body }),
        body,
      });
      return { status: res.status, key: `shop:${eventId}` };
    };
    let first = await send(OTHER, 0);
    await within(15_000, async () => first.status === 202 || (first = await send(OTHER, 0)).status === 202);
    const others = [first.key];
    const visitor: string[] = [];
    for (let n = 1; n < 8; n++) {
      const who = n % 2 === 0 ? OTHER : VISITOR;
      const { status, key } = await send(who, n);
      expect(status).toBe(202);
      (who === VISITOR ? visitor : others).push(key);
    }
    expect(visitor).toHaveLength(4);
    const all = [...visitor, ...others];
    const admin = topology.credentials.admin;
    const hub = await connectNats({
      servers: [topology.hub.url],
      name: "probe",
      user: admin.user,
      pass: admin.password,
    });
    const regionNcs = await Promise.all(
      [...topology.regions.values()].map((r) =>
        connectNats({ servers: [r.nats.url], name: "probe", user: admin.user, pass: admin.password }),
      ),
    );
    try {
      const jsm = await jetstreamManager(hub);
      // The operator's read of the delivery log (token-less from loopback on the local system): it
      // answers for keys whose rows are gone too.
      const deliveryLog = async (keys: string[]) => {
        let n = 0;
        for (const key of keys) {
          const res = await fetch(`${topology.aggregatorUrl}/v1/deliveries?event_key=${encodeURIComponent(key)}`);
          n += ((await res.json()) as { total: number }).total;
        }
        return n;
      };
      // Loaded, delivered to `ok`, dead-lettered by `down`, and every attempt in the delivery log.
      await within(60_000, async () => {
        const rows = (await api("GET", "/v1/events?limit=100&source=shop")).body.data as any[];
        const dlq = await keysIn(jsm, hub, DELIVERY_DLQ_STREAM);
        return (
          all.every((k) => rows.some((r) => r.event_key === k)) &&
          all.every((k) => dlq.has(k)) &&
          (await deliveryLog(all)) === 16
        );
      });

      // Before: every place holds each event.
      const count = async (keys: string[]) => {
        const inStream = async (stream: string, nc = hub, m = jsm) => {
          const found = await keysIn(m, nc, stream);
          return keys.reduce((sum, k) => sum + (found.get(k) ?? 0), 0);
        };
        let regional = 0;
        for (const [i, region] of [...topology.regions.keys()].entries())
          regional += await inStream(regionalStreamName(region), regionNcs[i]!, await jetstreamManager(regionNcs[i]!));
        return {
          hub: await inStream(HUB_STREAM),
          enriched: await inStream(ENRICHED_STREAM),
          deliveryDlq: await inStream(DELIVERY_DLQ_STREAM),
          regional,
          deliveryLog: await deliveryLog(keys),
        };
      };
      const before = { visitor: await count(visitor), others: await count(others) };
      expect(before.visitor).toEqual({ hub: 4, enriched: 4, deliveryDlq: 4, regional: 4, deliveryLog: 8 });
      expect(before.others).toEqual(before.visitor);

      const management = new ManagementApi({ baseUrl: topology.aggregatorUrl, token: topology.apiToken });
      const report = await erase(management, () => context, {
        visitor: { ip: VISITOR.ip, userAgent: VISITOR.ua },
        reason: "ticket 42",
      }).catch((err: unknown) => {
        console.log(topology.aggregator.output());
        throw err;
      });

      // The answer counts exactly what was there; the counts after say the same.
      expect(report).toMatchObject({ selector: "visitor", rows: 4, deliveries: 8 });
      expect(report.streams).toMatchObject({ [HUB_STREAM]: 4, [ENRICHED_STREAM]: 4, [DELIVERY_DLQ_STREAM]: 4 });
      expect(Object.values(report.regionalDeleted!).reduce((a, b) => a + b, 0)).toBe(4);
      expect(eraseText(report)).toContain("4 rows anonymised");
      expect(await count(visitor)).toEqual({ hub: 0, enriched: 0, deliveryDlq: 0, regional: 0, deliveryLog: 0 });
      expect(await count(others)).toEqual(before.others);
      for (const key of visitor) {
        const row = (await api("GET", `/v1/events/${encodeURIComponent(key)}`)).body;
        expect(row).toMatchObject({ payload: {}, ip_anon: null, visitor_hash: null, device_type: "mobile" });
      }
      for (const key of others) {
        const row = (await api("GET", `/v1/events/${encodeURIComponent(key)}`)).body;
        expect(row.visitor_hash).toMatch(/^h_/);
        expect(JSON.stringify(row.payload)).toContain("1.1.1.0");
      }

      // Audited, with the counts and never the visitor's address or user agent.
      const audit = (await api("GET", "/v1/audit?kind=erasures")).body.data as any[];
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ action: "erase", id: report.id, detail: { rows: 4, reason: "ticket 42" } });
      expect(JSON.stringify(audit)).not.toContain(VISITOR.ip);
      expect(JSON.stringify(audit)).not.toContain("iPhone");

      // Reconciliation: clean, the erased rows reported as erased.
      const audited = await reconcile(context, { settleMs: 30_000 });
      expect(audited.clean).toBe(true);
      expect(audited.regions.reduce((sum, r) => sum + r.erased, 0)).toBe(4);
      expect(audited.regions.reduce((sum, r) => sum + r.lost.length, 0)).toBe(0);

      // Counted once: the same erasure again touches nothing; a read token may not erase.
      expect(
        (await erase(management, () => context, { visitor: { ip: VISITOR.ip, userAgent: VISITOR.ua } })).rows,
      ).toBe(0);
      const bad = await api("POST", "/v1/erasures", { visitor: { ip: "not-an-ip" } });
      expect(bad).toMatchObject({ status: 400, body: { error: { code: "invalid_resource" } } });
      const both = await api("POST", "/v1/erasures", { source: "shop", keys: [others[0]] });
      expect(both.status).toBe(400);

      // Retention: a tiny events retention, the aggregator restarted with it.
      const daysBefore = (await api("GET", "/v1/analytics?group_by=day&source=shop")).body.data as any[];
      const configFile = join(topology.stateDir, "aggregator.json");
      const config = JSON.parse(readFileSync(configFile, "utf8")) as Record<string, unknown>;
      writeFileSync(
        configFile,
        JSON.stringify({ ...config, retention: { events: "3s", deliveries: "3s", everySeconds: 1 } }),
      );
      await topology.restartAggregator();
      await within(30_000, async () => (await api("GET", "/v1/events?limit=100&source=shop")).body.data.length === 0);
      expect(await deliveryLog(all)).toBe(0);
      // The rollups keep what the rows no longer hold.
      expect((await api("GET", "/v1/analytics?group_by=day&source=shop")).body.data).toEqual(daysBefore);
      const status = await collectStatus(context, { sampleMs: 100 });
      const events = status.warehouse.lifecycle!.tables.find((t) => t.table === "events")!;
      expect(events).toMatchObject({ rows: 0, retentionSeconds: 3, enforcedBy: "delete" });
      expect(status.warehouse.lifecycle!.lastSweep).toMatchObject({ at: expect.any(String) });
      // The regions' streams still hold the others' events: past retention, not lost.
      const expired = await reconcile(context, { settleMs: 30_000 });
      expect(expired.clean).toBe(true);
      expect(expired.regions.reduce((sum, r) => sum + r.expired, 0)).toBe(4);

      // A whole source: its subjects purged in the hub's streams and in every region's.
      const bySource = await erase(management, () => context, { source: "shop" });
      expect(bySource.streams[HUB_STREAM]).toBe(4);
      expect(bySource.streams[ENRICHED_STREAM]).toBe(4);
      expect(bySource.streams[DELIVERY_DLQ_STREAM]).toBe(4);
      expect(Object.values(bySource.regionalDeleted!).reduce((a, b) => a + b, 0)).toBe(4);
      expect(await count(others)).toEqual({ hub: 0, enriched: 0, deliveryDlq: 0, regional: 0, deliveryLog: 0 });
      expect((await reconcile(context, { settleMs: 30_000 })).clean).toBe(true);
    } finally {
      await hub.close();
      await Promise.all(regionNcs.map((nc) => nc.close()));
    }
  });
});
