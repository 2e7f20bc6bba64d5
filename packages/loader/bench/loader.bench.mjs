// The loader against the engine, in one run:
//   pnpm --filter @tributary/loader bench                       (100,000 events of 1 KiB, enrichment on)
//   pnpm --filter @tributary/loader bench --events 1000000      (the 1M backlog, with RSS)
//   pnpm --filter @tributary/loader bench --no-enrich           (rows without the enrichment stage)
// 1. engine: the rows the loader would make (mapped and enriched beforehand, untimed) appended by
//    DuckDB's own Appender into the same keyed events table, 5,000 per append, the sink's settings;
// 2. enrichment alone: the mapping + enrichment stage over the same events on this thread;
// 3. loader: the same events as a backlog in a real file-backed JetStream stream, drained through
//    pull ▸ map and enrich ▸ adaptive batch ▸ insert ▸ ack.
// Prints rows/s of each, loader / engine, and the peak RSS while the loader drains.
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DuckDBInstance, DuckDBTimestampTZValue } from "@duckdb/node-api";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers as createHeaders } from "@nats-io/nats-core";
import { createEnricher, openGeoDatabase } from "@tributary/enrich";
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
import { DEFAULT_DUCKDB_CHECKPOINT_THRESHOLD, DEFAULT_DUCKDB_MEMORY_LIMIT, DuckDbSink } from "@tributary/warehouse";
import { AdaptiveBatchSize, Loader, rowFromMessage } from "../dist/index.js";
import { clickBodies } from "./events.mjs";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    events: { type: "string", default: "100000" },
    size: { type: "string", default: "1024" },
    "in-flight": { type: "string", default: "1" },
    "target-ms": { type: "string", default: "1000" },
    enrich: { type: "boolean", default: true },
  },
  allowNegative: true,
});
const N = Number(values.events);
const CHUNK = 5_000;
const enricher = values.enrich ? createEnricher({ geo: openGeoDatabase(), ip: { mode: "truncate" } }) : undefined;
const body = clickBodies({ size: Number(values.size) });
const bodies = new Map(); // chunk start → bodies, so the three runs see the same events
const bodiesOf = (start) => {
  if (!bodies.has(start))
    bodies.set(
      start,
      Array.from({ length: Math.min(CHUNK, N - start) }, (_, j) => body(start + j)),
    );
  return bodies.get(start);
};
const receivedAt = new Date().toISOString();

function headersOf(i) {
  const h = createHeaders();
  h.set(EventHeader.MsgId, `demo:e-${i}`);
  h.set(EventHeader.Source, "demo");
  h.set(EventHeader.Region, "us");
  h.set(EventHeader.ReceivedAt, receivedAt);
  h.set(EventHeader.EventType, "link.clicked");
  return h;
}
const SUBJECT = "events.us.demo.link.clicked";
const messageOf = (i, text) => ({ subject: SUBJECT, headers: headersOf(i), data: Buffer.from(text), seq: i + 1 });
const rowsOf = (start) =>
  bodiesOf(start).map((text, j) => {
    const outcome = rowFromMessage(messageOf(start + j, text), enricher);
    if (!outcome.ok) throw new Error(`bench event ${start + j} does not map: ${outcome.reason}`);
    return outcome.row;
  });

/** DuckDB's Appender filling every column of the sink's table from a row, in the file's column order. */
function columnWriters(columns) {
  const ts = (d) => new DuckDBTimestampTZValue(BigInt(d.getTime()) * 1000n);
  return columns.map(({ name, type }) => (a, row, seq) => {
    const value =
      name === "loaded_at"
        ? new Date()
        : name === "load_seq"
          ? seq
          : name in row
            ? row[name]
            : (row.enriched?.[name] ?? null);
    if (value === null || value === undefined) a.appendNull();
    else if (value instanceof Date) a.appendTimestampTZ(ts(value));
    else if (typeof value === "boolean") a.appendBoolean(value);
    else if (typeof value === "number" && type === "UBIGINT") a.appendUBigInt(BigInt(value));
    else if (typeof value === "number") a.appendBigInt(BigInt(value));
    else a.appendVarchar(value);
  });
}

async function engineRun(dir) {
  const path = join(dir, "engine.duckdb");
  const sink = await DuckDbSink.open(path); // only to create the same table
  await sink.migrate();
  await sink.close();
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  await c.run(`SET memory_limit = '${DEFAULT_DUCKDB_MEMORY_LIMIT}'`);
  await c.run(`SET checkpoint_threshold = '${DEFAULT_DUCKDB_CHECKPOINT_THRESHOLD}'`);
  const columns = (
    await c.runAndReadAll(
      "SELECT column_name AS name, data_type AS type FROM duckdb_columns() WHERE table_name = 'events' AND schema_name = 'main' ORDER BY column_index",
    )
  ).getRowObjectsJS();
  const writers = columnWriters(columns);
  let ms = 0;
  for (let start = 0; start < N; start += CHUNK) {
    const rows = rowsOf(start);
    const t = performance.now();
    const a = await c.createAppender("events");
    rows.forEach((row, j) => {
      for (const write of writers) write(a, row, start + j + 1);
      a.endRow();
    });
    a.flushSync();
    a.closeSync();
    ms += performance.now() - t;
  }
  c.closeSync();
  instance.closeSync();
  return N / (ms / 1000);
}

function enrichmentRun() {
  const n = Math.min(N, 200_000);
  let ms = 0;
  for (let start = 0; start < n; start += CHUNK) {
    const messages = bodiesOf(start).map((text, j) => messageOf(start + j, text));
    const t = performance.now();
    for (const msg of messages) rowFromMessage(msg, enricher);
    ms += performance.now() - t;
  }
  return n / (ms / 1000);
}

async function loaderRun(dir) {
  const server = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
  const nc = await connectNats({ servers: [server.url], name: "bench" });
  try {
    const jsm = await jetstreamManager(nc);
    const hub = hubStreamConfig({ regions: [], maxBytes: 8 * 1024 ** 3 });
    await ensureStream(jsm, { ...hub, subjects: [...hub.subjects, "events.>"] });
    await ensureStream(jsm, dlqStreamConfig());
    const js = jetstream(nc);
    for (let start = 0; start < N; start += CHUNK) {
      const pending = bodiesOf(start).map((text, j) =>
        js.publish(SUBJECT, Buffer.from(text), { headers: headersOf(start + j) }),
      );
      await Promise.all(pending);
      bodies.delete(start);
    }
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
      log: { info() {}, warn() {}, error() {} },
    });
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    const started = performance.now();
    const running = loader.run();
    while (loader.counters.loaded < N) await new Promise((r) => setTimeout(r, 20));
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    loader.stop();
    await running;
    await sink.close();
    return { rate: N / seconds, seconds, peakRssMiB: peakRss / 2 ** 20, finalBatch: loader.adaptive.current };
  } finally {
    await nc.drain();
    await server.cleanup();
  }
}

const dir = mkdtempSync(join(tmpdir(), "tributary-loader-bench-"));
try {
  const engine = await engineRun(dir);
  const enrichment = enricher ? enrichmentRun() : undefined;
  const loader = await loaderRun(dir);
  const f = (n) => Math.round(n).toLocaleString("en");
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}`);
  console.log(`events: ${f(N)} × ${values.size} B, enrichment ${enricher ? "on" : "off"}`);
  console.log(`engine (DuckDB Appender, keyed table, ${CHUNK}/append): ${f(engine)} rows/s`);
  if (enrichment) console.log(`map + enrich alone (one thread):            ${f(enrichment)} events/s`);
  console.log(
    `loader (stream ▸ map ▸ batch ▸ DuckDB ▸ ack):  ${f(loader.rate)} rows/s (${loader.seconds.toFixed(1)} s)`,
  );
  console.log(`loader / engine: ${((loader.rate / engine) * 100).toFixed(0)}%`);
  console.log(
    `loader process peak RSS while draining: ${loader.peakRssMiB.toFixed(0)} MiB (adaptive batch ended at ${loader.finalBatch})`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
