// Enrichment stage throughput on one core: events/s for the whole stage (geo, UA, bot, referrer,
// IP anonymisation, rules) and for its parts, over a realistic mix of real UA strings and random
// public IPv4/IPv6 addresses. Run: flock /tmp/tributary-bench.lock node bench/enrich.bench.mjs
import { createEnricher, openGeoDatabase, classifyAgent, RotatingHasher, truncateIp } from "../dist/index.js";
import os from "node:os";

const N = Number(process.env.BENCH_EVENTS ?? 100_000);
const UAS = [
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0",
  "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
  "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
  "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
];
const REFS = [
  null,
  "https://www.google.com/",
  "https://t.co/x",
  "https://mail.google.com/",
  "https://news.ycombinator.com/",
];
let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
const ip4 = () =>
  `${1 + Math.floor(rand() * 222)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`;
const ip6 = () =>
  `2a0${Math.floor(rand() * 9)}:${Math.floor(rand() * 65535).toString(16)}::${Math.floor(rand() * 65535).toString(16)}`;

const events = Array.from({ length: N }, (_, i) => {
  const body = {
    event: "link.clicked",
    timestamp: "2026-11-29T12:00:00Z",
    data: {
      link_id: `l${i % 500}`,
      campaign: `c${i % 20}`,
      ip: i % 10 === 0 ? ip6() : ip4(),
      user_agent: UAS[i % UAS.length],
      referrer: REFS[i % REFS.length],
    },
  };
  const row = {
    event_key: `demo:e${i}`,
    source: "demo",
    event_id: `e${i}`,
    event_type: "link.clicked",
    schema_version: null,
    occurred_at: new Date(Date.UTC(2026, 10, 29, 12, 0, i % 3600)),
    received_at: new Date(),
    region: "us",
    region_seq: i,
    payload: JSON.stringify(body),
  };
  return { row, body };
});

function measure(name, fn) {
  for (let i = 0; i < Math.min(20_000, N); i++) fn(events[i], i); // warm-up
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn(events[i], i);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  const rate = N / s;
  console.log(`| ${name} | ${N} | ${s.toFixed(2)} s | ${Math.round(rate).toLocaleString("en-US")} |`);
  return rate;
}

const geo = openGeoDatabase();
const hasher = new RotatingHasher("a-bench-key-of-32-bytes-length!!");
const at = new Date();
console.log(`node ${process.version}, ${os.cpus()[0]?.model}, ${os.cpus().length} cores, one thread`);
console.log("| stage | events | time | events/s |\n| --- | --- | --- | --- |");
measure("geo lookup (bundled MMDB)", (e) => geo.lookup(e.body.data.ip));
measure("UA parse + bot (ua-parser-js, isbot)", (e) => classifyAgent(e.body.data.user_agent));
measure("IP truncate", (e) => truncateIp(e.body.data.ip));
measure("IP keyed hash (rotating salt)", (e) => hasher.hash(e.body.data.ip, at));
const full = createEnricher({ geo, ip: { mode: "hash", hashKey: "a-bench-key-of-32-bytes-length!!" } });
measure("whole stage, IP hashed", (e) => full.enrich(e.row, e.body));
let u = 0;
const uniqueUa = createEnricher({ geo, ip: { mode: "truncate" } });
measure("whole stage, every UA distinct (cache misses: the worst case)", (e) =>
  uniqueUa.enrich(e.row, { ...e.body, data: { ...e.body.data, user_agent: `${e.body.data.user_agent} u${u++}` } }),
);
const redacting = createEnricher({ geo, ip: { mode: "truncate" }, redact: [{ path: "data.ip", action: "drop" }] });
measure("whole stage, IP truncated, data.ip redacted (payload re-serialised)", (e) =>
  redacting.enrich(e.row, structuredClone(e.body)),
);
