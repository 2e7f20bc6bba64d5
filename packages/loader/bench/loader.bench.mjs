// Loader throughput against a raw insert of the same rows into the same engine, in one run.
//   pnpm --filter @tributary/loader bench                      (100,000 events of 1 KiB)
//   pnpm --filter @tributary/loader bench --events 1000000     (the 1M backlog, with RSS)
// Prints rows/s for both, the ratio, and the loader process's peak RSS while it drains.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { headers as createHeaders } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  connectNats,
  dlqStreamConfig,
  ensureConsumer,
  ensureStream,
  EventHeader,
  hubStreamConfig,
  loaderConsumerConfig,
} from "@tributary/streams";
import { startNatsServer } from "@tributary/testkit";
import { DuckDbSink } from "@tributary/warehouse";
import { AdaptiveBatchSize, Loader, rowFromMessage } from "../dist/index.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    events: { type: "string", default: "100000" },
    size: { type: "string", default: "1024" },
    "in-flight": { type: "string", default: "1" },
    "target-ms": { type: "string", default: "1000" },
    // --enrich: click bodies carry an IP, a UA and a referrer, and the loader runs the enrichment
    // stage (@tributary/enrich, defaults: bundled geo MMDB, truncated IPs) before each insert.
    enrich: { type: "boolean", default: false },
  },
});
const ENRICH = values.enrich;
const UAS = [
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
];
const enricher = ENRICH
  ? (await import("@tributary/enrich")).createEnricher({
      geo: (await import("@tributary/enrich")).openGeoDatabase(),
      ip: { mode: "truncate" },
    })
  : undefined;
const N = Number(values.events);
const SIZE = Number(values.size);
const silent = { info() {}, warn() {}, error() {} };

function body(i) {
  const base = {
    event: "link.clicked",
    timestamp: new Date().toISOString(),
    data: { link_id: `lnk_${i}`, campaign: "bench", filler: "" },
  };
  if (ENRICH)
    Object.assign(base.data, {
      ip: `${1 + (i % 220)}.${(i >> 8) & 255}.${i & 255}.9`,
      user_agent: UAS[i % UAS.length],
      referrer: "https://t.co/x",
    });
  const pad = SIZE - JSON.stringify(base).length;
  base.data.filler = "x".repeat(Math.max(0, pad));
  return JSON.stringify(base);
}

function rowOf(i, text) {
  return {
    event_key: `demo:e-${i}`,
    source: "demo",
    event_id: `e-${i}`,
    event_type: "link.clicked",
    schema_version: null,
    occurred_at: new Date(),
    received_at: new Date(),
    region: "us",
    region_seq: i + 1,
    payload: text,
  };
}

const dir = mkdtempSync(join(tmpdir(), "tributary-loader-bench-"));
const results = {};
try {
  // 1. Raw: the same rows straight into DuckDB through the sink, 1,000 per insert.
  {
    const sink = await DuckDbSink.open(join(dir, "raw.duckdb"));
    await sink.migrate();
    // Rows are made per chunk, outside the timed part, so a 1M run does not hold 1 GiB of rows.
    let insertMs = 0;
    for (let i = 0; i < N; i += 1000) {
      const rows = Array.from({ length: Math.min(1000, N - i) }, (_, j) => rowOf(i + j, body(i + j)));
      const started = performance.now();
      await sink.insertBatch(rows);
      insertMs += performance.now() - started;
    }
    results.raw = N / (insertMs / 1000);
    await sink.close();
  }

  // 2. Loader: the same events as a backlog in a real stream, drained through the loader.
  const server = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
  const nc = await connectNats({ servers: [server.url], name: "bench" });
  const jsm = await jetstreamManager(nc);
  const hub = hubStreamConfig({ regions: [], maxBytes: 8 * 1024 ** 3 });
  await ensureStream(jsm, { ...hub, subjects: [...hub.subjects, "events.>"] });
  await ensureStream(jsm, dlqStreamConfig());
  const js = jetstream(nc);
  const pending = [];
  for (let i = 0; i < N; i++) {
    const h = createHeaders();
    h.set(EventHeader.MsgId, `demo:e-${i}`);
    h.set(EventHeader.Source, "demo");
    h.set(EventHeader.Region, "us");
    h.set(EventHeader.ReceivedAt, new Date().toISOString());
    h.set(EventHeader.EventType, "link.clicked");
    pending.push(js.publish("events.us.demo.link.clicked", new TextEncoder().encode(body(i)), { headers: h }));
    if (pending.length >= 512) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);

  const sink = await DuckDbSink.open(join(dir, "loader.duckdb"));
  await sink.migrate();
  await ensureConsumer(jsm, "EVENTS", loaderConsumerConfig({ durable: "bench", maxAckPending: 20_000 }));
  const consumer = await js.consumers.get("EVENTS", "bench");
  const messages = await consumer.consume({ max_messages: 15_000 });
  const loader = new Loader({
    messages,
    js,
    sink,
    toRow: (msg) => rowFromMessage(msg, enricher),
    policy: { maxEvents: 5_000, maxBytes: 16 * 1024 * 1024, maxAgeMs: 100 },
    adaptive: new AdaptiveBatchSize({
      min: 500,
      max: 5_000,
      targetLatencyMs: Number(values["target-ms"]),
      initial: 1_000,
    }),
    maxFlushesInFlight: Number(values["in-flight"]),
    ackWaitMs: 60_000,
    log: silent,
  });
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const started = performance.now();
  const running = loader.run();
  while (loader.counters.loaded < N) await new Promise((r) => setTimeout(r, 20));
  results.loader = N / ((performance.now() - started) / 1000);
  clearInterval(sampler);
  loader.stop();
  await running;
  results.peakRssMiB = peakRss / 1024 / 1024;
  results.finalBatch = loader.adaptive.current;
  await nc.drain();
  await sink.close();
  await server.cleanup();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}`);
console.log(`events: ${N} × ${SIZE} B${ENRICH ? ", loader enriching (raw rows carry no enrichment)" : ""}`);
console.log(`raw DuckDB insert (sink, 1,000/insert): ${Math.round(results.raw).toLocaleString("en")} rows/s`);
console.log(`loader (stream ▸ batch ▸ DuckDB ▸ ack):  ${Math.round(results.loader).toLocaleString("en")} rows/s`);
console.log(`ratio loader / raw: ${((results.loader / results.raw) * 100).toFixed(0)}%`);
console.log(
  `loader process peak RSS while draining: ${results.peakRssMiB.toFixed(0)} MiB (adaptive batch ended at ${results.finalBatch})`,
);
