import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEnricher, openGeoDatabase } from "@tributary/enrich";
import { checkErrorDoc } from "@tributary/errors";
import { createEventValidator, parseEventBody, toWarehouseRow, type WarehouseRow } from "@tributary/schema";
import { DuckDbSink } from "@tributary/warehouse";
import { API_ERRORS, registerQueryApi } from "../src/index.js";

const IPS = ["8.8.8.8", "1.1.1.1", "81.2.69.142", "2a00:1450:4001:80b::200e"];
const UAS = [
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
];
const REFERRERS = ["https://www.google.com/search?q=x", "https://t.co/abc", "", "https://news.example.org/a"];
const validator = createEventValidator();
const enricher = createEnricher({ geo: openGeoDatabase(), ip: { mode: "truncate" } });
let counter = 0;

/** Rows the way the loader makes them: parse, validate, map, enrich. */
function rows(n: number, source: string): WarehouseRow[] {
  return Array.from({ length: n }, () => {
    const i = counter++;
    const text = JSON.stringify({
      event: "link.clicked",
      timestamp: new Date(Date.UTC(2026, 10, 29, 12, i % 10)).toISOString(),
      data: {
        link_id: `l${i % 5}`,
        campaign: i % 2 ? "spring" : "fall",
        ip: IPS[i % IPS.length],
        user_agent: UAS[i % UAS.length],
        referrer: REFERRERS[i % REFERRERS.length],
        ...(i % 3 < 2 ? { channel: ["email", "social"][i % 3] } : {}),
        ...(i % 6 === 0 ? { revenue: `${i % 50}.2${i % 10}`, currency: i % 4 ? "USD" : "EUR" } : {}),
      },
    });
    const parsed = parseEventBody(Buffer.from(text));
    if (!parsed.ok) throw new Error(parsed.message);
    const v = validator.validate(parsed.value, { strict: false });
    if (!v.ok) throw new Error(v.message);
    const row = toWarehouseRow(v.event, {
      eventKey: `${source}:e${i}`,
      eventId: `e${i}`,
      source,
      region: "us",
      regionSeq: i + 1,
      receivedAt: new Date(),
      payloadJson: text,
    });
    return enricher.enrich(row, parsed.value);
  });
}

const DEMO = "demo-token-0123456789abcdef";
const OTHER = "other-token-0123456789abcdef";
const ADMIN = "admin-token-0123456789abcdef";
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe("query API", () => {
  let dir: string;
  let sink: DuckDbSink;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tributary-api-"));
    sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    await sink.migrate();
    await sink.insertBatch(rows(300, "demo"));
    await sink.insertBatch(rows(50, "other"));
    await sink.migrateDeliveries();
    const at = (s: number) => new Date(Date.UTC(2026, 10, 29, 13, 0, s));
    await sink.insertDeliveries([
      {
        log_seq: 1,
        destination: "crm",
        event_key: "demo:e3",
        attempt: 1,
        outcome: "retry",
        status: 503,
        latency_ms: 12,
        error: "http_503: busy",
        at: at(1),
      },
      {
        log_seq: 2,
        destination: "crm",
        event_key: "demo:e3",
        attempt: 2,
        outcome: "delivered",
        status: 200,
        latency_ms: 9,
        error: "",
        at: at(2),
      },
      {
        log_seq: 3,
        destination: "slack",
        event_key: "demo:e3",
        attempt: 1,
        outcome: "delivered",
        status: 204,
        latency_ms: 30,
        error: "",
        at: at(3),
      },
      {
        log_seq: 4,
        destination: "crm",
        event_key: "demo:e4",
        attempt: 1,
        outcome: "dlq",
        status: 410,
        latency_ms: 5,
        error: "http_410: gone",
        at: at(4),
      },
    ]);
    app = Fastify();
    await registerQueryApi(app, {
      queries: sink,
      tokens: [
        { id: "demo", token: DEMO, sources: ["demo"] },
        { id: "other", token: OTHER, sources: ["other"] },
        { id: "admin", token: ADMIN, sources: ["*"] },
      ],
      rateLimit: { max: 10_000, windowMs: 60_000 },
      deliveries: sink,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (url: string, token = DEMO) => {
    const res = await app.inject({ method: "GET", url, headers: auth(token) });
    return { status: res.statusCode, body: res.json() as any, headers: res.headers };
  };

  it("events - paging while a producer keeps loading returns every row that existed at the start exactly once", async () => {
    const before = new Set(
      (await sink.listEvents({ sources: ["demo"] }, { limit: 100_000 })).rows.map((r) => r.event_key),
    );
    let producing = true;
    let produced = 0;
    const producer = (async () => {
      while (producing) {
        await sink.insertBatch(rows(25, "demo"));
        produced += 25;
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    try {
      do {
        const { status, body } = await get(`/v1/events?limit=13${cursor ? `&cursor=${cursor}` : ""}`);
        expect(status).toBe(200);
        seen.push(...body.data.map((e: { event_key: string }) => e.event_key));
        cursor = body.next_cursor;
        pages++;
        // Let the producer commit between pages.
        if (pages % 3 === 0) await new Promise((r) => setTimeout(r, 5));
      } while (cursor);
    } finally {
      producing = false;
      await producer;
    }
    expect(produced).toBeGreaterThan(0);
    expect(new Set(seen).size).toBe(seen.length); // nothing repeated
    const missing = [...before].filter((k) => !seen.includes(k));
    expect(missing).toEqual([]); // nothing that existed was skipped
    for (const k of seen) expect(k.startsWith("demo:")).toBe(true);
  });

  it("events - filters, starting_after, a single event, freshness, and no raw IP in enriched fields", async () => {
    const { body } = await get("/v1/events?country=US&link=l0&is_suspicious=false&limit=5");
    expect(body.object).toBe("list");
    expect(body.freshness.newest_loaded_at).toMatch(/Z$/);
    for (const e of body.data) {
      expect(e).toMatchObject({
        geo_country: "US",
        link_id: "l0",
        is_suspicious: false,
        source: "demo",
        ip_anon: "8.8.8.0",
      });
      for (const c of ["ip_anon", "geo_country", "device_type", "os_name", "browser_name"])
        expect(String(e[c])).not.toContain("8.8.8.8");
    }
    const first = (await get("/v1/events?limit=2")).body.data;
    const next = (await get(`/v1/events?limit=1&starting_after=${encodeURIComponent(first[0].event_key)}`)).body.data;
    expect(next[0].event_key).toBe(first[1].event_key);
    const one = await get(`/v1/events/${encodeURIComponent(first[0].event_key)}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      object: "event",
      event_key: first[0].event_key,
      payload: { event: "link.clicked" },
    });
    expect((await get("/v1/events/demo%3Anope")).status).toBe(404);
    const bots = (await get("/v1/events?device=bot&limit=3")).body.data;
    expect(bots.length).toBeGreaterThan(0);
    for (const e of bots) expect(e).toMatchObject({ bot_kind: "prefetcher", is_suspicious: false });
  });

  it("auth - a token for one source cannot list another's events (403) nor read one by key (404); no or a wrong token is 401", async () => {
    const cross = await get("/v1/events?source=other");
    expect(cross.status).toBe(403);
    expect(cross.body.error).toMatchObject({ code: "forbidden_source", field: "source" });
    const otherKey = (await get("/v1/events?limit=1", OTHER)).body.data[0].event_key as string;
    expect(otherKey.startsWith("other:")).toBe(true);
    expect((await get(`/v1/events/${encodeURIComponent(otherKey)}`)).status).toBe(404);
    expect((await get(`/v1/analytics/countries?source=other`)).status).toBe(403);
    // Without a source filter a token sees only its own sources.
    const own = (await get("/v1/events?limit=1000", OTHER)).body.data as Array<{ source: string }>;
    expect(own.every((e) => e.source === "other")).toBe(true);
    expect((await get("/v1/events?source=other", ADMIN)).status).toBe(200);
    const none = await app.inject({ method: "GET", url: "/v1/events" });
    expect(none.statusCode).toBe(401);
    expect(none.headers["www-authenticate"]).toMatch(/^Bearer/);
    expect((await get("/v1/events", "wrong-token")).status).toBe(401);
  });

  it.each([
    ["/v1/events?limit=0", "limit"],
    ["/v1/events?limit=abc", "limit"],
    ["/v1/events?country=usa", "country"],
    ["/v1/events?occurred_from=yesterday", "occurred_from"],
    ["/v1/events?is_unique=maybe", "is_unique"],
    ["/v1/events?contry=US", "contry"],
    ["/v1/events?cursor=bm9wZQ", "cursor"],
    ["/v1/events?starting_after=demo%3Anope", "starting_after"],
    ["/v1/analytics/days?from=2026-13-01", "from"],
    ["/v1/analytics/devices?device=phone", "device"],
    ["/v1/events?referrer_category=spam", "referrer_category"],
    ["/v1/events?include_bots=maybe", "include_bots"],
    ["/v1/analytics/links?include_bots=maybe", "include_bots"],
    ["/v1/analytics/channels?include_suspicious=perhaps", "include_suspicious"],
    ["/v1/analytics/referrers?referrer_category=spam", "referrer_category"],
    ["/v1/analytics/revenue?referrer_category=SEARCH", "referrer_category"],
    ["/v1/analytics/revenue?group_by=day", "group_by"],
  ])("params - %s is 400 naming %s", async (url, field) => {
    const { status, body } = await get(url);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: "invalid_parameter", field });
    expect(body.error.message).toContain(field);
  });

  it("analytics - rollup counts equal the rows, per minute, day, country, device and campaign", async () => {
    const total = await sink.countEvents({ source: "demo" });
    for (const view of ["minutes", "days", "countries", "devices", "campaigns", "types"]) {
      const { status, body } = await get(`/v1/analytics/${view}`);
      expect(status).toBe(200);
      expect(body.freshness.newest_loaded_at).toMatch(/Z$/);
      expect(body.data.reduce((s: number, r: { events: number }) => s + r.events, 0)).toBe(total);
    }
    const us = (await get("/v1/analytics/days?country=US")).body.data;
    const usRows = (await sink.listEvents({ sources: ["demo"], country: "US" }, { limit: 100_000 })).rows.length;
    expect(us.reduce((s: number, r: { events: number }) => s + r.events, 0)).toBe(usRows);
  });

  it("analytics - links, channels, platforms, referrers and revenue equal an aggregation of the rows, under every filter, while a producer loads", async () => {
    let producing = true;
    const producer = (async () => {
      while (producing) {
        await sink.insertBatch(rows(20, "demo"));
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const views = ["links", "channels", "platforms", "referrers", "days", "countries"];
    try {
      // Each answer is one snapshot of rows and rollups: between two counts of the rows.
      for (let round = 0; round < 3; round++)
        for (const view of views) {
          const before = await sink.countEvents({ source: "demo" });
          const { status, body } = await get(`/v1/analytics/${view}?limit=100000`);
          expect(status).toBe(200);
          const total = body.data.reduce((s: number, r: { events: number }) => s + r.events, 0);
          expect(total).toBeGreaterThanOrEqual(before);
          expect(total).toBeLessThanOrEqual(await sink.countEvents({ source: "demo" }));
        }
    } finally {
      producing = false;
      await producer;
    }
    const all = (await sink.listEvents({ sources: ["demo"] }, { limit: 100_000 })).rows;
    const minuteOf = (e: (typeof all)[number]) =>
      Math.floor(Date.parse(e.occurred_at ?? e.received_at) / 60_000) * 60_000;
    const day = Date.UTC(2026, 10, 29);
    const filters: Array<[string, (e: (typeof all)[number]) => boolean]> = [
      ["", () => true],
      ["include_bots=false", (e) => e.is_bot !== true],
      [
        "include_suspicious=false&referrer_category=search",
        (e) => e.is_suspicious !== true && e.referrer_category === "search",
      ],
      [
        `link=l1&from=${new Date(day).toISOString()}&to=${new Date(day + 86_400_000).toISOString()}`,
        (e) => e.link_id === "l1" && minuteOf(e) >= day && minuteOf(e) < day + 86_400_000,
      ],
      ["channel=email&include_bots=false", (e) => e.channel === "email" && e.is_bot !== true],
    ];
    const keyOf: Record<string, (e: (typeof all)[number]) => string | null> = {
      links: (e) => e.link_id,
      channels: (e) => e.channel,
      platforms: (e) => e.platform,
      referrers: (e) => e.referrer_category,
    };
    for (const [query, keep] of filters)
      for (const [view, key] of Object.entries(keyOf)) {
        const expected: Record<string, { events: number; unique: number; suspicious: number; unique_rules: string[] }> =
          {};
        for (const e of all.filter(keep)) {
          const k = String(key(e));
          const cell = (expected[k] ??= { events: 0, unique: 0, suspicious: 0, unique_rules: [] });
          cell.events++;
          if (e.is_suspicious) cell.suspicious++;
          if (e.is_unique) {
            cell.unique++;
            if (e.unique_rule && !cell.unique_rules.includes(e.unique_rule)) cell.unique_rules.push(e.unique_rule);
          }
        }
        const { status, body } = await get(`/v1/analytics/${view}?limit=100000&${query}`);
        expect(status, `${view}?${query}`).toBe(200);
        const answer = Object.fromEntries(
          body.data.map((r: any) => [
            String(r.key),
            { events: r.events, unique: r.unique, suspicious: r.suspicious, unique_rules: r.unique_rules },
          ]),
        );
        expect(answer, `${view}?${query}`).toEqual(expected);
        expect(Object.keys(answer).length, `${view}?${query}`).toBeGreaterThan(0);
      }
    const withRules = (await get("/v1/analytics/links")).body.data as Array<{ unique: number; unique_rules: string[] }>;
    expect(withRules.filter((r) => r.unique > 0).every((r) => r.unique_rules.length > 0)).toBe(true);

    // Revenue: exact decimal sums (in millionths here) per campaign and currency.
    const sums: Record<string, { conversions: number; micros: bigint }> = {};
    for (const e of all.filter((x) => x.revenue !== null)) {
      const [whole, fraction = ""] = e.revenue!.split(".");
      const cell = (sums[`${e.campaign}/${e.currency}`] ??= { conversions: 0, micros: 0n });
      cell.conversions++;
      cell.micros += BigInt(whole!) * 1_000_000n + BigInt(fraction.padEnd(6, "0"));
    }
    const revenue = await get("/v1/analytics/revenue");
    expect(revenue.status).toBe(200);
    expect(revenue.body.object).toBe("revenue");
    const asText = (micros: bigint) =>
      `${micros / 1_000_000n}.${String(micros % 1_000_000n).padStart(6, "0")}`.replace(/\.?0+$/, "");
    expect(
      Object.fromEntries(
        revenue.body.data.map((r: any) => [`${r.campaign}/${r.currency}`, [r.conversions, r.revenue]]),
      ),
    ).toEqual(Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, [v.conversions, asText(v.micros)]])));
    expect(Object.keys(sums).length).toBeGreaterThan(1);

    // The same filters on the events themselves.
    const people = (await get("/v1/events?include_bots=false&include_suspicious=false&limit=1000")).body.data;
    expect(people.length).toBe(all.filter((e) => e.is_bot !== true && e.is_suspicious !== true).slice(0, 1000).length);
    for (const e of people) expect(e.is_bot === true || e.is_suspicious === true).toBe(false);
    const social = (await get("/v1/events?referrer_category=social&limit=1000")).body.data;
    expect(social.length).toBe(all.filter((e) => e.referrer_category === "social").slice(0, 1000).length);
    expect(social.length).toBeGreaterThan(0);
  });

  it("openapi - documents every route with its parameters, to a valid token only", async () => {
    expect((await app.inject({ method: "GET", url: "/v1/openapi.json" })).statusCode).toBe(401);
    const res = await app.inject({ method: "GET", url: "/v1/openapi.json", headers: auth(OTHER) });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as {
      openapi: string;
      paths: Record<string, { get: { parameters?: Array<{ name: string }> } }>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/events",
        "/v1/events/{key}",
        "/v1/analytics/minutes",
        "/v1/analytics/countries",
        "/v1/analytics/links",
        "/v1/analytics/channels",
        "/v1/analytics/platforms",
        "/v1/analytics/referrers",
        "/v1/analytics/revenue",
      ]),
    );
    for (const path of ["/v1/analytics/links", "/v1/analytics/revenue"])
      expect(doc.paths[path]!.get.parameters!.map((p) => p.name)).toEqual(
        expect.arrayContaining(["include_bots", "include_suspicious", "referrer_category", "link", "campaign", "from"]),
      );
    expect(doc.paths["/v1/events"]!.get.parameters!.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        "limit",
        "cursor",
        "starting_after",
        "include_payload",
        "country",
        "is_unique",
        "include_bots",
        "include_suspicious",
        "referrer_category",
      ]),
    );
  });

  it("errors - the README shows the catalogue as it is", () => {
    const { expected, actual } = checkErrorDoc(new URL("../README.md", import.meta.url), "query-api", API_ERRORS);
    expect(actual).toBe(expected);
  });

  it("deliveries - an event's attempts to every subscription, newest first, for a token that may read the event", async () => {
    const timeline = await get("/v1/events/demo:e3/deliveries");
    expect(timeline.status).toBe(200);
    expect(timeline.body.total).toBe(3);
    expect(timeline.body.data.map((a: any) => [a.subscription, a.attempt, a.outcome, a.status])).toEqual([
      ["slack", 1, "delivered", 204],
      ["crm", 2, "delivered", 200],
      ["crm", 1, "retry", 503],
    ]);
    // Another source's token: the same 404 as for a key that does not exist.
    expect((await get("/v1/events/demo:e3/deliveries", OTHER)).status).toBe(404);
    expect((await get("/v1/events/demo:nope/deliveries")).status).toBe(404);
  });

  it("deliveries - a subscription's attempts by outcome, for a token of every source", async () => {
    const dead = await get("/v1/subscriptions/crm/deliveries?outcome=dlq", ADMIN);
    expect(dead.body).toMatchObject({
      total: 1,
      data: [{ event_key: "demo:e4", status: 410, error: "http_410: gone" }],
    });
    expect((await get("/v1/subscriptions/crm/deliveries", ADMIN)).body.total).toBe(3);
    expect((await get("/v1/subscriptions/crm/deliveries", DEMO)).body.error.code).toBe("forbidden_source");
    expect((await get("/v1/subscriptions/crm/deliveries?outcome=lost", ADMIN)).status).toBe(400);
  });
});

describe("query API - limits and anonymous loopback", () => {
  it("rate limit - beyond max per window is 429 rate_limited with Retry-After; anonymous loopback reads when enabled", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tributary-api-rl-"));
    const sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    const app = Fastify();
    try {
      await sink.migrate();
      await registerQueryApi(app, {
        queries: sink,
        tokens: [{ id: "t", token: DEMO, sources: ["demo"] }],
        rateLimit: { max: 3, windowMs: 60_000 },
        anonymousLoopback: true,
      });
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 4; i++) {
        last = await app.inject({ method: "GET", url: "/v1/events", headers: auth(DEMO) });
        statuses.push(last.statusCode);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(last!.json()).toMatchObject({ error: { code: "rate_limited" } });
      expect(Number(last!.headers["retry-after"])).toBeGreaterThan(0);
      // inject comes from 127.0.0.1: anonymous is allowed and sees every source.
      const anon = await app.inject({ method: "GET", url: "/v1/events?limit=5" });
      expect(anon.statusCode).toBe(200);
      expect(anon.json()).toMatchObject({
        object: "list",
        data: [],
        has_more: false,
        freshness: { newest_loaded_at: null },
      });
    } finally {
      await app.close();
      await sink.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
