/**
 * `pnpm bench` (apps/gateway): one run, one process tree, one load generator (autocannon, in this
 * process), the same 50 connections and the same signed bodies for every scenario:
 *
 *   1. bare Fastify answering 202 (the ceiling),
 *   2. the real gateway (dist/main.js, its own process) verifying, validating and awaiting the PubAck
 *      of a file-backed stream on a real nats-server, with NATS' default fsync,
 *   3. the batch endpoint with 100-event NDJSON batches (events/s counted in the stream),
 *   4. 2–3 again with telemetry off (`off`: OTEL_SDK_DISABLED=true), with 1% of traces sampled
 *      (`sampled`) and with every request traced (`traced`), spans exported over OTLP to a local
 *      sink that reads and discards them: the cost of telemetry on the hot path, against `default`
 *      (metrics on, tracing off — the default configuration),
 *   5. and 2–3 again with `jetstream { sync_interval: always }` (fsync before every PubAck).
 *
 * After each gateway scenario the stream's message count is compared with the 202s (and accepted
 * batch items) the load generator saw: every acknowledged event must be stored.
 *
 * Env: BENCH_DURATION (seconds per scenario, default 10), BENCH_WARMUP (default 3),
 * BENCH_CONNECTIONS (default 50), BENCH_MODES (default "default,off,sampled,traced,sync"), BENCH_PROFILE=<dir>
 * (write a --cpu-prof profile of the gateway in default mode there).
 */
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import {
  findNatsServer,
  freePorts,
  startNatsServer,
  startService,
  type NatsServer,
  type Service,
} from "@tributary/testkit";

const SECRET = "bench-secret-0123456789abcdef";
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const MODES = (process.env.BENCH_MODES ?? "default,off,sampled,traced,sync").split(",").map((m) => m.trim());
const PROFILE_DIR = process.env.BENCH_PROFILE ? resolve(process.env.BENCH_PROFILE) : undefined;
const BATCH_SIZE = 100;
const HERE = fileURLToPath(new URL(".", import.meta.url));
const GATEWAY_MAIN = join(HERE, "..", "dist", "main.js");
const BARE = join(HERE, "bare.ts");

// ---- the same signed, unique events for every scenario ------------------------------------------

const runId = `${process.pid}-${Date.now().toString(36)}`;
let counter = 0;

/** A link.clicked event in the deep-link webhook envelope, unique per call (~230 bytes). */
function eventBody(timestamp: string): string {
  const n = counter++;
  return `{"event":"link.clicked","timestamp":"${timestamp}","data":{"link_id":"lnk_${runId}_${n}","url":"https://app.example.com/product/42","campaign":"spring-sale","platform":"ios"}}`;
}

function signed(body: string, contentType: string): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac("sha256", SECRET).update(`${timestamp}.`).update(body).digest("hex");
  return { "content-type": contentType, "x-webhook-timestamp": timestamp, "x-webhook-signature": signature };
}

interface Prepared {
  body: string;
  headers: Record<string, string>;
}

function makeSingle(): Prepared {
  const body = eventBody(new Date().toISOString());
  return { body, headers: signed(body, "application/json") };
}

function makeBatch(): Prepared {
  const timestamp = new Date().toISOString();
  const lines: string[] = [];
  for (let i = 0; i < BATCH_SIZE; i++) lines.push(eventBody(timestamp));
  const body = lines.join("\n");
  return { body, headers: signed(body, "application/x-ndjson") };
}

/**
 * Requests are signed before the run, so the load generator (which shares the machine) spends
 * its time sending, not hashing; if the pool runs dry, the rest are made on the fly. Every request
 * is unique (a new event), so the gateway never answers a cheaper `duplicate`.
 */
function pool(make: () => Prepared, size: number): (request: autocannon.Request) => autocannon.Request {
  const prepared = Array.from({ length: size }, make);
  let next = 0;
  return (request) => {
    const { body, headers } = next < prepared.length ? prepared[next++]! : make();
    return { ...request, body, headers };
  };
}

/** Single-event requests for one scenario: enough for ~15k req/s over warm-up and run. */
const singles = () => pool(makeSingle, Math.min(300_000, 15_000 * (WARMUP + DURATION)));
/**
 * Batches are made on the fly: one HMAC per 100 events is cheap next to sending 23 kB, and a pool
 * for 50k events/s would hold hundreds of MB.
 */
const batches = () => pool(makeBatch, 0);

// ---- load ---------------------------------------------------------------------------------------

interface Measured {
  scenario: string;
  requests: number;
  seconds: number;
  rps: number;
  okRps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** 202s seen by the load generator, warm-up included. */
  acknowledged: number;
  /** Events the stream gained during the scenario, warm-up included. */
  stored?: number;
  eventsPerSecond?: number;
}

async function load(
  base: string,
  path: string,
  make: (r: autocannon.Request) => autocannon.Request,
  seconds: number,
): Promise<autocannon.Result> {
  return autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    requests: [{ method: "POST", path, setupRequest: make }],
  });
}

async function measure(
  scenario: string,
  base: string,
  path: string,
  makeRequests: () => (r: autocannon.Request) => autocannon.Request,
): Promise<Measured> {
  const make = makeRequests();
  const warm = await load(base, path, make, WARMUP);
  const r = await load(base, path, make, DURATION);
  const statuses: Record<string, number> = {};
  for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) statuses[code] = stat.count ?? 0;
  return {
    scenario,
    requests: r.requests.total,
    seconds: r.duration,
    rps: Math.round(r.requests.total / r.duration),
    okRps: Math.round(r["2xx"] / r.duration),
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    statuses,
    errors: r.errors,
    timeouts: r.timeouts,
    acknowledged: (warm.statusCodeStats?.["202"]?.count ?? 0) + (statuses["202"] ?? 0),
  };
}

// ---- the systems under test ---------------------------------------------------------------------

async function startBare(): Promise<{ url: string; stop: () => Promise<unknown> }> {
  const [port] = await freePorts(1);
  const service = await startService({
    name: "bare",
    entry: BARE,
    env: { BARE_PORT: String(port) },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => service.stop() };
}

interface GatewayUnderLoad {
  url: string;
  nats: NatsServer;
  gateway: Service;
  dir: string;
  streamMessages(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Stands in for an OpenTelemetry Collector in `traced` mode: reads each OTLP request and answers
 * 200, so the gateway pays for recording, batching, encoding and sending its spans. It runs in the
 * load generator's process (reading bytes is cheap next to sending requests).
 */
async function startOtlpSink(): Promise<{
  url: string;
  requests: () => number;
  bytes: () => number;
  close: () => Promise<void>;
}> {
  let requests = 0;
  let bytes = 0;
  const server: Server = createServer((req, res) => {
    req.on("data", (chunk: Buffer) => (bytes += chunk.length));
    req.on("end", () => {
      requests++;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    bytes: () => bytes,
    close: () => new Promise<void>((resolveClose) => server.close(() => resolveClose())),
  };
}

async function startGateway(mode: string): Promise<GatewayUnderLoad> {
  const nats = await startNatsServer({
    domain: "us",
    ...(mode === "sync" ? { jetstreamExtra: "sync_interval: always" } : {}),
  });
  const dir = mkdtempSync(join(tmpdir(), "gw-bench-"));
  const [port] = await freePorts(1);
  writeFileSync(
    join(dir, "gateway.json"),
    JSON.stringify({
      region: "us",
      port,
      opsPort: 0,
      logLevel: "warn",
      nats: { servers: [nats.url] },
      sources: {
        demo: { scheme: { type: "webhook-hmac-sha256" }, secrets: [{ id: "bench", env: "BENCH_SECRET" }], batch: true },
      },
    }),
  );
  const env: NodeJS.ProcessEnv = { TRIBUTARY_CONFIG: join(dir, "gateway.json"), BENCH_SECRET: SECRET };
  const otlp = mode === "traced" || mode === "sampled" ? await startOtlpSink() : undefined;
  if (otlp) Object.assign(env, { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_METRICS_EXPORTER: "none" });
  if (mode === "sampled")
    Object.assign(env, { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.01" });
  if (mode === "off") env.OTEL_SDK_DISABLED = "true";
  if (PROFILE_DIR && mode === "default") {
    mkdirSync(PROFILE_DIR, { recursive: true });
    env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${PROFILE_DIR}`;
  }
  const url = `http://127.0.0.1:${port}`;
  const gateway = await startService({ name: `gateway-${mode}`, entry: GATEWAY_MAIN, env, readyUrl: `${url}/readyz` });
  return {
    url,
    nats,
    gateway,
    dir,
    async streamMessages() {
      const nc = await connect({ servers: [nats.url] });
      try {
        return (await (await jetstreamManager(nc)).streams.info("EVENTS_US")).state.messages;
      } finally {
        await nc.close();
      }
    },
    async stop() {
      const code = await gateway.stop();
      if (code !== 0) console.error(`gateway exited with ${code}:\n${gateway.output()}`);
      if (otlp) {
        console.log(
          `  ${mode}: the OTLP sink received ${otlp.requests()} export requests, ${Math.round(otlp.bytes() / 1024 / 1024)} MiB of spans`,
        );
        await otlp.close();
      }
      await nats.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- report -------------------------------------------------------------------------------------

function row(m: Measured): string {
  const extra = m.eventsPerSecond !== undefined ? ` | ${m.eventsPerSecond.toLocaleString("en")} events/s` : "";
  const statuses = Object.entries(m.statuses)
    .map(([s, n]) => `${s}×${n}`)
    .join(" ");
  return `| ${m.scenario} | ${m.okRps.toLocaleString("en")} | ${m.p50} | ${m.p99} | ${m.max} | ${statuses} | ${m.errors}/${m.timeouts}${extra} |`;
}

function natsVersion(): string {
  try {
    return execFileSync(findNatsServer(), ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

async function main(): Promise<void> {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}, ${natsVersion()}, load average before: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`;
  console.log(
    `gateway bench: ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s per scenario\nmachine: ${machine}\n`,
  );
  const results: Measured[] = [];
  const failures: string[] = [];

  const bare = await startBare();
  try {
    results.push(await measure("bare Fastify 202", bare.url, "/v1/sources/demo/events", singles));
    console.log(row(results.at(-1)!));
  } finally {
    await bare.stop();
  }

  for (const mode of MODES) {
    const gw = await startGateway(mode);
    try {
      const before = await gw.streamMessages();
      const single = await measure(`gateway, NATS ${mode}`, gw.url, "/v1/sources/demo/events", singles);
      const afterSingle = await gw.streamMessages();
      single.stored = afterSingle - before;
      results.push(single);
      console.log(row(single));

      const batch = await measure(`batch ×${BATCH_SIZE}, NATS ${mode}`, gw.url, "/v1/sources/demo/batch", batches);
      const afterBatch = await gw.streamMessages();
      // Every event is unique, so a 202 batch is BATCH_SIZE new messages.
      batch.acknowledged *= BATCH_SIZE;
      batch.stored = afterBatch - afterSingle;
      batch.eventsPerSecond = Math.round(((batch.statuses["202"] ?? 0) * BATCH_SIZE) / batch.seconds);
      results.push(batch);
      console.log(row(batch));
      for (const m of [single, batch]) {
        console.log(`  ${m.scenario}: ${m.acknowledged} events acknowledged (with warm-up), ${m.stored} stored`);
        if (m.stored! < m.acknowledged)
          failures.push(`${m.scenario}: ${m.acknowledged} events acknowledged but only ${m.stored} stored`);
      }
    } finally {
      await gw.stop();
    }
  }

  const bareRps = results[0]!.okRps;
  console.log(`\n| scenario | 2xx req/s | p50 ms | p99 ms | max ms | statuses | errors/timeouts |`);
  console.log(`| --- | --- | --- | --- | --- | --- | --- |`);
  for (const m of results) console.log(row(m));
  console.log("");
  for (const m of results.slice(1)) {
    if (m.eventsPerSecond === undefined)
      console.log(
        `${m.scenario}: ${((m.okRps / bareRps) * 100).toFixed(1)}% of bare Fastify (goal ≥ 50%), p99 ${m.p99} ms (goal < 10 ms)`,
      );
    else
      console.log(
        `${m.scenario}: ${m.eventsPerSecond.toLocaleString("en")} events/s (goal ≥ 50,000), p99 ${m.p99} ms per batch`,
      );
  }
  // Telemetry's cost: each mode against telemetry off, single events and batches.
  const off = results.find((m) => m.scenario === "gateway, NATS off");
  const offBatch = results.find((m) => m.scenario === `batch ×${BATCH_SIZE}, NATS off`);
  for (const mode of ["default", "sampled", "traced"]) {
    const single = results.find((m) => m.scenario === `gateway, NATS ${mode}`);
    const batch = results.find((m) => m.scenario === `batch ×${BATCH_SIZE}, NATS ${mode}`);
    if (off && single)
      console.log(
        `telemetry ${mode}: ${((single.okRps / off.okRps) * 100).toFixed(1)}% of the throughput with telemetry off (p99 ${single.p99} vs ${off.p99} ms)`,
      );
    if (offBatch?.eventsPerSecond && batch?.eventsPerSecond)
      console.log(
        `telemetry ${mode}, batches: ${((batch.eventsPerSecond / offBatch.eventsPerSecond) * 100).toFixed(1)}% of the events/s with telemetry off`,
      );
  }
  console.log(`\n${JSON.stringify({ machine, connections: CONNECTIONS, duration: DURATION, results })}`);
  if (failures.length > 0) {
    console.error(`\nFAILED:\n${failures.join("\n")}`);
    process.exitCode = 1;
  }
}

await main();
