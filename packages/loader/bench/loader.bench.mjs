// The loader against the engine, in one run:
//   pnpm --filter @tributary/loader bench                       (100,000 events of 1 KiB)
//   pnpm --filter @tributary/loader bench --events 1000000      (the 1M backlog, with RSS)
//   … --workers N          mapping workers (default: the cores less one; 0 maps on the loader's thread)
//   … --only enrich|plain  one loader run instead of both
// 1. engine: the rows the loader would make (mapped and enriched beforehand, untimed) appended by
//    DuckDB's own Appender into the same keyed events table, 5,000 per append, the sink's
//    settings: row by row (append per value), and as data chunks (node-api's DuckDBDataChunk);
// 2. enrichment alone: the mapping + enrichment stage over the same events on this thread;
// 3. loader, without and with enrichment: the same events as a backlog in a real file-backed
//    JetStream stream, drained through pull ▸ map and enrich ▸ adaptive batch ▸ insert ▸ ack.
// Prints rows/s of each, loader / engine (the faster engine figure), the CPU the bench process and
// nats-server used while the loader drained, and the peak RSS.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DuckDBDataChunk, DuckDBInstance, DuckDBTimestampTZValue } from "@duckdb/node-api";
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
import { startClickHouse, startNatsServer } from "@tributary/testkit";
import {
  ClickHouseSink,
  DEFAULT_DUCKDB_CHECKPOINT_THRESHOLD,
  DEFAULT_DUCKDB_MEMORY_LIMIT,
  DuckDbSink,
} from "@tributary/warehouse";
import { AdaptiveBatchSize, defaultMappingWorkers, Loader, MappingPool, rowFromMessage } from "../dist/index.js";
import { clickBodies } from "./events.mjs";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    events: { type: "string", default: "100000" },
    size: { type: "string", default: "1024" },
    "in-flight": { type: "string", default: "1" },
    "target-ms": { type: "string", default: "1000" },
    workers: { type: "string", default: String(defaultMappingWorkers()) },
    only: { type: "string" },
    clickhouse: { type: "boolean", default: true },
  },
  allowNegative: true,
});
const N = Number(values.events);
const CHUNK = 5_000;
const WORKERS = Number(values.workers);
const newEnricher = () => createEnricher({ geo: openGeoDatabase(), ip: { mode: "truncate" } });
const enricher = newEnricher(); // the engine's rows and the stage alone
// Every phase walks the events from the first, a chunk at a time, and draws them again from the
// same seeded generator: the same events each time, without holding a million bodies.
let drawn = { next: 0, body: clickBodies({ size: Number(values.size) }) };
const bodiesOf = (start) => {
  if (start === 0) drawn = { next: 0, body: clickBodies({ size: Number(values.size) }) };
  if (start !== drawn.next) throw new Error(`bench: chunks are drawn in order (${start} after ${drawn.next})`);
  drawn.next = start + CHUNK;
  return Array.from({ length: Math.min(CHUNK, N - start) }, (_, j) => drawn.body(start + j));
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
const rowsOf = (start, enrich = enricher) =>
  bodiesOf(start).map((text, j) => {
    const outcome = rowFromMessage(messageOf(start + j, text), enrich);
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

/** DuckDB's data chunks filled through node-api's own vectors (setColumnValues), a column at a time. */
function chunkValues(columns, rows, start) {
  const ts = (d) => (d ? new DuckDBTimestampTZValue(BigInt(d.getTime()) * 1000n) : null);
  const now = ts(new Date());
  return columns.map(({ name, type }) =>
    rows.map((row, j) => {
      if (name === "loaded_at") return now;
      if (name === "load_seq") return BigInt(start + j + 1);
      const value = name in row ? row[name] : (row.enriched?.[name] ?? null);
      if (value instanceof Date) return ts(value);
      if (typeof value === "number") return type === "UBIGINT" ? BigInt(value) : BigInt(value);
      return value ?? null;
    }),
  );
}

/** The engine: rows made beforehand (untimed) appended into the sink's keyed table, `mode` "rows" or "chunks". */
async function engineRun(dir, mode) {
  const path = join(dir, `engine-${mode}.duckdb`);
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
    if (mode === "rows")
      rows.forEach((row, j) => {
        for (const write of writers) write(a, row, start + j + 1);
        a.endRow();
      });
    else {
      const types = columns.map((_, i) => a.columnType(i));
      for (let from = 0; from < rows.length; from += 2048) {
        const part = rows.slice(from, from + 2048);
        const chunk = DuckDBDataChunk.create(types, part.length);
        chunkValues(columns, part, start + from).forEach((values, i) => chunk.setColumnValues(i, values));
        a.appendDataChunk(chunk);
      }
    }
    a.flushSync();
    a.closeSync();
    ms += performance.now() - t;
  }
  c.closeSync();
  instance.closeSync();
  return N / (ms / 1000);
}

/** A row's value for a ClickHouse column of the sink's table, as JSONEachRow takes it. */
function clickHouseValue(row, name, type, loadedAt) {
  const base = name.endsWith("_at_ms") ? name.slice(0, -3) : name;
  const value =
    base === "loaded_at"
      ? loadedAt
      : base in row
        ? row[base]
        : name === "load_seq"
          ? 0
          : (row.enriched?.[name] ?? null);
  if (!(value instanceof Date)) return value;
  if (name.endsWith("_ms")) return value.getTime();
  if (type.includes("DateTime64")) return value.toISOString().slice(0, 23).replace("T", " ");
  return Math.floor(value.getTime() / 1000);
}

/**
 * ClickHouse's own insert of the same rows: the sink's table (its migrate), rows encoded as
 * JSONEachRow beforehand (untimed), `INSERT INTO events FORMAT JSONEachRow` over HTTP, 5,000 rows
 * per insert. The server shares the machine's cores like DuckDB's engine runs do.
 */
async function clickHouseRun() {
  const server = await startClickHouse();
  try {
    const sink = await ClickHouseSink.open(server.url("bench"));
    await sink.migrate();
    await sink.close();
    // node:http without keep-alive: a connection per statement (ClickHouse closes idle ones after 3 s).
    const sql = (query, body = "") =>
      new Promise((resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            port: server.httpPort,
            method: "POST",
            path: `/?database=bench&query=${encodeURIComponent(query)}`,
            agent: false,
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (d) => (text += d));
            res.on("end", () =>
              res.statusCode === 200 ? resolve(text) : reject(new Error(`ClickHouse: ${res.statusCode} ${text}`)),
            );
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    const columns = (
      await sql(
        "SELECT name, type FROM system.columns WHERE database = 'bench' AND table = 'events' FORMAT JSONEachRow",
      )
    )
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const insert = `INSERT INTO events (${columns.map((c) => c.name).join(", ")}) FORMAT JSONEachRow`;
    let ms = 0;
    for (let start = 0; start < N; start += CHUNK) {
      const loadedAt = new Date();
      const body = rowsOf(start)
        .map((row, j) =>
          JSON.stringify(
            Object.fromEntries(
              columns.map(({ name, type }) => [
                name,
                name === "load_seq" ? start + j + 1 : clickHouseValue(row, name, type, loadedAt),
              ]),
            ),
          ),
        )
        .join("\n");
      const t = performance.now();
      await sql(insert, body);
      ms += performance.now() - t;
    }
    const count = Number(await sql("SELECT count() FROM events"));
    if (count !== N) throw new Error(`ClickHouse holds ${count} rows, not ${N}`);
    return N / (ms / 1000);
  } finally {
    await server.dispose();
  }
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

/** CPU seconds a process (or, under /proc/<pid>/task/<tid>, one of its threads) has used: utime + stime. */
function cpuSecondsOf(pid, tid) {
  const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
  const fields = readFileSync(path, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function loaderRun(dir, enrich) {
  const server = await startNatsServer({ domain: "hub", dir: join(dir, `nats-${enrich}`) });
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
    }
    const sink = await DuckDbSink.open(join(dir, `loader-${enrich}.duckdb`));
    await sink.migrate();
    await ensureConsumer(jsm, "EVENTS", loaderConsumerConfig({ durable: "bench", maxAckPending: 20_000 }));
    const consumer = await js.consumers.get("EVENTS", "bench");
    const messages = await consumer.consume({ max_messages: 15_000 });
    // A fresh enricher per run: uniqueness and bursts start from nothing, as in a new process.
    const stage = enrich ? newEnricher() : undefined;
    const pool = WORKERS > 0 ? new MappingPool({ workers: WORKERS, enricher: stage }) : undefined;
    const loader = new Loader({
      messages,
      js,
      sink,
      ...(pool ? { mapper: pool } : { toRow: (msg) => rowFromMessage(msg, stage) }),
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
    const cpu = {
      bench: process.cpuUsage(),
      main: cpuSecondsOf(process.pid, process.pid),
      nats: cpuSecondsOf(server.pid),
    };
    const running = loader.run();
    while (loader.counters.loaded < N) await new Promise((r) => setTimeout(r, 20));
    const seconds = (performance.now() - started) / 1000;
    const benchCpu = process.cpuUsage(cpu.bench);
    const mainCpu = cpuSecondsOf(process.pid, process.pid) - cpu.main;
    const natsCpu = cpuSecondsOf(server.pid) - cpu.nats;
    clearInterval(sampler);
    loader.stop();
    await running;
    await pool?.close();
    await sink.close();
    return {
      rate: N / seconds,
      seconds,
      peakRssMiB: peakRss / 2 ** 20,
      finalBatch: loader.adaptive.current,
      cpu: { bench: (benchCpu.user + benchCpu.system) / 1e6, main: mainCpu, nats: natsCpu },
    };
  } finally {
    await nc.drain();
    await server.cleanup();
  }
}

const dir = mkdtempSync(join(tmpdir(), "tributary-loader-bench-"));
try {
  const f = (n) => Math.round(n).toLocaleString("en");
  const engine = { rows: await engineRun(dir, "rows"), chunks: await engineRun(dir, "chunks") };
  const best = Math.max(engine.rows, engine.chunks);
  const clickhouse = values.clickhouse ? await clickHouseRun().catch((err) => err) : undefined;
  const enrichment = enrichmentRun();
  const runs = [];
  for (const enrich of [false, true])
    if (!values.only || values.only === (enrich ? "enrich" : "plain"))
      runs.push([enrich, await loaderRun(dir, enrich)]);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}`);
  console.log(
    `events: ${f(N)} × ${values.size} B; mapping ${WORKERS > 0 ? `on ${WORKERS} worker thread(s)` : "on the loader's thread"}`,
  );
  console.log(`engine, Appender row by row (keyed table, ${CHUNK}/append): ${f(engine.rows)} rows/s`);
  console.log(`engine, Appender data chunks (keyed table, ${CHUNK}/append): ${f(engine.chunks)} rows/s`);
  if (clickhouse instanceof Error)
    console.log(
      `ClickHouse engine: not measured (${clickhouse.message}${clickhouse.cause ? `: ${clickhouse.cause}` : ""})`,
    );
  else if (clickhouse !== undefined)
    console.log(`ClickHouse engine, INSERT … FORMAT JSONEachRow (${CHUNK}/insert): ${f(clickhouse)} rows/s`);
  console.log(`map + enrich alone (one thread):            ${f(enrichment)} events/s`);
  for (const [enrich, loader] of runs) {
    console.log(
      `loader, enrichment ${enrich ? "on " : "off"} (stream ▸ map ▸ batch ▸ DuckDB ▸ ack): ${f(loader.rate)} rows/s (${loader.seconds.toFixed(1)} s), ${((loader.rate / best) * 100).toFixed(0)}% of the engine; ` +
        `CPU ${loader.cpu.bench.toFixed(1)} s bench (${loader.cpu.main.toFixed(1)} s its main thread) + ${loader.cpu.nats.toFixed(1)} s nats-server; peak RSS ${loader.peakRssMiB.toFixed(0)} MiB (batch ended at ${loader.finalBatch})`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
