// One destination's pathological filter or transform beside a plain one, in one process: B's
// delivery latency (publish to receipt, a paced trickle) and the event loop's longest delay while
// A's sandbox chews on its events, against a run without A. Not a throughput benchmark: a few
// hundred events, about a minute.
//   pnpm --filter @tributary/delivery bench:isolation [--events 200]     (after a build: it runs dist/)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import Fastify from "fastify";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  connectNats,
  deliveriesStreamConfig,
  deliveryConsumerConfig,
  deliveryDlqStreamConfig,
  deliveryFilterSubjects,
  deliveryReplayConsumerConfig,
  deliveryReplayStreamConfig,
  ensureConsumer,
  ensureStream,
  eventSubject,
  hubStreamConfig,
  publishEvent,
} from "@tributary/streams";
import { startNatsServer } from "@tributary/testkit";
import { validateConfig } from "@tributary/config";
import { Deliverer, DestinationSchema } from "../dist/index.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: { events: { type: "string", default: "200" } },
});
const N = Number(values.events);
const silent = { info() {}, warn() {}, error() {} };
const PATHOLOGICAL = {
  none: undefined,
  "filter: $sort of 20,000 (one step, ~1.5 s of CPU)": {
    filter: "$count($sort([1..20000])) > 0",
    sandbox: { filterTimeoutMs: 100 },
  },
  "transform: a loop (QuickJS, 400 ms CPU limit)": {
    transform: "function transform(e) { for (;;) {} }",
    sandbox: { timeoutMs: 400 },
  },
};

const dir = mkdtempSync(join(tmpdir(), "tributary-isolation-bench-"));
const server = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
const received = new Map();
const dest = Fastify({ logger: false });
dest.post("/hook", async (request, reply) => {
  received.set(String(request.headers["webhook-id"]), Date.now());
  return reply.code(204).send();
});
const url = `${await dest.listen({ host: "127.0.0.1", port: 0 })}/hook`;

try {
  const nc = await connectNats({ servers: [server.url], name: "bench" });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const hub = hubStreamConfig({ regions: [] });
  await ensureStream(jsm, { ...hub, subjects: [...hub.subjects, "events.>"] });
  for (const config of [deliveryDlqStreamConfig(), deliveryReplayStreamConfig(), deliveriesStreamConfig()])
    await ensureStream(jsm, config);
  const publish = (source, key) =>
    publishEvent(js, {
      subject: eventSubject("us", source, "link.clicked"),
      body: new TextEncoder().encode(JSON.stringify({ event: "link.clicked", data: { link_id: key } })),
      eventKey: key,
      source,
      region: "us",
      eventType: "link.clicked",
      receivedAt: new Date(),
    });
  const deliverer = async (raw) => {
    const config = validateConfig(DestinationSchema, {
      url,
      start: "new",
      signing: { type: "none" },
      allowPrivate: ["127.0.0.0/8"],
      retry: { maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 200 },
      ...raw,
    });
    const consumer = deliveryConsumerConfig({
      destination: config.name,
      filterSubjects: deliveryFilterSubjects(config.sources, config.types),
      maxAckPending: 64,
      ackWaitMs: 30_000,
      deliverPolicy: "new",
    });
    await ensureConsumer(jsm, "EVENTS", consumer);
    await ensureConsumer(
      jsm,
      "DELIVERY_REPLAY",
      deliveryReplayConsumerConfig({ destination: config.name, maxAckPending: 64, ackWaitMs: 30_000 }),
    );
    const d = await Deliverer.create({
      config,
      js,
      consumers: [
        await js.consumers.get("EVENTS", consumer.durable_name),
        await js.consumers.get("DELIVERY_REPLAY", `${consumer.durable_name}-replay`),
      ],
      signingKeys: [],
      ackWaitMs: 30_000,
      log: silent,
      recordAttempts: false,
    });
    return { d, running: d.run() };
  };

  console.log(`| A (same process) | B deliveries | B latency p50 ms | p99 ms | max ms | event loop max delay ms |`);
  console.log(`| --- | --- | --- | --- | --- | --- |`);
  let run = 0;
  for (const [label, heavy] of Object.entries(PATHOLOGICAL)) {
    run++;
    const b = await deliverer({ name: `plain${run}`, sources: [`b${run}`] });
    const a = heavy ? await deliverer({ name: `heavy${run}`, sources: [`a${run}`], ...heavy }) : undefined;
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    if (a) for (let i = 0; i < 20; i++) await publish(`a${run}`, `a${run}:${i}`);
    const sentAt = new Map();
    for (let i = 0; i < N; i++) {
      const key = `b${run}:${i}`;
      sentAt.set(key, Date.now());
      await publish(`b${run}`, key);
      await new Promise((r) => setTimeout(r, 20));
    }
    while ([...sentAt.keys()].some((k) => !received.has(k))) await new Promise((r) => setTimeout(r, 20));
    loop.disable();
    const latencies = [...sentAt].map(([k, t]) => received.get(k) - t).sort((x, y) => x - y);
    const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
    console.log(`| ${label} | ${N} | ${at(0.5)} | ${at(0.99)} | ${latencies.at(-1)} | ${Math.round(loop.max / 1e6)} |`);
    for (const x of [b, a]) {
      if (!x) continue;
      x.d.stop();
      await x.running;
      await x.d.close();
    }
  }
  await nc.close();
} finally {
  await dest.close();
  await server.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
