// The aggregator process's RSS while it drains a backlog: a real aggregator (apps/aggregator
// dist/main.js) on its own process, fed a pre-published backlog, its RSS sampled from /proc.
//   node bench/aggregator-rss.bench.mjs [--events 1000000]
import { readdirSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { headers as createHeaders } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connectNats, ensureStream, EventHeader, hubStreamConfig } from "@tributary/streams";
import { freePorts, startNatsServer, startService } from "@tributary/testkit";
import { clickBodies } from "./events.mjs";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: { events: { type: "string", default: "1000000" } },
});
const N = Number(values.events);

/** CPU seconds (user + system) each thread of a process has used, summed by thread name. */
function cpuByThread(pid) {
  const byName = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const seconds = (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
    byName.set(name, (byName.get(name) ?? 0) + seconds);
  }
  return byName;
}
const dir = mkdtempSync(join(tmpdir(), "tributary-agg-rss-"));
const server = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
try {
  const nc = await connectNats({ servers: [server.url], name: "bench" });
  const hub = hubStreamConfig({ regions: [], maxBytes: 8 * 1024 ** 3 });
  await ensureStream(await jetstreamManager(nc), { ...hub, subjects: [...hub.subjects, "events.>"] });
  const js = jetstream(nc);
  // Clicks with the spread real traffic has (events.mjs): tens of thousands of addresses, a few
  // hundred user agents, so the enrich stage's caches and workers see production's work.
  const nextBody = clickBodies();
  const encoder = new TextEncoder();
  const pending = [];
  for (let i = 0; i < N; i++) {
    const h = createHeaders();
    h.set(EventHeader.MsgId, `demo:e-${i}`);
    h.set(EventHeader.Source, "demo");
    h.set(EventHeader.Region, "us");
    h.set(EventHeader.ReceivedAt, new Date().toISOString());
    h.set(EventHeader.EventType, "link.clicked");
    pending.push(js.publish("events.us.demo.link.clicked", encoder.encode(nextBody()), { headers: h }));
    if (pending.length >= 512) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await nc.close();

  const [port] = await freePorts(1);
  writeFileSync(
    join(dir, "aggregator.json"),
    JSON.stringify({
      port,
      // /v1/stats (how many rows loaded) answers token-less callers only on loopback with this on.
      host: "127.0.0.1",
      operatorLoopback: true,
      logLevel: "warn",
      warehouseUrl: `duckdb://${join(dir, "events.duckdb")}`,
      nats: { servers: [server.url] },
      stream: "EVENTS",
    }),
  );
  const natsCpuBefore = cpuByThread(server.pid); // publishing the backlog is not the drain's
  const started = performance.now();
  const aggregator = await startService({
    name: "aggregator",
    entry: fileURLToPath(new URL("../../../apps/aggregator/dist/main.js", import.meta.url)),
    env: { TRIBUTARY_CONFIG: join(dir, "aggregator.json"), NODE_OPTIONS: process.env.AGGREGATOR_NODE_OPTIONS ?? "" },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
  });
  const rss = () =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${aggregator.process.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  let peak = 0;
  let loaded = 0;
  let lastPrint = 0;
  while (loaded < N) {
    peak = Math.max(peak, rss());
    if (performance.now() - lastPrint > 10_000) {
      lastPrint = performance.now();
      console.log(`  ${((lastPrint - started) / 1000).toFixed(0)} s: ${loaded} loaded, RSS ${rss().toFixed(0)} MiB`);
    }
    await new Promise((r) => setTimeout(r, 250));
    loaded = (await (await fetch(`http://127.0.0.1:${port}/v1/stats`)).json()).loader?.loaded ?? 0;
  }
  const seconds = (performance.now() - started) / 1000;
  const aggregatorCpu = cpuByThread(aggregator.process.pid);
  const natsCpu = cpuByThread(server.pid);
  for (const [name, seconds] of natsCpuBefore) natsCpu.set(name, (natsCpu.get(name) ?? 0) - seconds);
  await aggregator.stop();
  console.log(
    `aggregator drained ${N} events of ~1 KiB in ${seconds.toFixed(0)} s (${Math.round(N / seconds)} rows/s), peak RSS ${peak.toFixed(0)} MiB (defaults: maxAckPending 10,000, batches ≤ 1,000, DuckDB memory_limit 512MB)`,
  );
  // CPU seconds over the whole run (start-up included), per thread name: where the cores went.
  const perEvent = (s) => `${((s / N) * 1e6).toFixed(0)} µs/event`;
  for (const [name, byThread] of [
    ["aggregator", aggregatorCpu],
    ["nats-server", natsCpu],
  ]) {
    const total = [...byThread.values()].reduce((a, b) => a + b, 0);
    const parts = [...byThread].sort((a, b) => b[1] - a[1]).map(([t, s]) => `${t} ${s.toFixed(1)} s`);
    console.log(`  CPU ${name}: ${total.toFixed(1)} s (${perEvent(total)}) — ${parts.join(", ")}`);
  }
} finally {
  await server.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
