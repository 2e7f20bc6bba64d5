// Ad-hoc: one pull consumer with several filter subjects vs one covering filter subject, on the running nats-server.
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy } from "@nats-io/jetstream";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
const dir = mkdtempSync(join(tmpdir(), "filt-"));
const port = 14999;
const srv = spawn(process.env.NATS_BIN, ["-js", "-sd", dir, "-p", String(port), "-a", "127.0.0.1"], { stdio: "ignore" });
await new Promise((r) => setTimeout(r, 800));
const nc = await connect({ servers: `127.0.0.1:${port}` });
const jsm = await jetstreamManager(nc);
await jsm.streams.add({ name: "EVENTS", subjects: ["events.>", "replay.>"] });
const js = jetstream(nc);
const types = ["link.clicked", "link.opened", "install.tracked", "referral.created", "link.conversion"];
const body = new Uint8Array(400);
const N = Number(process.argv[2] ?? 20000);
let pend = [];
for (let i = 0; i < N; i++) {
  pend.push(js.publish(`events.${i % 2 ? "us" : "eu"}.${i % 3 ? "demo" : "other"}.${types[i % 5]}`, body));
  if (pend.length >= 500) { await Promise.all(pend); pend = []; }
}
await Promise.all(pend);
async function drain(name, cfg) {
  await jsm.consumers.add("EVENTS", { durable_name: name, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 1000, ...cfg });
  const c = await js.consumers.get("EVENTS", name);
  const info = await c.info();
  const want = info.num_pending;
  const t0 = performance.now();
  let got = 0;
  while (got < want) {
    const batch = await c.fetch({ max_messages: 256, expires: 2000 });
    for await (const m of batch) { m.ack(); got++; }
  }
  const ms = performance.now() - t0;
  return { name, matched: want, perSecond: Math.round(want / (ms / 1000)) };
}
const multi = await drain("multi", { filter_subjects: ["events.*.demo.link.clicked", "events.*.demo.install.tracked", "events.*.demo.link.conversion", "replay.demo"] });
const single = await drain("single", { filter_subject: "events.*.demo.>" });
const multi2 = await drain("multi2", { filter_subjects: ["events.*.demo.link.clicked", "events.*.demo.install.tracked", "events.*.demo.link.conversion", "replay.demo"] });
const single2 = await drain("single2", { filter_subject: "events.*.demo.>" });
console.log(JSON.stringify({ version: nc.info.version, events: N, runs: [multi, single, multi2, single2] }));
await nc.close();
srv.kill();
