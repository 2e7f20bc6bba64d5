// Query API latency on a 1M-row DuckDB warehouse: each route through Fastify (inject, so no
// socket cost), p50/p99 over repeated calls. Run:
//   flock /tmp/tributary-bench.lock node bench/query-api.bench.mjs   (BENCH_ROWS to change the size)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import os from "node:os";
import Fastify from "fastify";
import { DuckDbSink } from "@tributary/warehouse";
import { registerQueryApi } from "../dist/index.js";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const BATCH = 20_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const COUNTRIES = ["US", "DE", "GB", "FR", "IN", "BR", "JP", "AU", null];
const DEVICES = ["mobile", "desktop", "tablet", "bot"];
const TOKEN = "bench-token-0123456789abcdef";

const dir = mkdtempSync(join(tmpdir(), "tributary-api-bench-"));
const sink = await DuckDbSink.open(join(dir, "bench.duckdb"));
await sink.migrate();
const start = Date.UTC(2026, 10, 1);
const t0 = Date.now();
for (let b = 0; b < ROWS; b += BATCH) {
  const rows = [];
  for (let i = b; i < Math.min(ROWS, b + BATCH); i++) {
    const at = new Date(start + i * 2_000); // 1M rows over ~23 days
    const source = i % 10 === 0 ? "other" : "demo";
    rows.push({
      event_key: `${source}:e${i}`,
      source,
      event_id: `e${i}`,
      event_type: i % 5 === 0 ? "install.tracked" : "link.clicked",
      schema_version: null,
      occurred_at: at,
      received_at: at,
      region: i % 2 ? "us" : "eu",
      region_seq: i,
      payload: JSON.stringify({
        event: "link.clicked",
        timestamp: at.toISOString(),
        data: {
          link_id: `l${i % 1000}`,
          campaign: `c${i % 50}`,
          user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)",
        },
      }),
      enriched: {
        link_id: `l${i % 1000}`,
        campaign: `c${i % 50}`,
        campaign_meta: null,
        geo_country: COUNTRIES[i % COUNTRIES.length],
        geo_region: null,
        device_type: DEVICES[i % DEVICES.length],
        os_name: "iOS",
        browser_name: "Mobile Safari",
        is_bot: i % 4 === 3,
        bot_kind: i % 4 === 3 ? "bot" : null,
        referrer_category: "direct",
        ip_anon: `203.0.${i % 256}.0`,
        is_unique: i % 3 === 0,
        is_suspicious: i % 17 === 0,
        suspicious_reason: i % 17 === 0 ? "burst" : null,
      },
    });
  }
  await sink.insertBatch(rows);
}
const loadS = (Date.now() - t0) / 1000;

const app = Fastify();
await registerQueryApi(app, {
  queries: sink,
  tokens: [{ id: "bench", token: TOKEN, sources: ["demo"] }],
  rateLimit: { max: 1e9, windowMs: 60_000 },
});
await app.ready();
const get = async (url) => {
  const res = await app.inject({ method: "GET", url, headers: { authorization: `Bearer ${TOKEN}` } });
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return res.json();
};
// A cursor deep in the table: the 100th page of 100.
let cursor = null;
for (let p = 0; p < 100; p++)
  cursor = (await get(`/v1/events?limit=100${cursor ? `&cursor=${cursor}` : ""}`)).next_cursor;

const cases = [
  ["first page, limit 100", "/v1/events?limit=100"],
  ["page 101 by cursor, limit 100", `/v1/events?limit=100&cursor=${cursor}`],
  [
    "filtered: country=US, device=mobile, is_unique=true",
    "/v1/events?limit=100&country=US&device=mobile&is_unique=true",
  ],
  [
    "filtered: link + occurred range (1 day)",
    "/v1/events?limit=100&link=l42&occurred_from=2026-11-05T00:00:00Z&occurred_to=2026-11-06T00:00:00Z",
  ],
  ["one event by key", `/v1/events/demo%3Ae${Math.floor(ROWS / 2) + 1}`],
  [
    "analytics per minute, one day",
    "/v1/analytics/minutes?from=2026-11-05T00:00:00Z&to=2026-11-06T00:00:00Z&limit=2000",
  ],
  ["analytics per day, all", "/v1/analytics/days"],
  ["analytics by country", "/v1/analytics/countries"],
  ["analytics by device, campaign=c7", "/v1/analytics/devices?campaign=c7"],
  ["analytics by campaign", "/v1/analytics/campaigns"],
];
console.log(
  `node ${process.version}, ${os.cpus()[0]?.model}, ${os.cpus().length} cores; ${ROWS} rows loaded in ${loadS.toFixed(1)} s (${Math.round(ROWS / loadS).toLocaleString("en-US")} rows/s incl. rollup)`,
);
console.log("| query | p50 ms | p99 ms |\n| --- | --- | --- |");
for (const [name, url] of cases) {
  await get(url);
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    await get(url);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  console.log(`| ${name} | ${q(0.5).toFixed(1)} | ${q(0.99).toFixed(1)} |`);
}
await app.close();
await sink.close();
rmSync(dir, { recursive: true, force: true });
