// Probe: what acking every message costs against acking by batch (AckPolicy.All), on a real
// nats-server: CPU of the server and of this process while one pull consumer drains a backlog.
import { readFileSync } from "node:fs";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connectNats } from "@tributary/streams";
import { startNatsServer } from "@tributary/testkit";

const N = Number(process.argv[2] ?? 200000);
const cpu = (pid) => {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};
const server = await startNatsServer({ domain: "hub" });
try {
  const nc = await connectNats({ servers: [server.url], name: "probe" });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "S", subjects: ["s.>"] });
  const js = jetstream(nc);
  const body = new Uint8Array(1024).fill(97);
  const pending = [];
  for (let i = 0; i < N; i++) {
    pending.push(js.publish(`s.${i % 8}`, body));
    if (pending.length >= 512) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  for (const [name, policy, every] of [
    ["explicit, each", AckPolicy.Explicit, 1],
    ["all, every 256th", AckPolicy.All, 256],
    ["explicit, each (again)", AckPolicy.Explicit, 1],
    ["all, every 256th (again)", AckPolicy.All, 256],
  ]) {
    const durable = `c${Math.random().toString(36).slice(2, 8)}`;
    await jsm.consumers.add("S", {
      durable_name: durable,
      ack_policy: policy,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: 10000,
    });
    const c = await js.consumers.get("S", durable);
    const s0 = cpu(server.pid),
      p0 = process.cpuUsage(),
      t0 = performance.now();
    const msgs = await c.consume({ max_messages: 1000 });
    let n = 0;
    for await (const m of msgs) {
      n++;
      if (n % every === 0 || n === N) m.ack();
      if (n === N) break;
    }
    await nc.flush();
    const sec = (performance.now() - t0) / 1000;
    const p = process.cpuUsage(p0);
    console.log(
      `${name}: ${sec.toFixed(1)} s (${Math.round(N / sec)} msg/s); nats-server ${(((cpu(server.pid) - s0) / N) * 1e6).toFixed(1)} µs/msg, client ${((p.user + p.system) / N).toFixed(1)} µs/msg`,
    );
    await msgs.close();
    await jsm.consumers.delete("S", durable);
  }
  await nc.close();
} finally {
  await server.cleanup();
}
