// Deliveries per second from one process to a fast local destination (a Fastify process that
// answers 204), draining a backlog already in the hub stream. One run measures several
// configurations against each other, so their ratios are comparable:
//   plain      no signing, no filter, no transform
//   signed     Standard Webhooks HMAC signature per request (the default)
//   filtered   signed + a JSONata filter every event passes
//   transform  signed + a QuickJS transform per event
//   pnpm --filter @tributary/delivery bench [--events 20000] [--in-flight 64]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  connectNats,
  deliveriesStreamConfig,
  deliveryConsumerConfig,
  deliveryDlqStreamConfig,
  deliveryFilterSubjects,
  ensureConsumer,
  ensureStream,
  eventSubject,
  hubStreamConfig,
  publishEvent,
} from "@tributary/streams";
import { startNatsServer } from "@tributary/testkit";
import { standardWebhooksSigningKey } from "@tributary/verify";
import { validateConfig } from "@tributary/config";
import { Deliverer, DestinationSchema } from "../dist/index.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: {
    events: { type: "string", default: "20000" },
    "in-flight": { type: "string", default: "64" },
  },
});
const N = Number(values.events);
const IN_FLIGHT = Number(values["in-flight"]);
const SECRET = "whsec_" + Buffer.from("delivery-bench-secret-00000001").toString("base64");
const silent = { info() {}, warn() {}, error() {} };

const dir = mkdtempSync(join(tmpdir(), "tributary-delivery-bench-"));
const server = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
const destination = spawn(process.execPath, [join(import.meta.dirname, "destination.mjs")], {
  stdio: ["ignore", "pipe", "inherit"],
});
const url = `${await new Promise((resolve) => createInterface({ input: destination.stdout }).once("line", resolve))}/hook`;

try {
  const nc = await connectNats({ servers: [server.url], name: "bench" });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const hub = hubStreamConfig({ regions: [] });
  await ensureStream(jsm, { ...hub, subjects: [...hub.subjects, "events.>"] });
  await ensureStream(jsm, deliveryDlqStreamConfig());
  await ensureStream(jsm, deliveriesStreamConfig());

  const pending = [];
  for (let i = 0; i < N; i++) {
    const body = JSON.stringify({
      event: "link.clicked",
      timestamp: new Date().toISOString(),
      data: { link_id: `lnk_${i}`, campaign: "bench", country: "US", filler: "x".repeat(300) },
    });
    pending.push(
      publishEvent(js, {
        subject: eventSubject("us", "demo", "link.clicked"),
        body: new TextEncoder().encode(body),
        eventKey: `demo:e-${i}`,
        source: "demo",
        region: "us",
        eventType: "link.clicked",
        receivedAt: new Date(),
      }),
    );
    if (pending.length >= 512) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);

  const runs = [
    ["warm-up", { signing: { type: "none" } }], // JIT and connection warm-up, not reported
    ["plain", { signing: { type: "none" } }],
    ["signed", {}],
    ["filtered", { filter: 'body.data.country = "US" and type = "link.clicked"' }],
    [
      "transform",
      {
        transform:
          "function transform(e) { return { id: e.key, link: e.body.data.link_id, campaign: e.body.data.campaign }; }",
      },
    ],
  ];
  const results = [];
  for (const [name, extra] of runs) {
    const config = validateConfig(DestinationSchema, {
      name: `bench-${name}`,
      url,
      start: "all",
      maxInFlight: IN_FLIGHT,
      signing: { secrets: [{ id: "k", env: "X" }] },
      ...extra,
    });
    await ensureConsumer(
      jsm,
      "EVENTS",
      deliveryConsumerConfig({
        destination: config.name,
        filterSubjects: deliveryFilterSubjects([], []),
        maxAckPending: IN_FLIGHT * 4,
        ackWaitMs: 30_000,
      }),
    );
    const consumer = await js.consumers.get("EVENTS", `delivery-${config.name}`);
    const latencies = [];
    const deliverer = await Deliverer.create({
      config,
      js,
      consumers: [consumer],
      signingKeys: config.signing.type === "none" ? [] : [standardWebhooksSigningKey(SECRET)],
      ackWaitMs: 30_000,
      log: silent,
      onAttempt: (r) => latencies.push(r.latency_ms),
    });
    const started = performance.now();
    const running = deliverer.run();
    while (deliverer.stats.delivered < N) await new Promise((r) => setTimeout(r, 5));
    const seconds = (performance.now() - started) / 1000;
    deliverer.stop();
    await running;
    await deliverer.close();
    latencies.sort((a, b) => a - b);
    const p = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1);
    results.push({
      name,
      perSecond: Math.round(N / seconds),
      p50: p(0.5),
      p99: p(0.99),
      retried: deliverer.stats.retried,
      dlq: deliverer.stats.dlq,
    });
  }
  const received = await (await fetch(url.replace("/hook", "/count"))).json();
  results.shift();
  const base = results[0].perSecond;
  console.log(
    `delivery bench: ${N} events of ~400 bytes per run, maxInFlight ${IN_FLIGHT}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}`,
  );
  console.log("| run | deliveries/s | vs plain | attempt p50 ms | attempt p99 ms | retried | dlq |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const r of results)
    console.log(
      `| ${r.name} | ${r.perSecond} | ${(r.perSecond / base).toFixed(2)} | ${r.p50} | ${r.p99} | ${r.retried} | ${r.dlq} |`,
    );
  console.log(`destination counted ${received.count} requests for ${N * runs.length} deliveries`);
  await nc.close();
} finally {
  destination.kill("SIGTERM");
  await server.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
